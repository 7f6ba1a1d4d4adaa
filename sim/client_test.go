package sim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// exhaustion sums the workloads' retry-quota exhaustion: requests, and
// the first second any of them met it (-1 for none).
func exhaustion(ws []report.Workload) (requests int64, first int) {
	first = -1
	for _, w := range ws {
		q := w.RetryQuotaExhausted
		if q == nil {
			continue
		}
		requests += q.Requests
		if first < 0 || q.FirstS < first {
			first = q.FirstS
		}
	}
	return requests, first
}

// TestSimSharedClientRunsDrySooner replays the scenario of the driver's
// TestSharedClientExhaustsRetryQuota (two Encrypt workloads of one caller,
// each at 75% of the symmetric quota, standard retries, 8 s at scale
// 0.0004) with one shared client and with a client each. On the emulator
// the shared client ran dry from second 3 (110-121 requests), the separate
// clients from second 5 (68-74): one client carrying both workloads drains
// its one bucket about twice as fast. The simulation must show the same
// ordering, for every backoff-jitter seed tried.
func TestSimSharedClientRunsDrySooner(t *testing.T) {
	// retry_bucket 1,250,000 is the SDK's 500 tokens at scale 0.0004, as
	// in the driver's test: a run scales the bucket with the traffic.
	const head = `duration: 8s
keys: {k: {account: a}}
`
	layouts := []struct {
		name, yaml string
		shared     bool
	}{
		{"shared in each workload", head + `workloads:
  ingest: {caller: a, key: k, operation: Encrypt, rate: 75000/s, client: {retry: standard, shared: app, retry_bucket: 1250000}}
  orders: {caller: a, key: k, operation: Encrypt, rate: 75000/s, client: {retry: standard, shared: app, retry_bucket: 1250000}}
`, true},
		{"shared by the scenario default", head + `client: {retry: standard, shared: app, retry_bucket: 1250000}
workloads:
  ingest: {caller: a, key: k, operation: Encrypt, rate: 75000/s}
  orders: {caller: a, key: k, operation: Encrypt, rate: 75000/s}
`, true},
		{"separate", head + `workloads:
  ingest: {caller: a, key: k, operation: Encrypt, rate: 75000/s, client: {retry: standard, retry_bucket: 1250000}}
  orders: {caller: a, key: k, operation: Encrypt, rate: 75000/s, client: {retry: standard, retry_bucket: 1250000}}
`, false},
		{"default shared, workloads opt out", head + `client: {retry: standard, shared: app, retry_bucket: 1250000}
workloads:
  ingest: {caller: a, key: k, operation: Encrypt, rate: 75000/s, client: {shared: none}}
  orders: {caller: a, key: k, operation: Encrypt, rate: 75000/s, client: {shared: none}}
`, false},
	}
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("jitter-seed-%d", seed), func(t *testing.T) {
			type outcome struct {
				n     int64
				first int
			}
			var shared, separate []outcome
			for _, l := range layouts {
				r := simulate(t, l.yaml, sim.Options{Scale: 0.0004, DrainTimeout: 10 * time.Second, JitterSeed: seed})
				n, first := exhaustion(r.Workloads)
				t.Logf("%s: %d QuotaExceededError from second %d", l.name, n, first)
				checkClientInfo(t, l.name, r, l.shared)
				if l.shared {
					shared = append(shared, outcome{n, first})
				} else {
					separate = append(separate, outcome{n, first})
				}
			}
			for _, sh := range shared {
				if sh.n == 0 || sh.first < 0 || sh.first > 5 {
					t.Errorf("shared client: %d QuotaExceededError from second %d; want some, from second 5 at the latest", sh.n, sh.first)
				}
				for _, sep := range separate {
					if sep.first >= 0 && sep.first <= sh.first {
						t.Errorf("separate clients ran dry in second %d; want later than the shared client (second %d) or never", sep.first, sh.first)
					}
					if float64(sh.n) < 1.3*float64(sep.n) {
						t.Errorf("QuotaExceededError: shared %d, separate %d; want the shared client's at least 1.3 times the separate clients'", sh.n, sep.n)
					}
				}
			}
		})
	}
}

