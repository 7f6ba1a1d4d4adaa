package plan_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// parse builds a scenario from inline YAML; the header names two accounts.
func parse(t *testing.T, body string) *scenario.Scenario {
	t.Helper()
	src := "name: t\nregion: us-east-1\naccounts: {a: \"111111111111\", b: \"222222222222\"}\n" + body
	s, err := scenario.Parse("inline.yaml", []byte(src))
	if err != nil {
		t.Fatalf("scenario.Parse:\n%s\n%v", src, err)
	}
	return s
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func bucket(t *testing.T, p *plan.Plan, name string) plan.Bucket {
	t.Helper()
	for _, b := range p.Buckets {
		if b.Name == name {
			return b
		}
	}
	var names []string
	for _, b := range p.Buckets {
		names = append(names, b.Name)
	}
	t.Fatalf("no bucket %q in plan; buckets %v", name, names)
	return plan.Bucket{}
}

func workload(t *testing.T, p *plan.Plan, name string) plan.Workload {
	t.Helper()
	for _, w := range p.Workloads {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("no workload %q in plan", name)
	return plan.Workload{}
}

const (
	symA = "111111111111/us-east-1/symmetric"
	symB = "222222222222/us-east-1/symmetric"
)

// wantBucket is what a test checks of one bucket; a negative value is not
// checked.
type wantBucket struct {
	name                    string
	quota, demand, peak     float64
	share, growth, headroom float64
}

func TestPredictBuckets(t *testing.T) {
	const aligned = true
	tests := []struct {
		name     string
		yaml     string
		aligned  bool
		buckets  []wantBucket
		nBuckets int
		first    string // Saturation.Bucket
	}{
		{
			// 120,000/s against us-east-1's 100,000/s: 1 - 100/120 = 1/6.
			name: "one bucket at 120%",
			yaml: `duration: 10s
keys: {k: {account: a}}
workloads:
  w1: {caller: a, key: k, operation: Encrypt, rate: 80000/s, retry: none}
  w2: {caller: a, key: k, operation: Decrypt, rate: 40000/s, retry: none}
`,
			aligned:  aligned,
			buckets:  []wantBucket{{symA, 100_000, 120_000, 120_000, 1.0 / 6, 100.0 / 120, -20_000}},
			nBuckets: 1, first: symA,
		},
		{
			// Each account has its own bucket: 60% each, no throttling.
			name: "two accounts, two buckets",
			yaml: `duration: 10s
keys: {ka: {account: a}, kb: {account: b}}
workloads:
  w1: {caller: a, key: ka, operation: Encrypt, rate: 60000/s, retry: none}
  w2: {caller: b, key: kb, operation: Encrypt, rate: 70000/s, retry: none}
`,
			aligned: aligned,
			buckets: []wantBucket{
				{symA, 100_000, 60_000, 60_000, 0, 100.0 / 60, 40_000},
				{symB, 100_000, 70_000, 70_000, 0, 100.0 / 70, 30_000},
			},
			nBuckets: 2, first: symB,
		},
		{
			// a calls b's key: charged to a, the caller, so a's bucket
			// holds 70,000 + 50,000 and b's only its own 30,000.
			name: "cross-account charged to the caller",
			yaml: `duration: 10s
keys: {ka: {account: a}, kb: {account: b}}
workloads:
  own:   {caller: a, key: ka, operation: Encrypt, rate: 70000/s, retry: none}
  cross: {caller: a, key: kb, operation: Decrypt, rate: 50000/s, retry: none}
  bown:  {caller: b, key: kb, operation: Encrypt, rate: 30000/s, retry: none}
`,
			aligned: aligned,
			buckets: []wantBucket{
				{symA, 100_000, 120_000, 120_000, 1.0 / 6, 100.0 / 120, -20_000},
				{symB, 100_000, 30_000, 30_000, 0, 100.0 / 30, 70_000},
			},
			nBuckets: 2, first: symA,
		},
		{
			// GenerateDataKey weighs 3 in the key store: 700 x 3 = 2,100
			// against 1,800/s, so the store binds first (1 - 18/21 = 1/7)
			// while the caller's symmetric bucket is at 0.7%.
			name: "custom key store weights, store binds first",
			yaml: `duration: 10s
keys: {k: {account: a, custom_key_store: hsm-1}}
workloads:
  gdk: {caller: a, key: k, operation: GenerateDataKey, rate: 700/s, retry: none}
`,
			aligned: aligned,
			buckets: []wantBucket{
				{"-/us-east-1/cks:hsm-1", 1800, 2100, 2100, 1.0 / 7, 1800.0 / 2100, -300},
				{symA, 100_000, 700, 700, 0, 100_000.0 / 700, 99_300},
			},
			nBuckets: 2, first: "-/us-east-1/cks:hsm-1",
		},
		{
			// At scale 0.01 the quota is 1,000/s. A 10 s ramp 0 -> 2,000/s
			// (seconds average 100, 300, ..., 1,900/s) throttles
			// 100+300+500+700+900 = 2,500; the 10 s hold at 2,000/s
			// throttles 10 x 1,000. Total 12,500 of 30,000 = 5/12; mean
			// 1,500/s; busiest second 2,000/s.
			name: "phases",
			yaml: `duration: 20s
scale: 0.01
keys: {k: {account: a}}
workloads:
  ramp:
    caller: a
    key: k
    operation: Encrypt
    retry: none
    arrival: phases
    phases: [{duration: 10s, to: 200000/s}, {duration: 10s, to: 200000/s}]
`,
			aligned:  aligned,
			buckets:  []wantBucket{{symA, 1000, 1500, 2000, 5.0 / 12, 0.5, -500}},
			nBuckets: 1, first: symA,
		},
		{
			// The workload moves to us-west-2 after 5 of 20 s: us-east-1
			// sees 60,000 x 5/20, us-west-2 60,000 x 15/20 on average.
			name: "shift-traffic",
			yaml: `duration: 20s
keys: {k: {account: a, multi_region: true, replicas: [us-west-2]}}
workloads:
  w: {caller: a, key: k, operation: Decrypt, rate: 60000/s, retry: none}
events:
  - {at: 5s, action: shift-traffic, workload: w, to_region: us-west-2}
`,
			aligned: aligned,
			buckets: []wantBucket{
				{symA, 100_000, 15_000, 60_000, 0, -1, 85_000},
				{"111111111111/us-west-2/symmetric", 100_000, 45_000, 60_000, 0, -1, 55_000},
			},
			nBuckets: 2,
		},
		{
			// A run starting at a random instant of a second meets a
			// partial first and last window. Starts j/8, j = 0..7, of a
			// 10 s run at 1,200/s against 1,000/s throttle 2,000, 1,850,
			// 1,800 (x5) and 1,850: mean 1,837.5 of 12,000 = 0.153125.
			name: "windows not aligned",
			yaml: `duration: 10s
scale: 0.01
keys: {k: {account: a}}
workloads:
  w: {caller: a, key: k, operation: Encrypt, rate: 120000/s, retry: none}
`,
			aligned:  false,
			buckets:  []wantBucket{{symA, 1000, 1200, 1200, 0.153125, 1000.0 / 1200, -200}},
			nBuckets: 1, first: symA,
		},
		{
			// Poisson arrivals with mean at the quota (100/s at scale
			// 0.001): per second N ~ normal(100, sd 10), expected excess
			// 10 x φ(0) = 3.989, a share of 3.99% where the fluid model
			// would say 0.
			name: "poisson at the quota",
			yaml: `duration: 10s
scale: 0.001
keys: {k: {account: a}}
workloads:
  w: {caller: a, key: k, operation: Encrypt, rate: 100000/s, arrival: poisson, retry: none}
`,
			aligned:  aligned,
			buckets:  []wantBucket{{symA, 100, 100, 100, 10 / math.Sqrt(2*math.Pi) / 100, 1, 0}},
			nBuckets: 1, first: symA,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parse(t, tt.yaml)
			p, err := plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: tt.aligned}})
			if err != nil {
				t.Fatalf("Predict: %v", err)
			}
			if len(p.Buckets) != tt.nBuckets {
				t.Errorf("len(Buckets) = %d; want %d: %+v", len(p.Buckets), tt.nBuckets, p.Buckets)
			}
			for _, wb := range tt.buckets {
				b := bucket(t, p, wb.name)
				check := func(field string, got, want, tol float64) {
					if want >= 0 || field == "headroom" {
						if !near(got, want, tol) {
							t.Errorf("%s: %s = %.6g; want %.6g", wb.name, field, got, want)
						}
					}
				}
				check("quota", b.QuotaPerS, wb.quota, 1e-6)
				check("demand", b.DemandPerS, wb.demand, 1e-6*wb.demand+1e-9)
				check("peak", b.PeakPerS, wb.peak, 1e-6*wb.peak+1e-9)
				check("share", b.ThrottledShare, wb.share, 1e-4)
				check("growth", b.GrowthFactor, wb.growth, 1e-6)
				check("headroom", b.HeadroomPerS, wb.headroom, 1e-6*math.Abs(wb.headroom)+1e-6)
				if want := b.DemandPerS / b.QuotaPerS; !near(b.Utilisation, want, 1e-9) {
					t.Errorf("%s: utilisation = %g; want demand/quota = %g", wb.name, b.Utilisation, want)
				}
				if b.RetryModel != plan.RetryModelNone || b.AttemptThrottledShare != b.ThrottledShare {
					t.Errorf("%s: retry model %q, attempt share %g; want %q and the first-attempt share %g with retries off",
						wb.name, b.RetryModel, b.AttemptThrottledShare, plan.RetryModelNone, b.ThrottledShare)
				}
			}
			if tt.first != "" && (p.Saturation == nil || p.Saturation.Bucket != tt.first) {
				t.Errorf("Saturation = %+v; want bucket %s", p.Saturation, tt.first)
			}
		})
	}
}

