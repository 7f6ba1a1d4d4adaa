package driver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/internal/conns"
	"github.com/kmsload/kmsload/internal/h1"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

// Target kinds.
const (
	TargetEmbedded = "embedded" // the in-process emulator (the caller starts it)
	TargetEndpoint = "endpoint" // another KMS-compatible endpoint
	TargetAWS      = "aws"      // real AWS KMS through the default credential chain
)

// Defaults.
const (
	// DefaultPoolSize is how many ciphertexts, MACs or signatures are
	// prepared per Decrypt, ReEncrypt, VerifyMac or Verify workload.
	DefaultPoolSize = 64
)

// HTTP clients of Options.HTTPClient.
const (
	// HTTPClientStd is net/http's Transport.
	HTTPClientStd = "std"
	// HTTPClientFast is kmsload's own plain-HTTP/1.1 client.
	HTTPClientFast = "fast"
	// DefaultHTTPClient is the client when Options.HTTPClient is "": fast,
	// which in make bench on the null handler (2 cores) took 0.81x and
	// 0.94x the CPU per request of std at one rate, and sustained 1.5x and
	// 2.1x its highest open-loop rate, in two runs.
	DefaultHTTPClient = HTTPClientFast
)

// Errors callers may branch on.
var (
	// ErrBadOptions is wrapped by New for unusable options.
	ErrBadOptions = errors.New("driver: invalid options")
	// ErrProvision is wrapped by Run when preparing keys or pools failed.
	ErrProvision = errors.New("driver: provisioning failed")
)

// Target says where requests go.
type Target struct {
	// Kind is "embedded", "endpoint" or "aws".
	Kind string
	// Endpoint is the base URL for embedded and endpoint targets, e.g.
	// "http://127.0.0.1:4599"; "" for aws.
	Endpoint string
	// HTTPClient is used for every request when set; nil means a client
	// whose transport keeps enough idle connections per host for the
	// largest in-flight bound.
	HTTPClient *http.Client
	// Server names the KMS server behind Endpoint when known (ServerMoto,
	// ServerLocalKMS, ServerLocalStack, ServerKmsload; see Identify). With
	// ServerMoto every request carries MotoAccountHeader, so that each
	// scenario account is an account of its own in moto. Run checks an
	// endpoint target with Preflight before provisioning.
	Server string
}

