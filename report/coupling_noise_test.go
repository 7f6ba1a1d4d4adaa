package report_test

import (
	"math"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/report"
)

// series returns per-second goodput samples as a Series.
func series(gs ...int64) []report.Second {
	out := make([]report.Second, len(gs))
	for i, g := range gs {
		out[i] = report.Second{T: i, OK: g}
	}
	return out
}

func TestAssessCoupling(t *testing.T) {
	steady := func(n int, g int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = g
		}
		return out
	}
	tests := []struct {
		name         string
		durationS    float64
		alone, tgthr []int64
		inconclusive string // a phrase of the reason, "" for conclusive
		maxNoise     float64
	}{
		{"2-second windows", 2, []int64{100, 100}, []int64{100, 100}, "at least 5 whole seconds", 0},
		{"steady 10 s, 10% lost", 10, steady(10, 100), steady(10, 90), "", 0.001},
		{"10 s, a few points of noise", 10, []int64{100, 98, 102, 100, 99, 101, 100, 100, 98, 102}, []int64{90, 92, 88, 91, 89, 90, 90, 91, 89, 90}, "", 0.03},
		{"10 s, goodput swinging", 10, []int64{100, 100, 100, 100, 100, 100, 100, 100, 100, 100}, []int64{100, 20, 100, 20, 100, 20, 100, 20, 100, 20}, "varies too much", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alone := report.Workload{Name: "w", Series: series(tt.alone...)}
			together := report.Workload{Name: "w", Series: series(tt.tgthr...)}
			alone.SetRates(tt.durationS)
			together.SetRates(tt.durationS)
			r := &report.Results{DurationS: tt.durationS, Workloads: []report.Workload{together},
				Isolated: map[string]report.Workload{"w": alone}}
			r.Coupling = report.ComputeCoupling(r.Isolated, r.Workloads)
			r.AssessCoupling()
			c := r.Coupling[0]
			if tt.inconclusive == "" {
				if c.Inconclusive != "" || c.Noise > tt.maxNoise {
					t.Errorf("coupling %+v; want conclusive with noise at most %g", c, tt.maxNoise)
				}
				return
			}
			if !strings.Contains(c.Inconclusive, tt.inconclusive) {
				t.Errorf("Inconclusive = %q; want it to say %q", c.Inconclusive, tt.inconclusive)
			}
			v := strings.Join(strings.Fields(strings.Join(report.VerdictParagraphs(r), " ")), " ")
			if !strings.Contains(v, "INCONCLUSIVE coupling: the goodput lost by w") {
				t.Errorf("verdict does not call the coupling inconclusive:\n%s", v)
			}
		})
	}
}

// TestAssessCouplingPaired: when both windows sent the same requests
// second by second, the arrivals' own swings are no noise: a replay whose
// rate swings from second to second is conclusive, coupled or not; a
// together window whose losses swing from block to block is not.
func TestAssessCouplingPaired(t *testing.T) {
	swing := func(n int, f func(i int) int64) []report.Second {
		out := make([]report.Second, n)
		for i := range out {
			out[i] = report.Second{T: i, Sent: 50 + 40*int64(i%3), OK: f(i)}
		}
		return out
	}
	sent := func(i int) int64 { return 50 + 40*int64(i%3) }
	tests := []struct {
		name         string
		tgthr        func(i int) int64
		inconclusive bool
		coupling     float64
	}{
		{"uncoupled", sent, false, 0},
		{"10% lost", func(i int) int64 { return sent(i) * 9 / 10 }, false, 0.1},
		{"losses in some blocks only", func(i int) int64 {
			if (i/5)%2 == 0 {
				return 0
			}
			return sent(i)
		}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alone := report.Workload{Name: "w", Series: swing(40, sent)}
			together := report.Workload{Name: "w", Series: swing(40, tt.tgthr)}
			alone.SetRates(40)
			together.SetRates(40)
			r := &report.Results{DurationS: 40, Workloads: []report.Workload{together}, Isolated: map[string]report.Workload{"w": alone}}
			r.Coupling = report.ComputeCoupling(r.Isolated, r.Workloads)
			r.AssessCoupling()
			c := r.Coupling[0]
			if (c.Inconclusive != "") != tt.inconclusive {
				t.Errorf("coupling %+v; want inconclusive %t", c, tt.inconclusive)
			}
			if !tt.inconclusive && (c.Noise > 0.02 || math.Abs(c.Coupling-tt.coupling) > 0.01) {
				t.Errorf("coupling %+v; want %g with little noise", c, tt.coupling)
			}
		})
	}
}