func TestPredictWorkloads(t *testing.T) {
	s := parse(t, `duration: 10s
keys:
  k: {account: a, custom_key_store: hsm-1}
  mr: {account: b, multi_region: true, replicas: [us-west-2]}
workloads:
  gdk: {caller: a, key: k, operation: GenerateDataKey, rate: 700/s, retry: none}
  cached: {caller: b, key: mr, operation: GenerateDataKey, rate: 1000/s, retry: none, data_key_cache: {max_age: 5m, max_uses: 100}}
  slow: {caller: b, key: mr, operation: Decrypt, rate: 100/s, retry: none, data_key_cache: {max_age: 2s}}
  rare: {caller: b, key: mr, operation: Decrypt, rate: 0.1/s, retry: none, data_key_cache: {max_age: 2s}}
events:
  - {at: 5s, action: shift-traffic, workload: slow, to_region: us-west-2}
`)
	p, err := plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	tests := []struct {
		name          string
		rate, calls   float64
		share         float64
		bucket        string
		wantBuckets   int
		wantRetry     string
		wantAttempts1 bool
	}{
		// The store's share (1/7) decides: a request is refused when any
		// of its buckets is full.
		{"gdk", 700, 700, 1.0 / 7, symA, 2, scenario.RetryNone, true},
		// 1,000/s over 100 uses per key: 10 calls/s (1/max_age = 1/300 is
		// smaller).
		{"cached", 1000, 10, 0, symB, 1, scenario.RetryNone, true},
		// A key lives 2 s: 0.5 calls/s; the shift adds us-west-2's bucket.
		{"slow", 100, 0.5, 0, symB, 2, scenario.RetryNone, true},
		// Fewer arrivals than refreshes: every arrival calls.
		{"rare", 0.1, 0.1, 0, symB, 1, scenario.RetryNone, true},
	}
	for _, tt := range tests {
		w := workload(t, p, tt.name)
		if !near(w.RatePerS, tt.rate, 1e-6*tt.rate) || !near(w.CallsPerS, tt.calls, 1e-6*tt.calls) {
			t.Errorf("%s: rate, calls = %g, %g; want %g, %g", tt.name, w.RatePerS, w.CallsPerS, tt.rate, tt.calls)
		}
		if !near(w.ThrottledShare, tt.share, 1e-6) {
			t.Errorf("%s: throttled share = %g; want %g", tt.name, w.ThrottledShare, tt.share)
		}
		if w.Bucket != tt.bucket || len(w.Buckets) != tt.wantBuckets {
			t.Errorf("%s: Bucket, Buckets = %q, %v; want %q and %d buckets", tt.name, w.Bucket, w.Buckets, tt.bucket, tt.wantBuckets)
		}
		if w.Retry != tt.wantRetry || w.MaxAttempts != 1 || w.AttemptsPerS != w.CallsPerS {
			t.Errorf("%s: retry %s/%d, attempts %g/s; want %s/1 and attempts = calls", tt.name, w.Retry, w.MaxAttempts, w.AttemptsPerS, tt.wantRetry)
		}
	}
}

