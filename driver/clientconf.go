package driver

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// SDKEnv holds the retry settings the AWS SDK itself takes from its
// environment when a program configures nothing: AWS_RETRY_MODE and
// AWS_MAX_ATTEMPTS, then retry_mode and max_attempts of the shared config
// file's profile (AWS_PROFILE, default "default"), as
// config.LoadDefaultConfig resolves them.
type SDKEnv struct {
	// RetryMode is the canonical scenario retry mode (RetryStandard,
	// RetryAdaptive); "" = not set. RetryModeSource names where it came
	// from, such as "environment AWS_RETRY_MODE".
	RetryMode       string
	RetryModeSource string
	// MaxAttempts is the attempt bound; 0 = not set. MaxAttemptsSource
	// names where it came from.
	MaxAttempts       int
	MaxAttemptsSource string
}

// LoadSDKEnv reads the SDK's retry settings from the environment and the
// shared config file with aws-sdk-go-v2/config, as the SDK does: the
// environment wins over the file. A missing file or profile is not an
// error; an invalid value is, as it is for the SDK.
func LoadSDKEnv(ctx context.Context) (SDKEnv, error) {
	var e SDKEnv
	env, err := config.NewEnvConfig()
	if err != nil {
		return e, fmt.Errorf("driver: SDK environment: %w", err)
	}
	if env.RetryMode != "" {
		e.RetryMode, e.RetryModeSource = string(env.RetryMode), report.SourceEnvironment+" AWS_RETRY_MODE"
	}
	if env.RetryMaxAttempts != 0 {
		e.MaxAttempts, e.MaxAttemptsSource = env.RetryMaxAttempts, report.SourceEnvironment+" AWS_MAX_ATTEMPTS"
	}
	if e.RetryMode == "" || e.MaxAttempts == 0 {
		profile := env.SharedConfigProfile
		if profile == "" {
			profile = config.DefaultSharedConfigProfile
		}
		sc, err := config.LoadSharedConfigProfile(ctx, profile, func(o *config.LoadSharedConfigOptions) {
			if env.SharedConfigFile != "" { // AWS_CONFIG_FILE, as LoadDefaultConfig honours it
				o.ConfigFiles = []string{env.SharedConfigFile}
			}
			if env.SharedCredentialsFile != "" {
				o.CredentialsFiles = []string{env.SharedCredentialsFile}
			}
		})
		var notExist config.SharedConfigProfileNotExistError
		switch {
		case errors.As(err, &notExist):
		case err != nil:
			return e, fmt.Errorf("driver: SDK shared config: %w", err)
		default:
			where := fmt.Sprintf("%s (profile %s)", report.SourceSharedConfig, profile)
			if e.RetryMode == "" && sc.RetryMode != "" {
				e.RetryMode, e.RetryModeSource = string(sc.RetryMode), where+" retry_mode"
			}
			if e.MaxAttempts == 0 && sc.RetryMaxAttempts != 0 {
				e.MaxAttempts, e.MaxAttemptsSource = sc.RetryMaxAttempts, where+" max_attempts"
			}
		}
	}
	if e.RetryMode != "" {
		m, ok := scenario.ParseRetryMode(e.RetryMode)
		if !ok || m == scenario.RetryNone { // the SDK knows standard and adaptive only
			return e, fmt.Errorf("%w: %s: unknown retry mode %q", ErrBadOptions, e.RetryModeSource, e.RetryMode)
		}
		e.RetryMode = m
	}
	if e.MaxAttempts < 0 {
		return e, fmt.Errorf("%w: %s: max attempts %d", ErrBadOptions, e.MaxAttemptsSource, e.MaxAttempts)
	}
	return e, nil
}

// clientConf is a workload's effective SDK client: each setting with its
// source.
type clientConf struct {
	scenario.EffectiveClient
	info report.ClientInfo
	// tokens is the retry token bucket the client starts with at the
	// run's scale (EffectiveClient.ScaledTokens).
	tokens int
}

// retryer returns a new SDK retryer with c's settings, its backoff
// jitter traffic.JitterDraw's under jitterSeed unless that is 0.
// Workloads that share a client share the one retryer of that client.
func (c clientConf) retryer(jitterSeed int64) aws.Retryer {
	r := c.sdkRetryer()
	if v2, ok := r.(aws.RetryerV2); ok && jitterSeed != 0 && c.Retry != scenario.RetryNone {
		return newSeededRetryer(v2, jitterSeed, c.Backoff())
	}
	return r
}

// sdkRetryer returns the SDK's retryer with c's settings.
func (c clientConf) sdkRetryer() aws.Retryer {
	if c.Retry == scenario.RetryNone {
		return aws.NopRetryer{}
	}
	std := func(o *retry.StandardOptions) {
		if c.MaxAttempts > 0 {
			o.MaxAttempts = c.MaxAttempts
		}
		if c.MaxBackoff > 0 {
			o.MaxBackoff = c.MaxBackoff
		}
		switch {
		case c.tokens == scenario.RetryBucketNone:
			o.RateLimiter = ratelimit.None
		case c.tokens > 0:
			o.RateLimiter = ratelimit.NewTokenRateLimit(uint(c.tokens))
		}
	}
	if c.Retry == scenario.RetryAdaptive {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, std)
		})
	}
	return retry.NewStandard(std)
}

// clientKey identifies one SDK client of a measured window: a shared
// client has one per caller account and Region.
type clientKey struct {
	name, account, region string
	shared                bool
}

// annotateClients fills each workload result's Client and
// RetryQuotaExhausted.
func (d *Driver) annotateClients(ws []report.Workload) {
	clients := make([]report.WorkloadClient, len(d.wls))
	for i, w := range d.wls {
		clients[i] = report.WorkloadClient{Workload: w.Spec.Name, Client: w.client.info}
	}
	report.AnnotateClients(ws, clients)
}

// windowClient returns the SDK client of workload w in region for one
// measured window: a new client (and retryer) for a workload with a client
// of its own, the one client of the window per shared name, caller account
// and Region otherwise.
func (d *Driver) windowClient(ctx context.Context, clients map[clientKey]*kms.Client, w *workload, region string) (*kms.Client, error) {
	k := clientKey{name: w.client.Name, account: w.Caller.ID, region: region, shared: w.client.Shared}
	if !k.shared {
		k.name = "workload:" + w.Spec.Name
	}
	if c, ok := clients[k]; ok {
		return c, nil
	}
	c, err := d.newClient(ctx, w.Caller.ID, region, w.client.retryer(d.opts.JitterSeed), true)
	if err != nil {
		return nil, err
	}
	clients[k] = c
	return c, nil
}

// checkSharedClients refuses workloads that share a client with different
// retry settings: one client has one retryer.
func (d *Driver) checkSharedClients() error {
	names := make([]string, len(d.wls))
	clients := make([]scenario.EffectiveClient, len(d.wls))
	for i, w := range d.wls {
		names[i], clients[i] = w.Spec.Name, w.client.EffectiveClient
	}
	if a, b, c, found := scenario.SharedClientConflict(names, clients); found {
		return fmt.Errorf("%w: workloads %s and %s share client %s with different retry settings", ErrBadOptions, a, b, c)
	}
	return nil
}
