package scenario_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

func TestResolveClient(t *testing.T) {
	set := func(v, src string) scenario.ClientSetting { return scenario.ClientSetting{Value: v, Source: src} }
	sdk := scenario.ClientSources{
		Retry:       set(scenario.RetryStandard, scenario.SourceSDK),
		MaxAttempts: set("3", scenario.SourceSDK),
		MaxBackoff:  set("20s", scenario.SourceSDK),
		RetryBucket: set("500", scenario.SourceSDK),
	}
	envAdaptive := scenario.ClientEnv{
		RetryMode: scenario.RetryAdaptive, RetryModeSource: "environment AWS_RETRY_MODE",
		MaxAttempts: 4, MaxAttemptsSource: "environment AWS_MAX_ATTEMPTS",
	}
	tests := []struct {
		name     string
		def      scenario.Client
		w        scenario.Workload
		o        scenario.ClientOverride
		env      scenario.ClientEnv
		want     scenario.EffectiveClient
		attempts int
		backoff  time.Duration
		tokens   int
	}{{
		name: "silent: the SDK's defaults",
		w:    scenario.Workload{Name: "w"},
		want: scenario.EffectiveClient{Name: "w", Retry: scenario.RetryStandard, Sources: sdk},
		// 0 = the SDK's default, resolved by the accessors.
		attempts: 3, backoff: 20 * time.Second, tokens: 500,
	}, {
		name: "silent: the environment's mode and attempts",
		w:    scenario.Workload{Name: "w"},
		env:  envAdaptive,
		want: scenario.EffectiveClient{Name: "w", Retry: scenario.RetryAdaptive, MaxAttempts: 4, Sources: scenario.ClientSources{
			Retry:       set(scenario.RetryAdaptive, "environment AWS_RETRY_MODE"),
			MaxAttempts: set("4", "environment AWS_MAX_ATTEMPTS"),
			MaxBackoff:  sdk.MaxBackoff, RetryBucket: sdk.RetryBucket,
		}},
		attempts: 4, backoff: 20 * time.Second, tokens: 500,
	}, {
		name: "the scenario default wins over the environment",
		def:  scenario.Client{Retry: scenario.RetryStandardName, MaxBackoff: 5 * time.Second, RetryBucket: scenario.RetryBucketNone, Shared: "app"},
		w:    scenario.Workload{Name: "w"},
		env:  envAdaptive,
		want: scenario.EffectiveClient{Name: "app", Shared: true, Retry: scenario.RetryStandard, MaxAttempts: 4,
			MaxBackoff: 5 * time.Second, RetryBucket: scenario.RetryBucketNone, Sources: scenario.ClientSources{
				Retry:       set(scenario.RetryStandard, scenario.SourceDefault),
				MaxAttempts: set("4", "environment AWS_MAX_ATTEMPTS"),
				MaxBackoff:  set("5s", scenario.SourceDefault),
				RetryBucket: set("none", scenario.SourceDefault),
			}},
		attempts: 4, backoff: 5 * time.Second, tokens: scenario.RetryBucketNone,
	}, {
		name: "the workload wins over the default, field by field; older spellings count",
		def:  scenario.Client{Retry: scenario.RetryAdaptive, MaxAttempts: 5, RetryBucket: 100, Shared: "app"},
		w:    scenario.Workload{Name: "w", MaxAttempts: 7, Client: scenario.Client{RetryBucket: 50, Shared: scenario.SharedNone}},
		want: scenario.EffectiveClient{Name: "w", Retry: scenario.RetryAdaptive, MaxAttempts: 7, RetryBucket: 50, Sources: scenario.ClientSources{
			Retry:       set(scenario.RetryAdaptive, scenario.SourceDefault),
			MaxAttempts: set("7", scenario.SourceWorkload),
			MaxBackoff:  sdk.MaxBackoff,
			RetryBucket: set("50", scenario.SourceWorkload),
		}},
		attempts: 7, backoff: 20 * time.Second, tokens: 50,
	}, {
		name: "the override wins over the workload; --retry over the override",
		def:  scenario.Client{MaxBackoff: time.Second},
		w:    scenario.Workload{Name: "w", Retry: scenario.RetryStandard, Client: scenario.Client{MaxAttempts: 2, Shared: "app"}},
		o:    scenario.ClientOverride{Retry: "standard", Client: scenario.Client{Retry: scenario.RetryAdaptive, MaxAttempts: 9, Shared: scenario.SharedNone}},
		env:  envAdaptive,
		want: scenario.EffectiveClient{Name: "w", Retry: scenario.RetryStandard, MaxAttempts: 9, MaxBackoff: time.Second, Sources: scenario.ClientSources{
			Retry:       set(scenario.RetryStandard, scenario.SourceRetryFlag),
			MaxAttempts: set("9", scenario.SourceStudyVariant),
			MaxBackoff:  set("1s", scenario.SourceDefault),
			RetryBucket: sdk.RetryBucket,
		}},
		attempts: 9, backoff: time.Second, tokens: 500,
	}, {
		name: "named override sources",
		w:    scenario.Workload{Name: "w"},
		o:    scenario.ClientOverride{Retry: scenario.RetryAdaptive, RetrySource: "flag", Client: scenario.Client{RetryBucket: 20}, Source: "probe"},
		want: scenario.EffectiveClient{Name: "w", Retry: scenario.RetryAdaptive, RetryBucket: 20, Sources: scenario.ClientSources{
			Retry: set(scenario.RetryAdaptive, "flag"), MaxAttempts: sdk.MaxAttempts, MaxBackoff: sdk.MaxBackoff,
			RetryBucket: set("20", "probe"),
		}},
		attempts: 3, backoff: 20 * time.Second, tokens: 20,
	}, {
		name: "retry none: one attempt whatever sets attempts",
		def:  scenario.Client{MaxAttempts: 5},
		w:    scenario.Workload{Name: "w", Client: scenario.Client{Retry: scenario.RetryNone}},
		env:  envAdaptive,
		want: scenario.EffectiveClient{Name: "w", Retry: scenario.RetryNone, MaxAttempts: 1, Sources: scenario.ClientSources{
			Retry: set(scenario.RetryNone, scenario.SourceWorkload), MaxAttempts: set("1", scenario.SourceRetryNone),
			MaxBackoff: sdk.MaxBackoff, RetryBucket: sdk.RetryBucket,
		}},
		attempts: 1, backoff: 20 * time.Second, tokens: 500,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scenario.Scenario{Client: tt.def, Workloads: []scenario.Workload{tt.w}}
			got, err := s.ResolveClient(tt.w, tt.o, tt.env)
			if err != nil {
				t.Fatalf("ResolveClient: %v", err)
			}
			if got != tt.want {
				t.Errorf("ResolveClient =\n %+v\nwant\n %+v", got, tt.want)
			}
			if a, b, n := got.Attempts(), got.Backoff(), got.BucketTokens(); a != tt.attempts || b != tt.backoff || n != tt.tokens {
				t.Errorf("Attempts, Backoff, BucketTokens = %d, %s, %d; want %d, %s, %d", a, b, n, tt.attempts, tt.backoff, tt.tokens)
			}
		})
	}
}