// Options configure a Driver. The zero values of the optional fields take
// the scenario's values or the Default* constants.
type Options struct {
	// Scenario is the validated scenario to replay.
	Scenario *scenario.Scenario
	// Target is where requests go.
	Target Target
	// Duration of each measured window; 0 = the scenario's.
	Duration time.Duration
	// Scale multiplies workload rates; 0 = the scenario's (1 when unset).
	Scale float64
	// Retry overrides every workload's retry mode when not "" (kmsload
	// run --retry): sdk-standard (or standard), none or adaptive.
	Retry string
	// Client overrides the scenario's client settings of every workload:
	// each field that is set wins over the workload's and the scenario's
	// (a study variant). ClientSource names the override in the results;
	// "" = report.SourceStudyVariant.
	Client       scenario.Client
	ClientSource string
	// SDKEnv, when set, stands for the SDK's environment (AWS_RETRY_MODE,
	// AWS_MAX_ATTEMPTS, the shared config file), which decides what
	// neither the override nor the scenario sets; nil = LoadSDKEnv.
	SDKEnv *SDKEnv
	// MaxConns caps the connections open to each KMS endpoint host; 0 =
	// DefaultMaxConns, negative = no cap. A request that finds every
	// connection busy waits for one (the wait is part of its service time)
	// instead of dialling: without a cap, a short stall of the machine at
	// a high rate makes every queued request dial at once, and the dialling
	// costs the CPU the requests need. Results.Target reports the cap and
	// the most connections open; Run warns when the cap was reached.
	// Ignored when Target.HTTPClient is set.
	MaxConns int
	// HTTPClient picks what carries the requests of embedded and endpoint
	// targets: HTTPClientStd (net/http's Transport) or HTTPClientFast
	// (kmsload's own HTTP/1.1 client, which sends each request on the
	// worker's goroutine without copying it). Fast applies to plain
	// http:// endpoints that no proxy of the environment applies to; for
	// any other endpoint, and for target aws, std carries the requests
	// (and New says so when fast was asked for). "" = DefaultHTTPClient.
	// Results.Target.HTTPClient records the client used. Ignored when
	// Target.HTTPClient is set.
	HTTPClient string
	// Seed of Poisson arrivals and payloads; 0 = the scenario's.
	Seed int64
	// JitterSeed, when not 0, replaces the SDK's random backoff jitter
	// with traffic.JitterDraw's under this seed: each request backs off
	// as it does in a simulation with the same jitter seed
	// (sim.Options.JitterSeed), whatever order requests are retried in.
	// 0 = the SDK's own jitter.
	JitterSeed int64
	// Isolate runs each workload alone, then all together, and fills
	// Results.Isolated and Results.Coupling.
	Isolate bool
	// Quota gives the (scaled) limit reported for each bucket.
	Quota quota.Config
	// Progress, when set, is called once a second during each measured
	// window with the phase ("combined", "isolated 1/2: orders-api") and
	// the live view of the last second.
	Progress func(phase string, p record.Progress)
	// Observer, when set, is called as each measured window starts, with
	// the window's name ("isolated:orders-api", "combined") and its
	// workloads (BucketQuotaPerS filled in); the observer it returns (nil:
	// none) sees every observation of that window's recorder, with
	// workload indexes into workloads.
	Observer func(window string, workloads []record.WorkloadInfo) record.Observer
	// DrainTimeout bounds the wait for in-flight requests after arrivals
	// stop; 0 = traffic.DefaultDrainTimeout.
	DrainTimeout time.Duration
	// BeforeMeasure, when set, is called after provisioning and before
	// each measured window (e.g. to arm or reset the emulator's quotas).
	BeforeMeasure func()
	// Logf receives progress messages of provisioning and events; nil =
	// silent.
	Logf func(format string, args ...any)
	// Limits stop the run early: request and cost caps, throttle kill
	// switch (any target).
	Limits guard.Limits
	// AllowAccounts must list every account id a target-aws run touches
	// (TouchedAccounts); New refuses otherwise.
	AllowAccounts []string
	// ExistingKeys maps scenario key names to key ARNs that a target-aws
	// run uses instead of creating keys: never created, deleted, or
	// changed (New refuses scenarios that would change them).
	ExistingKeys map[string]string
	// RunID tags the keys the run creates (guard.RunIDTag); "" = NewRunID.
	RunID string
	// Share makes this driver send its part of each workload's arrivals
	// in a run spread over several agents (see traffic.Share); zero = all.
	Share traffic.Share
	// Start, when set, gives the instant a measured window starts; it is
	// called after BeforeMeasure, and the window waits until then (an
	// instant already past starts it at once, and so does ctx ending).
	// Agents of a distributed run start together this way.
	Start func() time.Time
	// WindowPhase is where each measured window starts against the
	// quota's one-second windows when Start is nil: a fixed offset (the
	// window waits for the next instant at that offset into a second of
	// the emulator's clock, the wall clock) or random (at once). A fixed
	// phase needs the embedded target, whose quota windows are kmsload's.
	WindowPhase quota.WindowPhase
}

// Driver replays one scenario. Build it with New and call Run once.
type Driver struct {
	opts     Options
	res      *scenario.Resolved // the scenario resolved for this run
	drain    time.Duration
	http     *http.Client
	conns    *conns.Counter // connections of http and h1; nil when Target.HTTPClient is given
	h1       *h1.Client     // the endpoint's client when fast applies (fastClient), else nil
	endpoint aws.HTTPClient // what emulator and endpoint targets' SDK clients send through
	wls      []*workload
	logf     func(format string, args ...any)
	runID    string
	g        *guard.Guard
	awsState
}

// workload is a resolved scenario workload (scenario.Resolve) with what
// the driver builds for it: its SDK client settings and the mean intended
// rate of the driver's share of it.
type workload struct {
	scenario.ResolvedWorkload
	client clientConf // effective SDK client settings, as clients are built
	mean   float64    // scaled mean intended rate
}

