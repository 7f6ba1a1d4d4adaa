package driver_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// exhaustionScenario has two Encrypt workloads of one caller, each at 75%
// of the scaled symmetric quota (150% together), in standard retry mode;
// with shared set they send through one SDK client named app. The retry
// bucket is set so that at scale it holds the SDK's 500 tokens (a run
// scales it with the traffic).
func exhaustionScenario(scale float64, d time.Duration, shared bool) *scenario.Scenario {
	sc := newScenario(d)
	sc.Scale = scale
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
	c := scenario.Client{Retry: scenario.RetryStandardName, RetryBucket: int(math.Round(scenario.SDKRetryBucket / scale))}
	if shared {
		c.Shared = "app"
	}
	sc.Workloads = []scenario.Workload{
		{Name: "ingest", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 75_000, Client: c},
		{Name: "orders", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 75_000, Client: c},
	}
	return sc
}

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

func TestSharedClientExhaustsRetryQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("two 8 s runs")
	}
	const scale = 0.0004 // symmetric quota 40/s; 30/s + 30/s offered
	const d = 8 * time.Second
	runOne := func(shared bool) *report.Results {
		e := newEnv(t, emulator.Options{})
		cfg := symmetricConfig(scale)
		return e.run(t, context.Background(), exhaustionScenario(scale, d, shared), func(o *driver.Options) {
			o.BeforeMeasure = e.armQuota(t, cfg)
			o.Quota = cfg
			o.SDKEnv = &driver.SDKEnv{}
			o.DrainTimeout = 10 * time.Second
		}).Results
	}
	sharedRes, separateRes := runOne(true), runOne(false)
	for _, r := range []*report.Results{sharedRes, separateRes} {
		for _, w := range r.Workloads {
			t.Logf("client %s: %s: requests %d, ok %d, attempts %d, throttled attempts %d, errors %v, exhausted %+v",
				w.Client.Name, w.Name, w.Requests, w.OK, w.Attempts, w.ThrottledAttempts, w.Errors, w.RetryQuotaExhausted)
		}
	}
	sharedN, sharedFirst := exhaustion(sharedRes.Workloads)
	sepN, sepFirst := exhaustion(separateRes.Workloads)
	t.Logf("shared client: %d QuotaExceededError from second %d; separate clients: %d from second %d", sharedN, sharedFirst, sepN, sepFirst)
	// Measured on a 2-core machine: shared 110-121 requests from second
	// 3, separate 68-74 from second 5. Both clients' buckets drain at a
	// rate proportional to their load, so one client carrying both
	// workloads runs dry in about half the time.
	if sharedN == 0 || sharedFirst < 0 || sharedFirst > 5 {
		t.Errorf("shared client: %d QuotaExceededError from second %d; want some, from second 5 at the latest", sharedN, sharedFirst)
	}
	if sepFirst >= 0 && sepFirst <= sharedFirst {
		t.Errorf("separate clients ran dry in second %d; want later than the shared client (second %d) or never", sepFirst, sharedFirst)
	}
	if float64(sharedN) < 1.3*float64(sepN) {
		t.Errorf("QuotaExceededError: shared %d, separate %d; want the shared client's at least 1.3 times the separate clients'", sharedN, sepN)
	}
	for _, w := range sharedRes.Workloads {
		c := w.Client
		if c == nil || c.Name != "app" || !c.Shared || strings.Join(c.Workloads, ",") != "ingest,orders" {
			t.Fatalf("%s: Client = %+v; want shared client app of ingest and orders", w.Name, c)
		}
		if c.Retry != (report.ClientSetting{Value: scenario.RetryStandard, Source: report.SourceWorkload}) ||
			c.RetryBucket != (report.ClientSetting{Value: "1250000", Source: report.SourceWorkload}) || c.RetryTokens != 500 ||
			c.MaxAttempts != (report.ClientSetting{Value: "3", Source: report.SourceSDK}) {
			t.Errorf("%s: Client settings = %+v; want sdk-standard and 1250000 tokens (500 at this scale) from the workload, 3 attempts from the SDK", w.Name, c)
		}
		// Its own error: QuotaExceededError beside, not inside, the
		// ThrottlingException count.
		if q := w.RetryQuotaExhausted; q == nil || q.Client != "app" || q.Requests != w.Errors[failure.CodeQuotaExceeded] {
			t.Errorf("%s: RetryQuotaExhausted = %+v, errors %v; want client app and the QuotaExceededError count", w.Name, q, w.Errors)
		}
	}
	for _, w := range separateRes.Workloads {
		if c := w.Client; c == nil || c.Name != w.Name || c.Shared {
			t.Errorf("%s: Client = %+v; want a client of its own", w.Name, c)
		}
	}
	var text bytes.Buffer
	if err := render.WriteText(&text, sharedRes); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(text.String()), " ")
	for _, want := range []string{
		"Shared SDK client app (used by ingest and orders) ran out of retry quota from second",
		"failed with QuotaExceededError, without the SDK sending their retry",
		"app (shared)",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestAdaptiveLowersThrottledAttempts(t *testing.T) {
	if testing.Short() {
		t.Skip("two 6 s runs")
	}
	const scale = 0.001 // symmetric quota 100/s; 150/s offered
	runMode := func(mode string) report.Workload {
		e := newEnv(t, emulator.Options{})
		cfg := symmetricConfig(scale)
		sc := newScenario(6 * time.Second)
		sc.Scale = scale
		sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
		sc.Workloads = []scenario.Workload{{Name: "w", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 150_000}}
		out := e.run(t, context.Background(), sc, func(o *driver.Options) {
			o.BeforeMeasure = e.armQuota(t, cfg)
			o.Quota = cfg
			o.Client = scenario.Client{Retry: mode}
			o.SDKEnv = &driver.SDKEnv{}
			o.DrainTimeout = 10 * time.Second
		})
		w := workloadResult(t, out.Results, "w")
		t.Logf("%s: requests %d, ok %d, attempts %d, throttled attempts %d (%.1f%%), dropped %d, errors %v, p99 %.0f ms",
			mode, w.Requests, w.OK, w.Attempts, w.ThrottledAttempts, 100*throttledShare(w), w.Dropped, w.Errors, w.LatencyMs.P99)
		return w
	}
	std, adaptive := runMode(scenario.RetryStandard), runMode(scenario.RetryAdaptive)
	// Measured: standard 48% of attempts throttled, adaptive 2.5% (its
	// client-side limiter holds requests back instead: dropped arrivals,
	// long waits).
	if s, a := throttledShare(std), throttledShare(adaptive); s < 0.2 || a > s/2 {
		t.Errorf("throttled attempts: standard %.1f%%, adaptive %.1f%%; want standard above 20%% and adaptive below half of it", 100*s, 100*a)
	}
	if c := adaptive.Client; c == nil || c.Retry != (report.ClientSetting{Value: scenario.RetryAdaptive, Source: report.SourceStudyVariant}) {
		t.Errorf("adaptive run: Client = %+v; want retry adaptive from the override", c)
	}
}

func TestRetryModeFromEnvironment(t *testing.T) {
	t.Setenv("AWS_RETRY_MODE", "adaptive")
	t.Setenv("AWS_MAX_ATTEMPTS", "4")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	const scale = 0.001 // symmetric quota 100/s; 150/s offered by the silent workload
	e := newEnv(t, emulator.Options{})
	cfg := symmetricConfig(scale)
	sc := newScenario(3 * time.Second)
	sc.Scale = scale
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
	sc.Workloads = []scenario.Workload{
		{Name: "silent", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 150_000},
		{Name: "pinned", Caller: "b", Key: "k", KeyRef: scenario.KeyRefARN, Operation: "Encrypt", Rate: 1000,
			Client: scenario.Client{Retry: scenario.RetryStandardName}},
	}
	out := e.run(t, context.Background(), sc, func(o *driver.Options) {
		o.BeforeMeasure = e.armQuota(t, cfg)
		o.Quota = cfg
	})
	silent, pinned := workloadResult(t, out.Results, "silent"), workloadResult(t, out.Results, "pinned")
	t.Logf("silent: attempts %d, throttled %d (%.1f%%), dropped %d, errors %v", silent.Attempts, silent.ThrottledAttempts,
		100*throttledShare(silent), silent.Dropped, silent.Errors)
	want := report.ClientSetting{Value: scenario.RetryAdaptive, Source: "environment AWS_RETRY_MODE"}
	if c := silent.Client; c == nil || c.Retry != want || c.MaxAttempts != (report.ClientSetting{Value: "4", Source: "environment AWS_MAX_ATTEMPTS"}) {
		t.Errorf("silent: Client = %+v; want adaptive from AWS_RETRY_MODE and 4 attempts from AWS_MAX_ATTEMPTS", c)
	}
	if c := pinned.Client; c == nil || c.Retry != (report.ClientSetting{Value: scenario.RetryStandard, Source: report.SourceWorkload}) {
		t.Errorf("pinned: Client = %+v; want sdk-standard from the scenario workload, not the environment", c)
	}
	// The mode changed behaviour, not only the label: at 150% of the
	// quota standard mode throttles about half the attempts (see
	// TestAdaptiveLowersThrottledAttempts).
	if s := throttledShare(silent); s > 0.25 {
		t.Errorf("silent: %.1f%% of attempts throttled; want adaptive mode's client-side limiter to keep it under 25%%", 100*s)
	}
	var text bytes.Buffer
	if err := render.WriteText(&text, out.Results); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "adaptive (environment AWS_RETRY_MODE)") {
		t.Errorf("text report does not say where the retry mode came from:\n%s", text.String())
	}
}

