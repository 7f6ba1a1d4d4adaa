package traffic_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

func durationNear(got, want time.Duration) bool {
	d := got - want
	return d >= -time.Microsecond && d <= time.Microsecond
}

func TestConstant(t *testing.T) {
	tests := []struct {
		rate   float64
		n      int64
		want   time.Duration
		wantOK bool
	}{
		{rate: 10, n: 0, want: 0, wantOK: true},
		{rate: 10, n: 1, want: 100 * time.Millisecond, wantOK: true},
		{rate: 10, n: 25, want: 2500 * time.Millisecond, wantOK: true},
		{rate: 3, n: 1, want: 333333333 * time.Nanosecond, wantOK: true},
		// Absolute offsets: arrival 3,000,000 at 3/s is exactly 1,000,000 s.
		{rate: 3, n: 3_000_000, want: 1_000_000 * time.Second, wantOK: true},
		{rate: 2000, n: 19_999, want: 9999500 * time.Microsecond, wantOK: true},
		{rate: 0, n: 0, wantOK: false},
		{rate: -5, n: 1, wantOK: false},
		{rate: math.Inf(1), n: 1, wantOK: false},
		{rate: math.NaN(), n: 1, wantOK: false},
		{rate: 10, n: -1, wantOK: false},
		{rate: 1e-12, n: math.MaxInt64, wantOK: false},
	}
	for _, tt := range tests {
		got, ok := traffic.Constant{Rate: tt.rate}.Next(tt.n)
		if ok != tt.wantOK || (ok && got != tt.want) {
			t.Errorf("Constant{%g}.Next(%d) = (%v, %v); want (%v, %v)", tt.rate, tt.n, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPoissonRepeatableAndMean(t *testing.T) {
	a := traffic.NewPoisson(1000, 42)
	b := traffic.NewPoisson(1000, 42)
	c := traffic.NewPoisson(1000, 43)
	const n = 20000
	var last time.Duration
	differs := false
	for i := int64(0); i < n; i++ {
		ga, oka := a.Next(i)
		gb, okb := b.Next(i)
		gc, _ := c.Next(i)
		if !oka || !okb || ga != gb {
			t.Fatalf("Next(%d) = (%v, %v) and (%v, %v) with the same seed; want equal", i, ga, oka, gb, okb)
		}
		if ga < last {
			t.Fatalf("Next(%d) = %v < Next(%d) = %v; want non-decreasing", i, ga, i-1, last)
		}
		if ga != gc {
			differs = true
		}
		last = ga
	}
	if !differs {
		t.Errorf("seeds 42 and 43 gave the same schedule")
	}
	// n arrivals of a 1000/s process take about n/1000 s: the sum of n
	// exponential gaps has a relative standard deviation of 1/sqrt(n) (0.7%).
	if got, want := last.Seconds(), float64(n)/1000; math.Abs(got-want)/want > 0.035 {
		t.Errorf("NewPoisson(1000, 42).Next(%d) = %.3fs; want about %.3fs", n-1, got, want)
	}
	// Going back regenerates the same schedule.
	first, _ := traffic.NewPoisson(1000, 42).Next(10)
	if got, _ := a.Next(10); got != first {
		t.Errorf("Next(10) after Next(%d) = %v; want %v", n-1, got, first)
	}
	if _, ok := traffic.NewPoisson(0, 1).Next(0); ok {
		t.Errorf("NewPoisson(0, 1).Next(0) ok = true; want false")
	}
}

func TestPoissonGapsAreExponential(t *testing.T) {
	// The share of gaps longer than the mean is e^-1 for exponential gaps.
	p := traffic.NewPoisson(100, 7)
	const n = 20000
	prev, _ := p.Next(0)
	long := 0
	for i := int64(1); i <= n; i++ {
		at, _ := p.Next(i)
		if at-prev > 10*time.Millisecond {
			long++
		}
		prev = at
	}
	if got, want := float64(long)/n, math.Exp(-1); math.Abs(got-want) > 0.02 {
		t.Errorf("share of gaps above the mean = %.3f; want %.3f", got, want)
	}
}

func TestPhases(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name   string
		phases []traffic.Phase
		n      int64
		want   time.Duration
		wantOK bool
	}{
		{"hold first", []traffic.Phase{{sec, 10, 10}}, 0, 0, true},
		{"hold", []traffic.Phase{{sec, 10, 10}}, 5, 500 * time.Millisecond, true},
		{"hold end", []traffic.Phase{{sec, 10, 10}}, 10, 0, false},
		// Ramp 0 -> 10 over 1 s: Λ(t) = 5t², arrival n at sqrt(n/5).
		{"ramp up 0", []traffic.Phase{{sec, 0, 10}}, 0, 0, true},
		{"ramp up 1", []traffic.Phase{{sec, 0, 10}}, 1, seconds(math.Sqrt(1.0 / 5)), true},
		{"ramp up 4", []traffic.Phase{{sec, 0, 10}}, 4, seconds(math.Sqrt(4.0 / 5)), true},
		{"ramp up end", []traffic.Phase{{sec, 0, 10}}, 5, 0, false},
		// Ramp 10 -> 0 over 1 s: Λ(t) = 10t - 5t², arrival 4 at 1 - sqrt(1/5).
		{"ramp down", []traffic.Phase{{sec, 10, 0}}, 4, seconds(1 - math.Sqrt(1.0/5)), true},
		// Ramp 100 -> 300 over 2 s: Λ(t) = 100t + 50t², Λ = 150 at t = 1.
		{"ramp mid", []traffic.Phase{{2 * sec, 100, 300}}, 150, sec, true},
		// Step: 10/s for 1 s (10 arrivals), then 100/s.
		{"step before", []traffic.Phase{{sec, 10, 10}, {sec, 100, 100}}, 9, 900 * time.Millisecond, true},
		{"step at", []traffic.Phase{{sec, 10, 10}, {sec, 100, 100}}, 10, sec, true},
		{"step after", []traffic.Phase{{sec, 10, 10}, {sec, 100, 100}}, 60, 1500 * time.Millisecond, true},
		{"step end", []traffic.Phase{{sec, 10, 10}, {sec, 100, 100}}, 110, 0, false},
		// A silent phase is skipped.
		{"pause", []traffic.Phase{{sec, 10, 10}, {5 * sec, 0, 0}, {sec, 10, 10}}, 10, 6 * sec, true},
		{"negative n", []traffic.Phase{{sec, 10, 10}}, -1, 0, false},
	}
	for _, tt := range tests {
		p, err := traffic.NewPhases(tt.phases)
		if err != nil {
			t.Fatalf("%s: NewPhases(%v) error %v", tt.name, tt.phases, err)
		}
		got, ok := p.Next(tt.n)
		if ok != tt.wantOK || (ok && !durationNear(got, tt.want)) {
			t.Errorf("%s: %v.Next(%d) = (%v, %v); want (%v, %v)", tt.name, p, tt.n, got, ok, tt.want, tt.wantOK)
		}
	}
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

func TestPhasesCountMatchesNext(t *testing.T) {
	p, err := traffic.NewPhases([]traffic.Phase{
		{Duration: 3 * time.Second, From: 0, To: 200},
		{Duration: 2 * time.Second, From: 200, To: 200},
		{Duration: 4 * time.Second, From: 50, To: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Duration(), 9*time.Second; got != want {
		t.Errorf("Duration() = %v; want %v", got, want)
	}
	// Each arrival n lands where the integral of the rate reaches n.
	var n int64
	for ; ; n++ {
		at, ok := p.Next(n)
		if !ok {
			break
		}
		if c := p.Count(at); math.Abs(c-float64(n)) > 1e-6 {
			t.Fatalf("Count(Next(%d) = %v) = %g; want %d", n, at, c, n)
		}
	}
	// 300 + 400 + 100 arrivals.
	if want := int64(800); n != want {
		t.Errorf("arrivals = %d; want %d", n, want)
	}
}

func TestNewPhasesErrors(t *testing.T) {
	tests := [][]traffic.Phase{
		nil,
		{{Duration: 0, From: 1, To: 1}},
		{{Duration: time.Second, From: -1, To: 1}},
		{{Duration: time.Second, From: 1, To: math.Inf(1)}},
	}
	for _, ph := range tests {
		if _, err := traffic.NewPhases(ph); !errors.Is(err, traffic.ErrBadArrival) {
			t.Errorf("NewPhases(%v) error = %v; want ErrBadArrival", ph, err)
		}
	}
}

func TestNewArrival(t *testing.T) {
	r := func(v float64) *scenario.Rate { x := scenario.Rate(v); return &x }
	tests := []struct {
		name string
		w    scenario.Workload
		n    int64
		want time.Duration
	}{
		{"constant scaled", scenario.Workload{Name: "a", Rate: 100_000}, 5, 5 * time.Millisecond},
		{"default constant", scenario.Workload{Name: "a", Arrival: scenario.ArrivalConstant, Rate: 10_000}, 1, 10 * time.Millisecond},
		// From unset on the first phase starts at 0; the second phase
		// starts from the first's end rate (1000/s scaled to 10/s).
		{"phases", scenario.Workload{Name: "a", Arrival: scenario.ArrivalPhases, Phases: []scenario.Phase{
			{Duration: time.Second, To: 1000},
			{Duration: time.Second, To: 1000},
		}}, 10, 1500 * time.Millisecond},
		{"phases from", scenario.Workload{Name: "a", Arrival: scenario.ArrivalPhases, Phases: []scenario.Phase{
			{Duration: time.Second, From: r(2000), To: 2000},
		}}, 1, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		a, err := traffic.NewArrival(tt.w, 0.01, 1)
		if err != nil {
			t.Fatalf("%s: NewArrival error %v", tt.name, err)
		}
		got, ok := a.Next(tt.n)
		if !ok || !durationNear(got, tt.want) {
			t.Errorf("%s: Next(%d) = (%v, %v); want (%v, true)", tt.name, tt.n, got, ok, tt.want)
		}
	}
	p1, _ := traffic.NewArrival(scenario.Workload{Name: "a", Arrival: scenario.ArrivalPoisson, Rate: 100}, 1, 5)
	p2, _ := traffic.NewArrival(scenario.Workload{Name: "b", Arrival: scenario.ArrivalPoisson, Rate: 100}, 1, 5)
	a1, _ := p1.Next(3)
	a2, _ := p2.Next(3)
	if a1 == a2 {
		t.Errorf("Poisson workloads a and b with one seed: Next(3) = %v for both; want different schedules", a1)
	}
	if _, err := traffic.NewArrival(scenario.Workload{Name: "x", Arrival: "sine", Rate: 1}, 1, 1); !errors.Is(err, traffic.ErrBadArrival) {
		t.Errorf("NewArrival(sine) error = %v; want ErrBadArrival", err)
	}
}