// New checks opts and resolves the scenario's defaults. It starts nothing.
func New(opts Options) (*Driver, error) {
	sc := opts.Scenario
	if sc == nil {
		return nil, fmt.Errorf("%w: no scenario", ErrBadOptions)
	}
	d := &Driver{opts: opts, logf: opts.Logf}
	if d.logf == nil {
		d.logf = func(string, ...any) {}
	}
	switch opts.Target.Kind {
	case TargetEmbedded, TargetEndpoint:
		if opts.Target.Endpoint == "" {
			return nil, fmt.Errorf("%w: target %s needs an endpoint", ErrBadOptions, opts.Target.Kind)
		}
	case TargetAWS:
	default:
		return nil, fmt.Errorf("%w: unknown target kind %q", ErrBadOptions, opts.Target.Kind)
	}
	if opts.WindowPhase.Fixed && opts.Start == nil && opts.Target.Kind != TargetEmbedded {
		return nil, fmt.Errorf("%w: window phase %s: target %s applies its own quota windows, whose phase kmsload cannot set; use --window-phase random", ErrBadOptions, opts.WindowPhase, opts.Target.Kind)
	}
	d.drain = cmp.Or(opts.DrainTimeout, traffic.DefaultDrainTimeout)
	switch opts.HTTPClient {
	case "", HTTPClientStd, HTTPClientFast:
	default:
		return nil, fmt.Errorf("%w: unknown HTTP client %q: want %s or %s", ErrBadOptions, opts.HTTPClient, HTTPClientStd, HTTPClientFast)
	}
	if opts.SDKEnv == nil {
		env, err := LoadSDKEnv(context.Background())
		if err != nil {
			return nil, err
		}
		d.opts.SDKEnv = &env
	}
	res, err := scenario.Resolve(sc, scenario.Overrides{Duration: opts.Duration, Scale: opts.Scale, Seed: opts.Seed,
		Client: scenario.ClientOverride{Retry: opts.Retry, RetrySource: report.SourceRetryFlag,
			Client: opts.Client, Source: cmp.Or(opts.ClientSource, report.SourceStudyVariant)},
		SDKEnv: scenario.ClientEnv(*d.opts.SDKEnv)})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	d.res = res
	maxInFlight := 0
	for _, rw := range res.Workloads {
		w, err := d.newWorkload(rw)
		if err != nil {
			return nil, err
		}
		d.wls = append(d.wls, w)
		maxInFlight = max(maxInFlight, w.MaxInFlight)
	}
	d.http = opts.Target.HTTPClient
	if d.http == nil {
		d.conns = newConnCounter(opts.MaxConns)
		d.http = newHTTPClient(maxInFlight*len(d.wls), d.conns)
		d.h1 = d.fastClient()
	}
	d.endpoint = bufferedBodies{d.http}
	if d.h1 != nil {
		d.endpoint = bufferedBodies{d.h1}
	}
	if err := d.checkSharedClients(); err != nil {
		return nil, err
	}
	d.warnStoreAttribution()
	if err := d.initGuards(); err != nil {
		return nil, err
	}
	return d, nil
}

// newWorkload builds the driver's workload of rw: its key as the target
// names it, its SDK client settings and the mean rate of the driver's
// share.
func (d *Driver) newWorkload(rw scenario.ResolvedWorkload) (*workload, error) {
	w := &workload{ResolvedWorkload: rw}
	if rw.Key.Name != "" {
		w.Key = d.asTargetNames(rw.Key)
	}
	e := rw.Client
	w.client = clientConf{EffectiveClient: e, info: plan.ClientInfo(e, d.res.Scale), tokens: e.ScaledTokens(d.res.Scale)}
	arr, err := traffic.NewSharedArrival(rw.Spec, d.res.Scale, d.res.Seed, d.opts.Share)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	w.mean, _ = traffic.MeanRate(arr, d.res.Duration)
	return w, nil
}

// resolveKey returns scenario key name resolved (scenario.ResolvedKey),
// as the target names it (asTargetNames).
func (d *Driver) resolveKey(name string) scenario.Key {
	k, _ := d.res.Scenario.ResolvedKey(name)
	return d.asTargetNames(k)
}

// asTargetNames returns resolved key k with its alias as the target names
// it: on real AWS, the run's own alias for the scenario's (AWSAlias).
func (d *Driver) asTargetNames(k scenario.Key) scenario.Key {
	if d.opts.Target.Kind == TargetAWS {
		k.Alias = guard.AWSAlias(k.Alias)
	}
	return k
}