func TestResolveClientUnknownMode(t *testing.T) {
	s := &scenario.Scenario{}
	_, err := s.ResolveClient(scenario.Workload{Name: "w"}, scenario.ClientOverride{},
		scenario.ClientEnv{RetryMode: "eager", RetryModeSource: "environment AWS_RETRY_MODE"})
	if want := `scenario: unknown retry mode "eager" (environment AWS_RETRY_MODE)`; err == nil || err.Error() != want {
		t.Errorf("ResolveClient = %v; want %s", err, want)
	}
}

// TestClientDefaultsAreTheSDKs pins the SDK defaults and source names the
// resolution reports to those of aws-sdk-go-v2 and of package report.
func TestClientDefaultsAreTheSDKs(t *testing.T) {
	for _, c := range []struct{ name, got, want string }{
		{"SDKMaxAttempts", fmt.Sprint(scenario.SDKMaxAttempts), fmt.Sprint(retry.DefaultMaxAttempts)},
		{"SDKMaxBackoff", scenario.SDKMaxBackoff.String(), retry.DefaultMaxBackoff.String()},
		{"SDKRetryBucket", fmt.Sprint(scenario.SDKRetryBucket), fmt.Sprint(retry.DefaultRetryRateTokens)},
		{"SourceWorkload", scenario.SourceWorkload, report.SourceWorkload},
		{"SourceDefault", scenario.SourceDefault, report.SourceDefault},
		{"SourceSDK", scenario.SourceSDK, report.SourceSDK},
		{"SourceRetryFlag", scenario.SourceRetryFlag, report.SourceRetryFlag},
		{"SourceStudyVariant", scenario.SourceStudyVariant, report.SourceStudyVariant},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s; want %s", c.name, c.got, c.want)
		}
	}
}

