package traffic_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kmsload/kmsload/traffic"
)

// TestJitterDraw checks that a draw depends on every part of the
// request's identity, repeats for the same identity, and that draws over
// many requests are uniform on [0, 1).
func TestJitterDraw(t *testing.T) {
	base := traffic.JitterDraw(7, "orders", 3*time.Millisecond, 1)
	if again := traffic.JitterDraw(7, "orders", 3*time.Millisecond, 1); again != base {
		t.Fatalf("JitterDraw not repeatable: %v then %v", base, again)
	}
	for name, other := range map[string]float64{
		"seed":     traffic.JitterDraw(8, "orders", 3*time.Millisecond, 1),
		"workload": traffic.JitterDraw(7, "billing", 3*time.Millisecond, 1),
		"offset":   traffic.JitterDraw(7, "orders", 3*time.Millisecond+1, 1),
		"attempt":  traffic.JitterDraw(7, "orders", 3*time.Millisecond, 2),
	} {
		if other == base {
			t.Errorf("changing the %s leaves the draw at %v", name, base)
		}
	}
	us := make([]float64, 50000)
	for i := range us {
		us[i] = traffic.JitterDraw(1, "w", time.Duration(i)*2500*time.Microsecond, 1+i%3)
		if us[i] < 0 || us[i] >= 1 {
			t.Fatalf("draw %d = %v; want in [0, 1)", i, us[i])
		}
	}
	if ks := ksUniform(us); ks > 0.015 {
		t.Errorf("KS distance of 50,000 draws from uniform = %.4f; want < 0.015", ks)
	}
}

func TestBackoffDelay(t *testing.T) {
	for _, tc := range []struct {
		u          float64
		attempt    int
		throttle   bool
		maxBackoff time.Duration
		want       time.Duration
	}{
		{0.5, 1, true, 20 * time.Second, 500 * time.Millisecond},
		{0.5, 2, true, 20 * time.Second, time.Second},
		{0.5, 3, true, 20 * time.Second, 2 * time.Second},
		{0.5, 3, true, 3 * time.Second, 1500 * time.Millisecond}, // capped before the jitter
		{0.5, 1, false, 20 * time.Second, 25 * time.Millisecond},
		{0.5, 3, false, 20 * time.Second, 100 * time.Millisecond},
		{0, 3, true, 20 * time.Second, 0},
		{0.25, 0, true, 20 * time.Second, 250 * time.Millisecond}, // attempt 0 treated as the first
	} {
		if got := traffic.BackoffDelay(tc.u, tc.attempt, tc.throttle, tc.maxBackoff); got != tc.want {
			t.Errorf("BackoffDelay(%v, %d, %v, %v) = %v; want %v", tc.u, tc.attempt, tc.throttle, tc.maxBackoff, got, tc.want)
		}
	}
}

// ksUniform returns the Kolmogorov-Smirnov distance of the sample xs from
// the uniform distribution on [0, 1).
func ksUniform(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := float64(len(s))
	var d float64
	for i, x := range s {
		d = max(d, math.Abs(float64(i+1)/n-x), math.Abs(x-float64(i)/n))
	}
	return d
}