// checkClientInfo checks the client each workload of r reports: the
// shared client app of ingest and orders, or a client of its own, with
// sdk-standard retries and the SDK's 500-token bucket, and the
// QuotaExceededError count in RetryQuotaExhausted.
func checkClientInfo(t *testing.T, layout string, r *report.Results, shared bool) {
	t.Helper()
	for _, w := range r.Workloads {
		c := w.Client
		if c == nil {
			t.Errorf("%s: %s: Client = nil; want the SDK client", layout, w.Name)
			continue
		}
		wantName, wantMembers := w.Name, ""
		if shared {
			wantName, wantMembers = "app", "ingest,orders"
		}
		if c.Name != wantName || c.Shared != shared || strings.Join(c.Workloads, ",") != wantMembers {
			t.Errorf("%s: %s: Client = %s shared %v of %v; want %s shared %v of [%s]", layout, w.Name, c.Name, c.Shared, c.Workloads, wantName, shared, wantMembers)
		}
		if c.Retry.Value != scenario.RetryStandard || c.RetryBucket.Value != "1250000" || c.RetryTokens != 500 ||
			c.MaxAttempts != (report.ClientSetting{Value: "3", Source: report.SourceSDK}) {
			t.Errorf("%s: %s: Client settings = %+v; want sdk-standard, 3 attempts from the SDK and 1250000 tokens (500 at this scale)", layout, w.Name, c)
		}
		if q := w.RetryQuotaExhausted; q != nil && (q.Client != wantName || q.Requests != w.Errors[failure.CodeQuotaExceeded]) {
			t.Errorf("%s: %s: RetryQuotaExhausted = %+v, errors %v; want client %s and the QuotaExceededError count", layout, w.Name, q, w.Errors, wantName)
		}
	}
}

// TestSimRetryBucket checks that retry_bucket sizes the retry quota: at
// 150% of the quota a larger bucket runs dry later and refuses fewer
// retries, and without a bucket no request fails with QuotaExceededError,
// requests fail only when their attempts run out.
func TestSimRetryBucket(t *testing.T) {
	// At scale 0.001 the bucket holds a thousandth of retry_bucket: the
	// SDK's 500 tokens are 1 (no retry can be paid for, as when 150,000
	// throttles a second meet 500 tokens at real size), 50,000 are 50 and
	// 2,000,000 are 2,000.
	tests := []struct {
		bucket     string // "" = not set
		wantValue  string
		wantSource string
		tokens     int
	}{
		{"", "500", report.SourceSDK, 1},
		{"50000", "50000", report.SourceWorkload, 50},
		{"2000000", "2000000", report.SourceWorkload, 2000},
		{"none", "none", report.SourceWorkload, 0},
	}
	for seed := int64(1); seed <= 3; seed++ {
		prevFirst, prevN := -1, int64(-1)
		for _, tt := range tests {
			client := "{}"
			if tt.bucket != "" {
				client = "{retry_bucket: " + tt.bucket + "}"
			}
			r := simulate(t, `duration: 8s
keys: {k: {account: a}}
workloads:
  hot: {caller: a, key: k, operation: Encrypt, rate: 150000/s, client: `+client+`}
`, sim.Options{Scale: 0.001, DrainTimeout: 10 * time.Second, JitterSeed: seed})
			w := workload(t, r, "hot")
			n, first := exhaustion(r.Workloads)
			t.Logf("seed %d, retry_bucket %q: requests %d, attempts %d, errors %v, exhausted from second %d", seed, tt.bucket, w.Requests, w.Attempts, w.Errors, first)
			if got := w.Client.RetryBucket; got != (report.ClientSetting{Value: tt.wantValue, Source: tt.wantSource}) {
				t.Errorf("retry_bucket %q: Client.RetryBucket = %+v; want %s (%s)", tt.bucket, got, tt.wantValue, tt.wantSource)
			}
			if got := w.Client.RetryTokens; got != tt.tokens {
				t.Errorf("retry_bucket %q: RetryTokens = %d; want %d at scale 0.001", tt.bucket, got, tt.tokens)
			}
			if tt.tokens != 1 && w.Attempts <= w.Requests {
				t.Errorf("retry_bucket %q: attempts %d, requests %d; want retries", tt.bucket, w.Attempts, w.Requests)
			}
			if tt.bucket == "none" {
				if got := w.Errors[failure.CodeQuotaExceeded]; got != 0 || w.RetryQuotaExhausted != nil {
					t.Errorf("retry_bucket none: QuotaExceededError = %d, RetryQuotaExhausted = %+v; want none", got, w.RetryQuotaExhausted)
				}
				if w.Errors["ThrottlingException"] == 0 {
					t.Errorf("retry_bucket none: errors %v; want ThrottlingException after the last attempt", w.Errors)
				}
				continue
			}
			if n == 0 {
				t.Errorf("retry_bucket %q: no QuotaExceededError at 150%% of the quota", tt.bucket)
				continue
			}
			if prevN >= 0 && (n >= prevN || first < prevFirst) {
				t.Errorf("retry_bucket %q: %d QuotaExceededError from second %d; want fewer than the smaller bucket's %d, not sooner than its second %d",
					tt.bucket, n, first, prevN, prevFirst)
			}
			prevN, prevFirst = n, first
		}
	}
}