// info is the recorder's description of w.
func (w *workload) info() record.WorkloadInfo {
	return record.InfoOf(w.ResolvedWorkload, w.mean)
}

// newHTTPClient returns a client tuned for many concurrent requests to one
// host over HTTP/1.1, its connections counted and capped by counter.
func newHTTPClient(idle int, counter *conns.Counter) *http.Client {
	idle = max(idle, 1024)
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	counter.Apply(tr)
	return &http.Client{Transport: tr}
}

// Run provisions keys, aliases, policies, replicas and pools (paced, not
// measured), then measures: with Options.Isolate each workload alone, then
// all together. When ctx is cancelled during measurement, or a limit of
// Options.Limits is reached, it stops arrivals, drains in-flight requests
// and returns the partial output with Results.Partial set, the reason in
// Results.StopReason and a nil error; when that happens during an
// isolated window, Results.Workloads is empty and Results.Isolated holds
// the windows run so far. Requests still in flight after DrainTimeout are
// cancelled and recorded as failed with the code "Canceled". Between
// windows, keys changed by events are restored (deletion cancelled,
// enabled, policy reset). Run returns an error only when no results exist
// (provisioning failed or was cancelled), or, wrapping guard.ErrPanic, when a
// driver goroutine panicked. With target aws it first checks the
// credentials (CheckAccess), and every key the run created is scheduled
// for deletion (7 days) before Run returns: at the end, after
// cancellation, after a panic (a panic in Run's own goroutine continues
// after the clean-up).
func (d *Driver) Run(ctx context.Context) (*report.Output, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	d.g.Arm(cancel)
	if _, err := d.CheckAccess(ctx); err != nil {
		return nil, err
	}
	defer d.closeIdle()
	out, err := d.run(ctx)
	return d.finish(ctx, out, err)
}

func (d *Driver) run(ctx context.Context) (*report.Output, error) {
	if d.opts.Target.Kind == TargetEndpoint { // what the target lacks, before provisioning
		if err := d.Preflight(ctx); err != nil {
			return nil, err
		}
	}
	prov, err := d.provision(ctx)
	if prov != nil && d.opts.Target.Kind == TargetAWS {
		defer d.cleanup(prov)
	}
	if err != nil {
		return nil, err
	}
	res := &report.Results{
		Schema: report.Schema,
		Scenario: report.ScenarioInfo{
			Name:        d.res.Scenario.Name,
			File:        d.res.Scenario.File,
			Description: d.res.Scenario.Description,
			Scale:       d.res.Scale,
			Seed:        d.res.Seed,
			JitterSeed:  d.opts.JitterSeed,
			WindowPhase: d.opts.WindowPhase.String(),
		},
		Target: d.targetInfo(),
	}
	out := &report.Output{Results: res, Hlog: map[string][]byte{}}
	all := make([]int, len(d.wls))
	for i := range all {
		all[i] = i
	}
	if d.opts.Isolate {
		res.Isolated = map[string]report.Workload{}
		for i, w := range d.wls {
			phase := fmt.Sprintf("isolated %d/%d: %s", i+1, len(d.wls), w.Spec.Name)
			m, err := d.measure(ctx, prov, []int{i}, phase)
			if err != nil {
				return nil, err
			}
			if res.StartedAt.IsZero() {
				res.StartedAt = m.start
			}
			if len(m.workloads) == 1 {
				d.annotateClients(m.workloads)
				res.Isolated[w.Spec.Name] = m.workloads[0]
			}
			d.restore(ctx, prov, m.touched)
			if m.partial {
				res.Partial = true
				res.DurationS = m.elapsed.Seconds()
				res.Workloads = []report.Workload{}
				res.Buckets = []report.Bucket{}
				return out, nil
			}
		}
	}
	m, err := d.measure(ctx, prov, all, "combined")
	if err != nil {
		return nil, err
	}
	if res.StartedAt.IsZero() {
		res.StartedAt = m.start
	}
	if res.Target.QuotasAppliedBy == "kmsload" && d.opts.Start == nil {
		ph := quota.OffsetOf(res.StartedAt).Seconds()
		res.Scenario.WindowPhaseS = &ph
	}
	res.DurationS = m.elapsed.Seconds()
	res.Partial = m.partial
	res.Workloads = m.workloads
	d.annotateClients(res.Workloads)
	res.Events = m.events
	res.Assemble(d.quotaPerS)
	out.Hlog = m.hlog
	d.reportConns(res)
	return out, nil
}