func TestPredictRetries(t *testing.T) {
	// One sdk-standard client at 1,200/s against 1,000/s in aligned fixed
	// windows (120,000/s against 100,000/s at real size, scale 0.01). It
	// wants 1,200·(p+p²) retries a second, its retry quota's balance
	// allows 1,200·(1-p)/(5p), and one burst of throttles per second can
	// take at most its tokens/5: 500 tokens at real size are 5 at this
	// scale, so the cap of 1 retry a second binds (100 a second at real
	// size, scaled), attempts are 1,201/s and p = 1 - 1,000/1,201.
	s := parse(t, `duration: 10s
scale: 0.01
keys: {k: {account: a}}
workloads:
  w: {caller: a, key: k, operation: Encrypt, rate: 120000/s}
`)
	p, err := plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	b := bucket(t, p, symA)
	if b.RetryModel != plan.RetryModelStandard || !near(b.AttemptsPerS, 1201, 0.01) || !near(b.AttemptThrottledShare, 201.0/1201, 1e-6) {
		t.Errorf("retry model %q, attempts %g/s, share %g; want %q, 1201/s, %g", b.RetryModel, b.AttemptsPerS, b.AttemptThrottledShare,
			plan.RetryModelStandard, 201.0/1201)
	}
	if !near(b.ThrottledShare, 1.0/6, 1e-9) {
		t.Errorf("first-attempt share = %g; want 1/6", b.ThrottledShare)
	}
	if w := workload(t, p, "w"); w.MaxAttempts != plan.DefaultMaxAttempts || !near(w.AttemptsPerS, 1201, 0.01) {
		t.Errorf("workload: max attempts %d, attempts %g/s; want %d, 1201/s", w.MaxAttempts, w.AttemptsPerS, plan.DefaultMaxAttempts)
	}
	// At real size the same client's 500 tokens allow 100 retries a
	// second: the same physics, 100 times the size.
	p1, err := plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}, Scale: 1})
	if err != nil {
		t.Fatalf("Predict at scale 1: %v", err)
	}
	if b1 := bucket(t, p1, symA); !near(b1.AttemptsPerS, 120100, 1) || !near(b1.AttemptThrottledShare, b.AttemptThrottledShare, 1e-3) {
		t.Errorf("at scale 1: attempts %g/s, share %g; want 120100/s and the scaled plan's share %g", b1.AttemptsPerS, b1.AttemptThrottledShare, b.AttemptThrottledShare)
	}

	// --retry none overrides the workload's mode.
	p, err = plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}, Retry: scenario.RetryNone})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if b := bucket(t, p, symA); b.RetryModel != plan.RetryModelNone || !near(b.AttemptsPerS, 1200, 1e-6) {
		t.Errorf("with Retry none: model %q, attempts %g/s; want none, 1200/s", b.RetryModel, b.AttemptsPerS)
	}
}