func TestLoadSDKEnv(t *testing.T) {
	dir := t.TempDir()
	cfgFile := dir + "/config"
	if err := os.WriteFile(cfgFile, []byte("[default]\nretry_mode = adaptive\nmax_attempts = 7\n[profile other]\nretry_mode = standard\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want driver.SDKEnv
	}{
		{"nothing set", map[string]string{"AWS_CONFIG_FILE": dir + "/none"}, driver.SDKEnv{}},
		{"environment", map[string]string{"AWS_CONFIG_FILE": dir + "/none", "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "5"},
			driver.SDKEnv{RetryMode: scenario.RetryStandard, RetryModeSource: "environment AWS_RETRY_MODE", MaxAttempts: 5, MaxAttemptsSource: "environment AWS_MAX_ATTEMPTS"}},
		{"shared config", map[string]string{"AWS_CONFIG_FILE": cfgFile},
			driver.SDKEnv{RetryMode: scenario.RetryAdaptive, RetryModeSource: "shared config (profile default) retry_mode", MaxAttempts: 7, MaxAttemptsSource: "shared config (profile default) max_attempts"}},
		{"environment wins over the file", map[string]string{"AWS_CONFIG_FILE": cfgFile, "AWS_RETRY_MODE": "standard"},
			driver.SDKEnv{RetryMode: scenario.RetryStandard, RetryModeSource: "environment AWS_RETRY_MODE", MaxAttempts: 7, MaxAttemptsSource: "shared config (profile default) max_attempts"}},
		{"profile", map[string]string{"AWS_CONFIG_FILE": cfgFile, "AWS_PROFILE": "other"},
			driver.SDKEnv{RetryMode: scenario.RetryStandard, RetryModeSource: "shared config (profile other) retry_mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := driver.LoadSDKEnv(context.Background())
			if err != nil || got != tt.want {
				t.Errorf("LoadSDKEnv() = %+v, %v; want %+v, nil", got, err, tt.want)
			}
		})
	}
	t.Run("invalid", func(t *testing.T) {
		t.Setenv("AWS_CONFIG_FILE", dir+"/none")
		t.Setenv("AWS_RETRY_MODE", "eager")
		if _, err := driver.LoadSDKEnv(context.Background()); err == nil {
			t.Errorf("LoadSDKEnv() with AWS_RETRY_MODE=eager = nil error; want the SDK's refusal")
		}
	})
}

func TestSharedClientSettingsMustAgree(t *testing.T) {
	sc := exhaustionScenario(0.001, time.Second, true)
	sc.Workloads[1].Client.MaxAttempts = 10
	_, err := driver.New(driver.Options{Scenario: sc, Target: driver.Target{Kind: driver.TargetEmbedded, Endpoint: "http://127.0.0.1:1"}, SDKEnv: &driver.SDKEnv{}})
	if !errors.Is(err, driver.ErrBadOptions) || !strings.Contains(err.Error(), "share client app with different retry settings") {
		t.Errorf("New = %v; want ErrBadOptions about client app's settings", err)
	}
}
