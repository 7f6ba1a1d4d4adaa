package sim_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/sim"
)

func simulate(t *testing.T, yaml string, opts sim.Options) *report.Results {
	t.Helper()
	opts.Scenario = parse(t, yaml)
	opts.Start = time.Unix(1_800_000_000, 0)
	sm, err := sim.New(opts)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	out, err := sm.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.Results
}

func workload(t *testing.T, r *report.Results, name string) report.Workload {
	t.Helper()
	for _, w := range r.Workloads {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("no workload %q", name)
	return report.Workload{}
}

// TestSimKnownShares checks the simulation against shares worked out by
// hand for constant arrivals on the fixed-window quota.
func TestSimKnownShares(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, r *report.Results)
	}{{
		name: "shared bucket at 120%, retries off: 1/6 throttled",
		yaml: `keys: {k1: {account: a}, k2: {account: a}}
workloads:
  enc: {caller: a, key: k1, operation: Encrypt, rate: 60000/s, retry: none}
  gdk: {caller: a, key: k2, operation: GenerateDataKey, rate: 60000/s, retry: none}
`,
		check: func(t *testing.T, r *report.Results) {
			var thr, att int64
			for _, w := range r.Workloads {
				thr += w.ThrottledAttempts
				att += w.Attempts
				if w.Attempts != w.Requests {
					t.Errorf("%s: attempts %d, requests %d; want equal with retries off", w.Name, w.Attempts, w.Requests)
				}
			}
			if got := float64(thr) / float64(att); math.Abs(got-1.0/6) > 0.001 {
				t.Errorf("throttled share = %.4f; want 1/6", got)
			}
		},
	}, {
		name: "cross-account calls are charged to the caller",
		yaml: `keys: {k1: {account: a}}
workloads:
  own: {caller: a, key: k1, operation: Encrypt, rate: 90000/s, retry: none}
  cross: {caller: b, key: k1, operation: Encrypt, rate: 90000/s, retry: none}
`,
		check: func(t *testing.T, r *report.Results) {
			for _, w := range r.Workloads {
				if w.ThrottledAttempts != 0 || w.OK != w.Requests {
					t.Errorf("%s: %d throttled, %d of %d ok; want none throttled", w.Name, w.ThrottledAttempts, w.OK, w.Requests)
				}
			}
		},
	}, {
		name: "standard retries drain the retry quota",
		yaml: `keys: {k1: {account: a}}
workloads:
  hot: {caller: a, key: k1, operation: Encrypt, rate: 200000/s}
`,
		check: func(t *testing.T, r *report.Results) {
			w := workload(t, r, "hot")
			if w.Errors[failure.CodeQuotaExceeded] == 0 {
				t.Errorf("errors = %v; want QuotaExceededError at twice the quota", w.Errors)
			}
			if w.Attempts <= w.Requests {
				t.Errorf("attempts %d, requests %d; want retries", w.Attempts, w.Requests)
			}
			if w.LatencyMs.Max < 100 {
				t.Errorf("max latency %.1f ms; want backoff of the order of a second", w.LatencyMs.Max)
			}
		},
	}, {
		name: "disable-key fails requests until enable-key",
		yaml: `duration: 4s
keys: {k1: {account: a}}
workloads:
  app: {caller: a, key: k1, operation: Decrypt, rate: 1000/s}
events:
  - {at: 1s, action: disable-key, key: k1}
  - {at: 2s, action: enable-key, key: k1}
`,
		check: func(t *testing.T, r *report.Results) {
			w := workload(t, r, "app")
			if got := w.Errors["DisabledException"]; got != 1000 {
				t.Errorf("DisabledException = %d; want 1000 (one second at 1000/s)", got)
			}
			if len(r.Events) != 2 || len(r.Events[0].Affected) != 1 {
				t.Errorf("events = %+v; want 2 with app affected by the first", r.Events)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := simulate(t, tt.yaml, sim.Options{})
			if !r.Simulated || r.Target.Kind != sim.TargetKind {
				t.Errorf("Simulated = %v, Target.Kind = %q; want true, %q", r.Simulated, r.Target.Kind, sim.TargetKind)
			}
			tt.check(t, r)
		})
	}
}

