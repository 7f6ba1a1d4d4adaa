package report_test

import (
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
