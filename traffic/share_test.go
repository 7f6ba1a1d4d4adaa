package traffic_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

// schedule lists the offsets of a's arrivals before end.
func schedule(a traffic.Arrival, end time.Duration) []time.Duration {
	var out []time.Duration
	for n := int64(0); ; n++ {
		at, ok := a.Next(n)
		if !ok || at >= end {
			return out
		}
		out = append(out, at)
	}
}

// TestSharedArrivalDeterministic: the shares of a constant or phased
// process, put together, are the whole process's schedule exactly.
func TestSharedArrivalDeterministic(t *testing.T) {
	ramp := scenario.Workload{Name: "r", Arrival: scenario.ArrivalPhases, Phases: []scenario.Phase{
		{Duration: 2 * time.Second, To: 500}, {Duration: 2 * time.Second, To: 500}}}
	for _, w := range []scenario.Workload{{Name: "c", Rate: 300}, ramp} {
		whole, err := traffic.NewArrival(w, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := schedule(whole, 4*time.Second)
		var got []time.Duration
		for i := 0; i < 3; i++ {
			a, err := traffic.NewSharedArrival(w, 1, 1, traffic.Share{Index: i, Count: 3})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, schedule(a, 4*time.Second)...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: 3 shares give %d arrivals, not the whole schedule of %d", w.Name, len(got), len(want))
		}
	}
}

// TestSharedArrivalPoisson: each share of a Poisson process is its own
// stream at rate/Count; together they keep the rate.
func TestSharedArrivalPoisson(t *testing.T) {
	w := scenario.Workload{Name: "p", Arrival: scenario.ArrivalPoisson, Rate: 3000}
	const n = 3
	var first []time.Duration
	total := 0
	for i := 0; i < n; i++ {
		a, err := traffic.NewSharedArrival(w, 1, 7, traffic.Share{Index: i, Count: n})
		if err != nil {
			t.Fatal(err)
		}
		s := schedule(a, 10*time.Second)
		// 10,000 expected; a Poisson count's standard deviation is 100.
		if len(s) < 9500 || len(s) > 10500 {
			t.Errorf("share %d: %d arrivals in 10 s; want about 10000", i, len(s))
		}
		first = append(first, s[0])
		total += len(s)
	}
	if first[0] == first[1] || first[1] == first[2] {
		t.Errorf("shares start at %v: streams are not independent", first)
	}
	if total < 29000 || total > 31000 {
		t.Errorf("all shares: %d arrivals in 10 s; want about 30000", total)
	}
}

func TestShareValidate(t *testing.T) {
	for _, tt := range []struct {
		s  traffic.Share
		ok bool
	}{
		{traffic.Share{}, true}, {traffic.Share{Index: 0, Count: 1}, true}, {traffic.Share{Index: 2, Count: 3}, true},
		{traffic.Share{Index: 3, Count: 3}, false}, {traffic.Share{Index: -1, Count: 3}, false}, {traffic.Share{Index: 1, Count: 0}, false},
	} {
		err := tt.s.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, traffic.ErrBadArrival)) {
			t.Errorf("%+v.Validate() = %v; want ok %v", tt.s, err, tt.ok)
		}
	}
}