// TestSimIsolateCoupling checks that --isolate fills the coupling table.
func TestSimIsolateCoupling(t *testing.T) {
	r := simulate(t, `keys: {k1: {account: a}, k2: {account: a}}
workloads:
  noisy: {caller: a, key: k1, operation: Encrypt, rate: 90000/s, retry: none}
  quiet: {caller: a, key: k2, operation: Decrypt, rate: 30000/s, retry: none}
`, sim.Options{Isolate: true})
	if len(r.Coupling) != 2 {
		t.Fatalf("coupling = %+v; want 2 entries", r.Coupling)
	}
	for _, c := range r.Coupling {
		// Together 120,000/s against 100,000/s: each loses 1/6.
		if math.Abs(c.Coupling-1.0/6) > 0.005 {
			t.Errorf("%s: coupling = %.4f; want 1/6", c.Workload, c.Coupling)
		}
	}
}

// TestSimShiftTrafficBuckets checks that attempts after a shift-traffic
// event are charged to the quota bucket of the Region the traffic moved
// to, per workload (Workload.BucketAttempts) and per bucket, as the driver
// charges them.
func TestSimShiftTrafficBuckets(t *testing.T) {
	r := simulate(t, `duration: 4s
keys: {k: {account: a, multi_region: true, replicas: [ca-central-1]}}
workloads:
  moved: {caller: a, key: k, operation: Decrypt, rate: 30000/s, retry: none}
  stays: {caller: a, key: k, operation: Encrypt, rate: 10000/s, retry: none}
events:
  - {at: 1s, action: shift-traffic, workload: moved, to_region: ca-central-1}
`, sim.Options{})
	const (
		east    = "111111111111/us-east-1/symmetric"
		central = "111111111111/ca-central-1/symmetric"
	)
	moved := workload(t, r, "moved")
	// 1 s in us-east-1 (quota 100,000/s: nothing throttled), then 3 s of
	// 30,000/s against ca-central-1's 10,000/s quota: 2/3 throttled.
	want := map[string]report.BucketAttempts{
		east:    {Attempts: 30000, Throttled: 0},
		central: {Attempts: 90000, Throttled: 60000},
	}
	if len(moved.BucketAttempts) != len(want) {
		t.Fatalf("moved: BucketAttempts = %v; want %v", moved.BucketAttempts, want)
	}
	for name, w := range want {
		if got := moved.BucketAttempts[name]; got != w {
			t.Errorf("moved: BucketAttempts[%s] = %+v; want %+v", name, got, w)
		}
	}
	if stays := workload(t, r, "stays"); stays.BucketAttempts != nil {
		t.Errorf("stays: BucketAttempts = %v; want nil (all in its own bucket)", stays.BucketAttempts)
	}
	got := map[string]report.Bucket{}
	for _, b := range r.Buckets {
		got[b.Name] = b
	}
	for name, w := range map[string]struct {
		allowed, throttled int64
		quota              float64
		workloads          []string
	}{
		east:    {allowed: 30000 + 40000, quota: 100000, workloads: []string{"moved", "stays"}},
		central: {allowed: 30000, throttled: 60000, quota: 10000, workloads: []string{"moved"}},
	} {
		b, ok := got[name]
		if !ok {
			t.Errorf("bucket %s missing from %v", name, r.Buckets)
			continue
		}
		if b.Allowed != w.allowed || b.Throttled != w.throttled || b.QuotaPerS != w.quota ||
			strings.Join(b.Workloads, ",") != strings.Join(w.workloads, ",") {
			t.Errorf("bucket %s: allowed %d, throttled %d, quota %g/s, workloads %v; want %d, %d, %g/s, %v",
				name, b.Allowed, b.Throttled, b.QuotaPerS, b.Workloads, w.allowed, w.throttled, w.quota, w.workloads)
		}
	}
}

// TestSimRecordsTeam: a workload's team reaches its results; a workload
// without one has none.
func TestSimRecordsTeam(t *testing.T) {
	r := simulate(t, `keys: {k: {account: a}}
workloads:
  owned: {caller: a, key: k, operation: Encrypt, rate: 10/s, team: payments}
  stray: {caller: a, key: k, operation: Encrypt, rate: 10/s}
`, sim.Options{Duration: 2 * time.Second})
	if got := workload(t, r, "owned").Team; got != "payments" {
		t.Errorf("owned: team %q; want payments", got)
	}
	if got := workload(t, r, "stray").Team; got != "" {
		t.Errorf("stray: team %q; want none", got)
	}
}