// TestSimMaxBackoff checks that max_backoff caps each delay before its
// jitter: with no service time a request's latency is the sum of its
// backoffs, so it stays under (attempts-1) x max_backoff, and comes near
// it when many requests use all their attempts; the SDK's 20 s cap leaves
// the 1 s, 2 s throttle backoffs whole.
func TestSimMaxBackoff(t *testing.T) {
	tests := []struct {
		client     string
		cap        time.Duration
		attempts   int
		wantSource string
	}{
		{"{max_backoff: 100ms, retry_bucket: 500000}", 100 * time.Millisecond, 3, report.SourceWorkload},
		{"{max_backoff: 100ms, max_attempts: 10, retry_bucket: none}", 100 * time.Millisecond, 10, report.SourceWorkload},
		{"{max_backoff: 1500ms, retry_bucket: 500000}", 1500 * time.Millisecond, 3, report.SourceWorkload},
		{"{retry_bucket: 500000}", 20 * time.Second, 3, report.SourceSDK},
	}
	for _, tt := range tests {
		t.Run(tt.client, func(t *testing.T) {
			r := simulate(t, `duration: 8s
keys: {k: {account: a}}
workloads:
  hot: {caller: a, key: k, operation: Encrypt, rate: 150000/s, client: `+tt.client+`}
`, sim.Options{Scale: 0.001, DrainTimeout: 30 * time.Second})
			w := workload(t, r, "hot")
			if got := w.Client.MaxBackoff; got != (report.ClientSetting{Value: tt.cap.String(), Source: tt.wantSource}) {
				t.Errorf("Client.MaxBackoff = %+v; want %s (%s)", got, tt.cap, tt.wantSource)
			}
			// Throttle backoffs before the cap: 1 s, 2 s, 4 s, ...
			var bound time.Duration
			for i := range tt.attempts - 1 {
				bound += min(time.Second<<i, tt.cap)
			}
			maxMs := w.LatencyMs.Max
			t.Logf("attempts %d, p99 %.1f ms, max %.1f ms, bound %s", w.Attempts, w.LatencyMs.P99, maxMs, bound)
			// The histogram keeps 3 significant digits.
			if limit := 1.001 * float64(bound.Milliseconds()); maxMs > limit {
				t.Errorf("max latency %.1f ms; want at most %s, the sum of the capped backoffs", maxMs, bound)
			}
			if low := 0.6 * float64(bound.Milliseconds()); maxMs < low {
				t.Errorf("max latency %.1f ms; want above %.0f ms (60%% of %s): the backoffs are capped too low", maxMs, low, bound)
			}
		})
	}
}