// infof logs what a real-AWS run does to the accounts (keys created or
// resolved); other targets' runs keep quiet about their own provisioning.
func (d *Driver) infof(format string, args ...any) {
	if d.opts.Target.Kind == TargetAWS {
		d.logf(format, args...)
	}
}

// fastClient returns the endpoint's h1 client when Options.HTTPClient
// (or DefaultHTTPClient) is fast and it applies, else nil: net/http's
// transport then carries the requests. It says why when fast was asked
// for and does not apply.
func (d *Driver) fastClient() *h1.Client {
	asked := d.opts.HTTPClient == HTTPClientFast
	if cmp.Or(d.opts.HTTPClient, DefaultHTTPClient) != HTTPClientFast {
		return nil
	}
	if d.opts.Target.Kind == TargetAWS {
		if asked {
			d.logf("http client: fast carries plain http:// endpoints only; target aws uses std")
		}
		return nil
	}
	c, err := h1.ForEndpoint(d.opts.Target.Endpoint, d.conns)
	if err != nil && asked {
		d.logf("http client: fast does not apply (%v); std carries the requests", err)
	}
	return c
}

// closeIdle closes the idle connections of the clients the driver made.
func (d *Driver) closeIdle() {
	if d.conns == nil { // Target.HTTPClient is the caller's
		return
	}
	d.http.CloseIdleConnections()
	if d.h1 != nil {
		d.h1.CloseIdleConnections()
	}
}

// reportConns records the most connections open in res and warns when
// they reached the cap.
func (d *Driver) reportConns(res *report.Results) {
	if d.conns == nil {
		return
	}
	res.Target.PeakConns = d.conns.Peak()
	if d.conns.Max() > 0 && res.Target.PeakConns >= d.conns.Max() {
		d.logf("connections: the cap of %d per endpoint was reached; requests that found every connection busy waited for one, and that wait is in their service time (raise --max-conns if the target's latency needs more)", d.conns.Max())
	}
}

// warnStoreAttribution says, for a target other than the embedded
// emulator, that throttles of keys in custom key stores may not be told
// from those of the callers' class buckets: kmsload's emulator names the
// bucket that throttled (quota.HeaderThrottledBy), other targets do not.
func (d *Driver) warnStoreAttribution() {
	if d.opts.Target.Kind == TargetEmbedded {
		return
	}
	for _, w := range d.wls {
		if w.Key.CustomKeyStore != "" {
			d.logf("custom key stores: unless target %s names the bucket that throttled a request in a %s header, as kmsload's emulator does, throttles of keys in custom key stores (%s: %s) count against the caller's class bucket in the results", d.opts.Target.Kind, quota.HeaderThrottledBy, w.Spec.Name, w.Key.CustomKeyStore)
			return
		}
	}
}

// quotaPerS returns the configured limit of the bucket named name: a
// workload's own bucket, another Region's after a shift-traffic event, or
// a custom key store's.
func (d *Driver) quotaPerS(name string) float64 { return d.opts.Quota.LimitOf(name) }

// targetInfo describes the target for the results.
func (d *Driver) targetInfo() report.TargetInfo {
	t := report.TargetInfo{Kind: d.opts.Target.Kind, Endpoint: d.opts.Target.Endpoint}
	t.MaxConns = d.conns.Max()
	switch {
	case d.h1 != nil:
		t.HTTPClient = HTTPClientFast
	case d.conns != nil: // else Target.HTTPClient is the caller's
		t.HTTPClient = HTTPClientStd
	}
	switch d.opts.Target.Kind {
	case TargetEmbedded:
		t.QuotasAppliedBy = "kmsload"
		t.QuotaModel = cmp.Or(string(d.opts.Quota.Algorithm), d.res.Scenario.Quotas.Algorithm, string(quota.FixedWindow))
		if d.res.Scenario.Quotas.Mode == "off" {
			t.QuotaModel = "off"
		}
	default:
		t.QuotasAppliedBy = "target"
		t.QuotaModel = "target"
	}
	return t
}