func TestPredictTokenBucket(t *testing.T) {
	// A token bucket refilling 1,000/s and holding one second starts full:
	// at 1,200/s it empties after 1,000/200 = 5 s, then throttles 200/s
	// for 5 s: 1,000 of 12,000 = 1/12.
	s := parse(t, `duration: 10s
scale: 0.01
keys: {k: {account: a}}
workloads:
  w: {caller: a, key: k, operation: Encrypt, rate: 120000/s, retry: none}
`)
	cfg := quota.DefaultConfig()
	cfg.Algorithm = quota.TokenBucket
	p, err := plan.Predict(s, plan.Options{Quota: cfg})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if b := bucket(t, p, symA); !near(b.ThrottledShare, 1.0/12, 1e-6) || !near(b.PeakPerS, 1200, 1e-6) {
		t.Errorf("token bucket: share %g, peak %g; want 1/12, 1200", b.ThrottledShare, b.PeakPerS)
	}
	if p.QuotaModel != string(quota.TokenBucket) {
		t.Errorf("QuotaModel = %q; want %q", p.QuotaModel, quota.TokenBucket)
	}
}

func TestPredictErrors(t *testing.T) {
	s := parse(t, "keys: {k: {account: a}}\nworkloads: {w: {caller: a, key: k, operation: Encrypt, rate: 1/s}}\n")
	bad := quota.DefaultConfig()
	bad.Algorithm = "leaky"
	tests := []struct {
		name string
		s    *scenario.Scenario
		opts plan.Options
	}{
		{"nil scenario", nil, plan.Options{}},
		{"negative scale", s, plan.Options{Scale: -1}},
		{"unknown retry", s, plan.Options{Retry: "sometimes"}},
		{"bad quota config", s, plan.Options{Quota: bad}},
	}
	for _, tt := range tests {
		if p, err := plan.Predict(tt.s, tt.opts); err == nil {
			t.Errorf("%s: Predict = %+v, nil; want an error", tt.name, p)
		}
	}
	if _, err := plan.Predict(nil, plan.Options{}); !errors.Is(err, plan.ErrInvalid) {
		t.Errorf("Predict(nil) error = %v; want one wrapping ErrInvalid", err)
	}
}

