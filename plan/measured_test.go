package plan_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

// alignedEmulator is the emulator on httptest with a clock that can be
// shifted so that the next KMS request falls on a whole second: the fixed
// one-second quota windows then start with the measured window, as
// Options.AlignedWindows assumes. Without it a run of a few seconds
// starts inside a window and the partial first and last windows dilute
// the measured share by up to a few points; aligning (rather than running
// for minutes) keeps the test short and the comparison exact.
type alignedEmulator struct {
	srv       *emulator.Server
	url       string
	offset    atomic.Int64 // emulator clock - wall clock, nanoseconds
	alignNext atomic.Bool
}

func newAlignedEmulator(t *testing.T) *alignedEmulator {
	t.Helper()
	e := &alignedEmulator{}
	srv, err := emulator.New(emulator.Options{
		Clock: func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) },
	})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	e.srv = srv
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && e.alignNext.CompareAndSwap(true, false) {
			now := time.Now()
			e.offset.Store(int64(now.Truncate(time.Second).Add(time.Second).Sub(now)))
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// TestPredictionMatchesMeasurement runs constant-rate scenarios with
// retries off against the emulator and checks that the predicted
// throttled-attempt share of every bucket is within 2 points of the
// measured one.
func TestPredictionMatchesMeasurement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the driver for about 12 s")
	}
	// At scale 0.004 the us-east-1 symmetric quota is 400/s.
	const scale = 0.004
	tests := []struct {
		name string
		yaml string
		want map[string]float64 // bucket -> predicted share, by hand
	}{
		{
			// 240 + 240 = 480/s on two keys of one account: 1 - 400/480.
			name: "shared bucket at 120%",
			yaml: `keys: {k1: {account: a}, k2: {account: a}}
workloads:
  enc: {caller: a, key: k1, operation: Encrypt, rate: 60000/s, retry: none}
  gdk: {caller: a, key: k2, operation: GenerateDataKey, rate: 60000/s, retry: none}
`,
			want: map[string]float64{symA: 1.0 / 6},
		},
		{
			// 300 + 300 = 600/s: 1 - 400/600.
			name: "shared bucket at 150%",
			yaml: `keys: {k1: {account: a}, k2: {account: a}}
workloads:
  enc: {caller: a, key: k1, operation: Encrypt, rate: 75000/s, retry: none}
  gdk: {caller: a, key: k2, operation: GenerateDataKey, rate: 75000/s, retry: none}
`,
			want: map[string]float64{symA: 1.0 / 3},
		},
		{
			// b calls a's key: charged to b (300/s, 75%), so a's bucket
			// holds only a's 480/s.
			name: "two accounts",
			yaml: `keys: {k1: {account: a}}
workloads:
  enc: {caller: a, key: k1, operation: Encrypt, rate: 60000/s, retry: none}
  gdk: {caller: a, key: k1, operation: GenerateDataKey, rate: 60000/s, retry: none}
  cross: {caller: b, key: k1, operation: Encrypt, rate: 75000/s, retry: none}
`,
			want: map[string]float64{symA: 1.0 / 6, symB: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parse(t, "duration: 4s\n"+tt.yaml)
			cfg := quota.DefaultConfig()
			cfg.Scale = scale
			p, err := plan.Predict(s, plan.Options{Scale: scale, Quota: cfg, Retry: scenario.RetryNone, WindowPhase: quota.WindowPhase{Fixed: true}})
			if err != nil {
				t.Fatalf("Predict: %v", err)
			}
			for name, want := range tt.want {
				if got := bucket(t, p, name).ThrottledShare; !near(got, want, 1e-9) {
					t.Errorf("%s: predicted share = %.4f; want %.4f by hand", name, got, want)
				}
			}

			e := newAlignedEmulator(t)
			d, err := driver.New(driver.Options{
				Scenario: s,
				Target:   driver.Target{Kind: driver.TargetEmbedded, Endpoint: e.url},
				Scale:    scale,
				Retry:    scenario.RetryNone,
				Quota:    cfg,
				BeforeMeasure: func() {
					m, err := quota.New(cfg)
					if err != nil {
						t.Errorf("quota.New: %v", err)
						return
					}
					e.srv.SetQuota(m)
					e.alignNext.Store(true)
				},
			})
			if err != nil {
				t.Fatalf("driver.New: %v", err)
			}
			out, err := d.Run(context.Background())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			res := out.Results
			p.Annotate(res)
			if len(res.Buckets) != len(tt.want) {
				t.Errorf("measured buckets = %+v; want %d", res.Buckets, len(tt.want))
			}
			for _, b := range res.Buckets {
				measured := b.ThrottledShare()
				t.Logf("%s: predicted %.2f%% at %.1f/s, measured %.2f%% at %.1f/s (%d of %d attempts throttled)",
					b.Name, 100*b.PredictedThrottledShare, b.PredictedDemandPerS, 100*measured, b.DemandPerS,
					b.Throttled, b.Allowed+b.Throttled)
				if math.Abs(b.PredictedThrottledShare-measured) > 0.02 {
					t.Errorf("%s: predicted throttled share %.2f%%, measured %.2f%%; want within 2 points",
						b.Name, 100*b.PredictedThrottledShare, 100*measured)
				}
				if _, ok := tt.want[b.Name]; !ok {
					t.Errorf("measured bucket %s was not predicted", b.Name)
				}
			}
		})
	}
}