// TestSimRetryModeFromEnvironment checks that AWS_RETRY_MODE and
// AWS_MAX_ATTEMPTS, read as kmsload simulate reads them
// (driver.LoadSDKEnv), decide the client of a workload the scenario is
// silent about, and only of that one: the silent workload runs adaptive
// (its client-side limiter keeps its throttled share far below standard
// mode's at 150% of the quota), the pinned one stays standard.
func TestSimRetryModeFromEnvironment(t *testing.T) {
	t.Setenv("AWS_RETRY_MODE", "adaptive")
	t.Setenv("AWS_MAX_ATTEMPTS", "4")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	env, err := driver.LoadSDKEnv(context.Background())
	if err != nil {
		t.Fatalf("LoadSDKEnv: %v", err)
	}
	const y = `duration: 6s
keys: {k: {account: a}}
workloads:
  silent: {caller: a, key: k, operation: Encrypt, rate: 150000/s}
  pinned: {caller: b, key: k, operation: Encrypt, rate: 150000/s, client: {retry: standard}}
`
	tests := []struct {
		name        string
		env         scenario.ClientEnv
		wantRetry   report.ClientSetting
		wantAttempt report.ClientSetting
	}{
		{"environment", scenario.ClientEnv(env),
			report.ClientSetting{Value: scenario.RetryAdaptive, Source: "environment AWS_RETRY_MODE"},
			report.ClientSetting{Value: "4", Source: "environment AWS_MAX_ATTEMPTS"}},
		{"no environment", scenario.ClientEnv{},
			report.ClientSetting{Value: scenario.RetryStandard, Source: report.SourceSDK},
			report.ClientSetting{Value: "3", Source: report.SourceSDK}},
	}
	shares := map[string]float64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := simulate(t, y, sim.Options{Scale: 0.001, SDKEnv: tt.env, DrainTimeout: 10 * time.Second})
			silent, pinned := workload(t, r, "silent"), workload(t, r, "pinned")
			if c := silent.Client; c.Retry != tt.wantRetry || c.MaxAttempts != tt.wantAttempt {
				t.Errorf("silent: Client retry %+v, max attempts %+v; want %+v, %+v", c.Retry, c.MaxAttempts, tt.wantRetry, tt.wantAttempt)
			}
			// The pinned workload sets its retry mode only: its attempts
			// come from the environment as the silent one's do.
			want := report.ClientSetting{Value: scenario.RetryStandard, Source: report.SourceWorkload}
			if c := pinned.Client; c.Retry != want || c.MaxAttempts != tt.wantAttempt {
				t.Errorf("pinned: Client retry %+v, max attempts %+v; want %+v, %+v", c.Retry, c.MaxAttempts, want, tt.wantAttempt)
			}
			shares[tt.name] = share(silent.ThrottledAttempts, silent.Attempts)
			t.Logf("silent: attempts %d, throttled %d (%.1f%%), dropped %d, errors %v", silent.Attempts, silent.ThrottledAttempts,
				100*shares[tt.name], silent.Dropped, silent.Errors)
		})
	}
	if a, s := shares["environment"], shares["no environment"]; s < 0.2 || a > s/2 {
		t.Errorf("silent throttled attempts: adaptive from the environment %.1f%%, standard %.1f%%; want standard above 20%% and adaptive below half of it", 100*a, 100*s)
	}
}

// TestSimSharedClientSettingsMustAgree checks that New refuses workloads
// that share a client with different retry settings (an override cannot
// cause it; a scenario built in code can).
func TestSimSharedClientSettingsMustAgree(t *testing.T) {
	s := parse(t, `keys: {k: {account: a}}
workloads:
  x: {caller: a, key: k, operation: Encrypt, rate: 10/s, client: {shared: app}}
  y: {caller: a, key: k, operation: Encrypt, rate: 10/s, client: {shared: app}}
`)
	s.Workloads[1].Client.MaxAttempts = 7 // past validation
	_, err := sim.New(sim.Options{Scenario: s})
	if err == nil || !strings.Contains(err.Error(), "share client app with different retry settings") {
		t.Errorf("New = %v; want an error about client app's differing retry settings", err)
	}
}

// TestSimClientOverride checks that Options.Client wins over the scenario,
// named by ClientSource, and Options.Retry over both.
func TestSimClientOverride(t *testing.T) {
	const y = `client: {retry: standard, max_attempts: 5}
keys: {k: {account: a}}
workloads:
  w: {caller: a, key: k, operation: Encrypt, rate: 10/s, client: {retry_bucket: 100}}
`
	r := simulate(t, y, sim.Options{Client: scenario.Client{MaxAttempts: 2, RetryBucket: scenario.RetryBucketNone}, ClientSource: "probe"})
	c := workload(t, r, "w").Client
	if c.MaxAttempts != (report.ClientSetting{Value: "2", Source: "probe"}) || c.RetryBucket != (report.ClientSetting{Value: "none", Source: "probe"}) ||
		c.Retry != (report.ClientSetting{Value: scenario.RetryStandard, Source: report.SourceDefault}) {
		t.Errorf("Client = %+v; want 2 attempts and no bucket from the override, sdk-standard from the scenario default", c)
	}
	r = simulate(t, y, sim.Options{Retry: scenario.RetryNone, Client: scenario.Client{Retry: scenario.RetryAdaptive}})
	c = workload(t, r, "w").Client
	if c.Retry != (report.ClientSetting{Value: scenario.RetryNone, Source: report.SourceRetryFlag}) ||
		c.MaxAttempts != (report.ClientSetting{Value: "1", Source: "retry none"}) {
		t.Errorf("Client = %+v; want retry none from the --retry flag, 1 attempt", c)
	}
}
