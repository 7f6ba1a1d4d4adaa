package traffic_test

import (
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

func TestMeanRate(t *testing.T) {
	ramp := scenario.Workload{Name: "r", Arrival: scenario.ArrivalPhases, Phases: []scenario.Phase{
		{Duration: 2 * time.Second, To: 100}, {Duration: 2 * time.Second, To: 100}}}
	tests := []struct {
		name             string
		w                scenario.Workload
		share            traffic.Share
		d                time.Duration
		wantMean, wantPk float64
	}{
		{"constant", scenario.Workload{Name: "c", Rate: 300}, traffic.Share{}, 10 * time.Second, 150, 150},
		{"poisson", scenario.Workload{Name: "p", Arrival: scenario.ArrivalPoisson, Rate: 300}, traffic.Share{}, 10 * time.Second, 150, 150},
		// At scale 0.5: 50 arrivals in the ramp's 2 s, 100 in the hold's.
		{"phases", ramp, traffic.Share{}, 4 * time.Second, 37.5, 50},
		{"phases past the end", ramp, traffic.Share{}, 8 * time.Second, 18.75, 50},
		{"phases no window", ramp, traffic.Share{}, 0, 0, 50},
		{"constant share", scenario.Workload{Name: "c", Rate: 300}, traffic.Share{Index: 1, Count: 3}, 10 * time.Second, 50, 50},
		{"phases share", ramp, traffic.Share{Index: 0, Count: 2}, 4 * time.Second, 18.75, 25},
	}
	for _, tt := range tests {
		a, err := traffic.NewSharedArrival(tt.w, 0.5, 1, tt.share)
		if err != nil {
			t.Fatalf("%s: NewSharedArrival error %v", tt.name, err)
		}
		mean, peak := traffic.MeanRate(a, tt.d)
		if !near(mean, tt.wantMean) || !near(peak, tt.wantPk) {
			t.Errorf("%s: MeanRate(%v, %v) = (%v, %v); want (%v, %v)", tt.name, a, tt.d, mean, peak, tt.wantMean, tt.wantPk)
		}
	}
}

// near reports whether got is want up to rounding.
func near(got, want float64) bool {
	d := got - want
	return d > -1e-9 && d < 1e-9
}