func TestCost(t *testing.T) {
	// A month is 730 h = 2,628,000 s.
	//   a (prod): Decrypt 100/s on b's key (the caller pays): 262,800,000
	//     symmetric; Sign 10/s with its ECC key: 26,280,000 asymmetric.
	//     Free 20,000 from the symmetric: 262,780,000 x $0.03/10k =
	//     $788.34; 26,280,000 x $0.15/10k = $394.20. One key: $1.
	//   b (sec): GenerateDataKey 1,000/s cached 100 uses: 10/s =
	//     26,280,000 - 20,000 free = 26,260,000 x $0.03/10k = $78.78.
	//     Key mr with 2 replicas: 3 keys, $3; rotation on, one rotate
	//     event in the window: $3 now, $6 after two rotations.
	//   Total now 4 + 3 + 788.34 + 394.20 + 78.78 = $1,268.32; steady
	//   $1,271.32.
	s := parse(t, `duration: 10s
scale: 0.01
keys:
  mr: {account: b, multi_region: true, replicas: [us-west-2, eu-west-1], rotation: true, allow_accounts: [a]}
  sig: {account: a, spec: ECC_NIST_P256}
workloads:
  dec: {caller: a, key: mr, operation: Decrypt, rate: 100/s}
  sign: {caller: a, key: sig, operation: Sign, rate: 10/s}
  gdk: {caller: b, key: mr, operation: GenerateDataKey, rate: 1000/s, data_key_cache: {max_age: 5m, max_uses: 100}}
events:
  - {at: 1s, action: rotate, key: mr}
`)
	p, err := plan.Predict(s, plan.Options{})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	c := p.Cost
	checks := []struct {
		name      string
		got, want float64
	}{
		{"Keys", float64(c.Keys), 4},
		{"Replicas", float64(c.Replicas), 2},
		{"RotatingKeys", float64(c.RotatingKeys), 3},
		{"KeyUSD", c.KeyUSD, 4},
		{"RotationUSD", c.RotationUSD, 3},
		{"SteadyRotationUSD", c.SteadyRotationUSD, 6},
		{"SymmetricRequests", c.SymmetricRequests, 262_800_000 + 26_280_000},
		{"AsymmetricRequests", c.AsymmetricRequests, 26_280_000},
		{"FreeRequests", c.FreeRequests, 40_000},
		{"SymmetricUSD", c.SymmetricUSD, 788.34 + 78.78},
		{"AsymmetricUSD", c.AsymmetricUSD, 394.20},
		{"TotalUSD", c.TotalUSD, 1268.32},
		{"SteadyTotalUSD", c.SteadyTotalUSD, 1271.32},
	}
	for _, ch := range checks {
		if !near(ch.got, ch.want, 1e-6*math.Abs(ch.want)+1e-6) {
			t.Errorf("Cost.%s = %.4f; want %.4f", ch.name, ch.got, ch.want)
		}
	}
	if len(c.Accounts) != 2 || c.Accounts[0].Account != "a" || !near(c.Accounts[0].TotalUSD, 1+788.34+394.20, 1e-6) ||
		!near(c.Accounts[1].TotalUSD, 3+3+78.78, 1e-6) {
		t.Errorf("Cost.Accounts = %+v; want a $1,183.54 and b $84.78", c.Accounts)
	}
	if len(c.Assumptions) == 0 {
		t.Errorf("Cost.Assumptions is empty; want the stated assumptions")
	}

	// An account under the free tier pays nothing for requests; an
	// asymmetric-only account takes its free requests from them.
	s = parse(t, `keys: {sig: {account: a, spec: RSA_2048, usage: SIGN_VERIFY}}
workloads:
  sign: {caller: a, key: sig, operation: Sign, rate: 0.001/s}
`)
	// 0.001/s x 2,628,000 s = 2,628 requests a month, all free.
	p, err = plan.Predict(s, plan.Options{})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if c := p.Cost; !near(c.AsymmetricRequests, 2628, 1e-6) || c.FreeRequests != c.AsymmetricRequests || c.RequestUSD != 0 || c.TotalUSD != 1 {
		t.Errorf("tiny RSA workload: %+v; want 2,628 free asymmetric requests and $1 in all", c)
	}
}