func ExampleScenario_ResolveClient() {
	s, err := scenario.Parse("app.yaml", []byte(`name: app
client: {retry: standard, shared: app}
accounts: {prod: "111111111111"}
keys: {k: {account: prod}}
workloads:
  ingest: {caller: prod, key: k, operation: Encrypt, rate: 100/s, client: {max_attempts: 5}}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	env := scenario.ClientEnv{RetryMode: scenario.RetryAdaptive, RetryModeSource: "environment AWS_RETRY_MODE"}
	c, err := s.ResolveClient(s.Workloads[0], scenario.ClientOverride{}, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.Shared)
	fmt.Println(c.Sources.Retry, "|", c.Sources.MaxAttempts, "|", c.Sources.MaxBackoff, "|", c.Sources.RetryBucket)
	// Output:
	// app true
	// sdk-standard (scenario default) | 5 (scenario workload) | 20s (SDK default) | 500 (SDK default)
}

func TestSharedClientConflict(t *testing.T) {
	std := scenario.EffectiveClient{Name: "app", Shared: true, Retry: scenario.RetryStandard, MaxAttempts: 3}
	more := std
	more.MaxAttempts = 5
	own := more
	own.Name, own.Shared = "b", false
	other := more
	other.Name = "other"
	for _, tc := range []struct {
		name    string
		clients []scenario.EffectiveClient
		a, b    string
		found   bool
	}{
		{"alike", []scenario.EffectiveClient{std, std, std}, "", "", false},
		{"own clients may differ", []scenario.EffectiveClient{std, own}, "", "", false},
		{"other shared names may differ", []scenario.EffectiveClient{std, other}, "", "", false},
		{"first conflict", []scenario.EffectiveClient{std, std, more, more}, "w0", "w2", true},
	} {
		names := make([]string, len(tc.clients))
		for i := range names {
			names[i] = fmt.Sprintf("w%d", i)
		}
		a, b, c, found := scenario.SharedClientConflict(names, tc.clients)
		if a != tc.a || b != tc.b || found != tc.found || (found && c != "app") {
			t.Errorf("%s: got %q, %q, %q, %v; want %q, %q, app, %v", tc.name, a, b, c, found, tc.a, tc.b, tc.found)
		}
	}
}

func TestScaledTokens(t *testing.T) {
	tests := []struct {
		bucket int
		scale  float64
		want   int
	}{
		{0, 1, scenario.SDKRetryBucket}, {0, 0.01, 5}, {0, 0.05, 25}, {0, 0.0001, 1}, {1000, 0.1, 100},
		{scenario.RetryBucketNone, 0.01, scenario.RetryBucketNone}, {0, 0, scenario.SDKRetryBucket},
	}
	for _, tt := range tests {
		c := scenario.EffectiveClient{RetryBucket: tt.bucket}
		if got := c.ScaledTokens(tt.scale); got != tt.want {
			t.Errorf("ScaledTokens(bucket %d, scale %g) = %d; want %d", tt.bucket, tt.scale, got, tt.want)
		}
	}
	if scenario.MinScaledRetryTokens != 50 {
		t.Errorf("scenario.MinScaledRetryTokens = %d; report.MinScaledRetryTokens says 50", scenario.MinScaledRetryTokens)
	}
}
