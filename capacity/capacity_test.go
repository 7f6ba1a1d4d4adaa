package capacity_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/kmsload/kmsload/capacity"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// knownAnswer is a scenario whose answer is known: one account's
// us-east-1 symmetric quota Q = 100,000/s, other load L = 30,000/s,
// retries off, so the highest rate of grow without throttling is
// Q - L = 70,000/s.
const knownAnswer = `name: known
region: us-east-1
duration: 3s
accounts: {a: "111111111111"}
keys: {k1: {account: a}, k2: {account: a}}
workloads:
  other: {caller: a, key: k1, operation: Decrypt, rate: 30000/s, retry: none}
  grow: {caller: a, key: k2, operation: GenerateDataKey, rate: 10000/s, retry: none}
`

func load(t *testing.T, yaml string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Parse("known.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

// simRunner runs s with workload name at each rate in the simulation, at
// real size.
func simRunner(s *scenario.Scenario, name string) capacity.Runner {
	return func(ctx context.Context, rate float64) (*report.Results, error) {
		sc, err := capacity.WithRate(s, name, rate)
		if err != nil {
			return nil, err
		}
		sm, err := sim.New(sim.Options{Scenario: sc, Start: time.Unix(1_800_000_000, 0)})
		if err != nil {
			return nil, err
		}
		out, err := sm.Run(ctx)
		if err != nil {
			return nil, err
		}
		return out.Results, nil
	}
}

func TestCapacityKnownAnswer(t *testing.T) {
	s := load(t, knownAnswer)
	cfg := quota.DefaultConfig()
	p, err := plan.Predict(s, plan.Options{Scale: 1, Quota: cfg})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	seed := capacity.Seed(p, "grow")
	if math.Abs(seed-70_000) > 1 {
		t.Errorf("Seed = %.1f; want 70000 (rate 10000 + headroom 60000)", seed)
	}
	for _, tt := range []struct {
		name string
		seed float64
	}{
		{"seeded by the plan", seed},
		{"seeded far below", 5_000},
		{"seeded far above", 400_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			slo, err := capacity.ParseSLO("throttled_requests<0.1%")
			if err != nil {
				t.Fatalf("ParseSLO: %v", err)
			}
			res, err := capacity.Search(context.Background(), capacity.Options{
				Workload: "grow", SLO: slo, Run: simRunner(s, "grow"), Seed: tt.seed, Logf: t.Logf,
			})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			const want = 100_000 - 30_000
			if math.Abs(res.Rate-want)/want > 0.03 {
				t.Errorf("Search rate = %.1f/s; want within 3%% of Q - L = %d/s", res.Rate, want)
			}
			if res.Bound <= res.Rate {
				t.Errorf("Search bound = %.1f/s; want above the rate %.1f/s", res.Bound, res.Rate)
			}
			for _, pr := range res.Probes {
				if pr.Pass != (pr.Rate <= res.Rate) {
					t.Errorf("probe at %.1f/s: pass = %v; want %v (rate %.1f/s)", pr.Rate, pr.Pass, pr.Rate <= res.Rate, res.Rate)
				}
			}
		})
	}
}

func TestParseSLO(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"p99<50ms,throttled_requests<0.1%", 2, false},
		{" p99 < 50ms ", 1, false},
		{"", 0, true},
		{"p99<50ms,bogus<1", 0, true},
	}
	for _, tt := range tests {
		got, err := capacity.ParseSLO(tt.in)
		if (err != nil) != tt.wantErr || len(got) != tt.want {
			t.Errorf("ParseSLO(%q) = %d conditions, %v; want %d, error %v", tt.in, len(got), err, tt.want, tt.wantErr)
		}
	}
}

func TestSLOCheck(t *testing.T) {
	slo, err := capacity.ParseSLO("p99<50ms,throttled_requests<1%")
	if err != nil {
		t.Fatal(err)
	}
	ok := report.Workload{Requests: 1000, OK: 995, ThrottledRequests: 5, LatencyMs: report.Percentiles{P99: 20}}
	if got := slo.Check(ok, 1); len(got) != 0 {
		t.Errorf("Check(ok) = %v; want none failed", got)
	}
	bad := report.Workload{Requests: 1000, OK: 900, ThrottledRequests: 100, LatencyMs: report.Percentiles{P99: 80}}
	if got := slo.Check(bad, 1); len(got) != 2 {
		t.Errorf("Check(bad) = %v; want both failed", got)
	}
}

func TestWithRate(t *testing.T) {
	s := load(t, knownAnswer)
	c, err := capacity.WithRate(s, "grow", 123)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Workloads[1].Rate.PerSecond(); got != 123 {
		t.Errorf("WithRate: rate = %g; want 123", got)
	}
	if got := s.Workloads[1].Rate.PerSecond(); got != 10_000 {
		t.Errorf("WithRate changed the original: rate = %g; want 10000", got)
	}
	if _, err := capacity.WithRate(s, "nope", 1); err == nil {
		t.Errorf("WithRate(unknown workload) = nil error; want one")
	}
}