func TestCostAWSManagedKey(t *testing.T) {
	// The AWS-managed aws/s3 key has no monthly fee; its requests are
	// charged: 1/s x 2,628,000 s = 2,628,000 - 20,000 free = 2,608,000 x
	// $0.03/10k = $7.824. The customer-managed key costs $1.
	s := parse(t, `keys:
  s3: {account: a, managed_by: aws, alias: alias/aws/s3}
  own: {account: a}
workloads:
  sse: {caller: a, key: alias/aws/s3, operation: GenerateDataKey, rate: 1/s, via: s3}
`)
	p, err := plan.Predict(s, plan.Options{})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if c := p.Cost; c.Keys != 1 || c.AWSManagedKeys != 1 || !near(c.RequestUSD, 7.824, 1e-9) || !near(c.TotalUSD, 8.824, 1e-9) {
		t.Errorf("Cost = %+v; want 1 billed key, 1 AWS-managed, $7.824 of requests, $8.824 in all", c)
	}
}

func TestAnnotate(t *testing.T) {
	s := parse(t, `duration: 10s
scale: 0.01
keys: {k: {account: a}, kb: {account: b}}
workloads:
  w1: {caller: a, key: k, operation: Encrypt, rate: 80000/s, retry: none}
  w2: {caller: a, key: k, operation: Decrypt, rate: 40000/s, retry: none}
  w3: {caller: b, key: kb, operation: Encrypt, rate: 10000/s, retry: none}
`)
	p, err := plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	ws := []report.Workload{
		{Name: "w1", Bucket: symA, Attempts: 8000, ThrottledAttempts: 1300},
		{Name: "w2", Bucket: symA, Attempts: 4000, ThrottledAttempts: 700},
		{Name: "w3", Bucket: symB, Attempts: 1000},
	}
	r := &report.Results{Workloads: ws, DurationS: 10, Buckets: report.Buckets(ws, 10, nil)}
	p.Annotate(r)
	if r.Plan == nil || r.Plan.FirstToSaturate != symA || !near(r.Plan.GrowthFactor, 1000.0/1200, 1e-9) {
		t.Fatalf("Plan = %+v; want first to saturate %s at 0.833", r.Plan, symA)
	}
	for _, b := range r.Buckets {
		want := map[string][2]float64{symA: {1200, 1.0 / 6}, symB: {100, 0}}[b.Name]
		if !near(b.PredictedDemandPerS, want[0], 1e-6) || !near(b.PredictedThrottledShare, want[1], 1e-9) {
			t.Errorf("%s: predicted %g/s, %g; want %g/s, %g", b.Name, b.PredictedDemandPerS, b.PredictedThrottledShare, want[0], want[1])
		}
	}
	var buf bytes.Buffer
	if err := render.WriteText(&buf, r); err != nil {
		t.Fatalf("render.WriteText: %v", err)
	}
	for _, want := range []string{"pred-demand/s", "pred-thr-att%", "1200.0", "16.7", "first to saturate: " + symA} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report text lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestWriteText(t *testing.T) {
	s := parse(t, `duration: 10s
keys: {k: {account: a}}
workloads:
  w: {caller: a, key: k, operation: Encrypt, rate: 140000/s}
`)
	p, err := plan.Predict(s, plan.Options{Duration: 5 * time.Second})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	var buf bytes.Buffer
	if err := plan.WriteText(&buf, p); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	out := buf.String()
	for _, want := range []string{
		"kmsload plan: t", "window  5.0 s", symA, "100000.0", "140000.0", "-40000.0", "0.71x",
		"a/us-east-1/symmetric saturates at 0.71x today's load", "over its quota already",
		"Monthly cost", "$1.00", "Assumptions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteText output lacks %q:\n%s", want, out)
		}
	}
	if err := plan.WriteText(&buf, nil); err == nil {
		t.Errorf("WriteText(nil plan) = nil; want an error")
	}
}

// TestPredictHonoursSDKEnvAndSaysAdaptiveIsNotModelled: the SDK's
// environment decides what the scenario leaves unset, as in a run; a
// client in adaptive mode is estimated as standard and the plan says so.
func TestPredictHonoursSDKEnvAndSaysAdaptiveIsNotModelled(t *testing.T) {
	s := parse(t, `duration: 10s
scale: 0.01
keys: {k: {account: a}}
workloads:
  w: {caller: a, key: k, operation: Encrypt, rate: 120000/s}
`)
	env := scenario.ClientEnv{RetryMode: "adaptive", RetryModeSource: "environment AWS_RETRY_MODE", MaxAttempts: 5, MaxAttemptsSource: "environment AWS_MAX_ATTEMPTS"}
	p, err := plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}, SDKEnv: env})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if w := workload(t, p, "w"); w.Retry != scenario.RetryAdaptive || w.MaxAttempts != 5 {
		t.Errorf("workload retry %s/%d; want adaptive/5 from the environment", w.Retry, w.MaxAttempts)
	}
	if b := bucket(t, p, symA); b.RetryModel != plan.RetryModelAdaptive {
		t.Errorf("retry model %q; want %q", b.RetryModel, plan.RetryModelAdaptive)
	}
	var buf strings.Builder
	if err := plan.WriteText(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "adaptive mode not modelled") || !strings.Contains(p.Model(), "adaptive mode not modelled") {
		t.Errorf("plan text does not say adaptive mode is not modelled:\n%s", buf.String())
	}
	// --retry wins over the environment.
	p, err = plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}, SDKEnv: env, Retry: scenario.RetryStandard})
	if err != nil {
		t.Fatal(err)
	}
	if w := workload(t, p, "w"); w.Retry != scenario.RetryStandard || w.MaxAttempts != 5 {
		t.Errorf("with --retry sdk-standard: workload retry %s/%d; want sdk-standard/5", w.Retry, w.MaxAttempts)
	}
}
