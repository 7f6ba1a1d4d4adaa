package traffic_test

import (
	"math"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

// perSecond counts a's arrivals in each second of d.
func perSecond(a traffic.Arrival, d time.Duration) []int {
	counts := make([]int, int(d/time.Second)+1)
	prev := time.Duration(-1)
	for n := int64(0); ; n++ {
		at, ok := a.Next(n)
		if !ok {
			break
		}
		if at < prev {
			panic("arrivals go back in time")
		}
		prev = at
		counts[int(at/time.Second)]++
	}
	return counts
}

// TestTraceExact: at scale 1 every second gets exactly the requests it
// recorded, spread inside the second; the same seed repeats the
// schedule and another seed moves it.
func TestTraceExact(t *testing.T) {
	s := &scenario.Series{Name: "w", Step: time.Second, Counts: []float32{3, 0, 0, 10, 1, 0, 250}}
	a := traffic.NewTrace(s, 1, 7)
	got := perSecond(a, s.Duration())
	for i, c := range s.Counts {
		if got[i] != int(c) {
			t.Errorf("second %d: %d arrivals; want %g (all: %v)", i, got[i], c, got)
		}
	}
	first, _ := a.Next(0)
	again, _ := traffic.NewTrace(s, 1, 7).Next(0)
	other, _ := traffic.NewTrace(s, 1, 8).Next(0)
	if first != again || first == other || first <= 0 || first >= time.Second/3 {
		t.Errorf("arrival 0 at %v (again %v, seed 8 %v); want the same for one seed, in the first third of second 0", first, again, other)
	}
	if mean, peak := traffic.MeanRate(a, s.Duration()); math.Abs(mean-264.0/7) > 1e-9 || peak != 250 {
		t.Errorf("MeanRate = %g, %g; want %g, 250", mean, peak, 264.0/7)
	}
}

// TestTraceScaled: at scale 0.01 the running total stays within one
// arrival of the scaled recording, second by second.
func TestTraceScaled(t *testing.T) {
	counts := make([]float32, 600)
	for i := range counts {
		counts[i] = float32(100 + 50*math.Sin(float64(i)/30))
	}
	s := &scenario.Series{Name: "w", Step: time.Second, Counts: counts}
	a := traffic.NewTrace(s, 0.01, 1)
	got := perSecond(a, s.Duration())
	var want float64
	sent := 0
	for i, c := range counts {
		want += float64(c) * 0.01
		sent += got[i]
		if math.Abs(float64(sent)-want) > 1 {
			t.Fatalf("after second %d: %d arrivals; want %.2f within 1", i, sent, want)
		}
	}
}

// TestTraceShared: agents sharing a trace by arrival number send, merged,
// the single-machine schedule.
func TestTraceShared(t *testing.T) {
	s := &scenario.Series{Name: "w", Step: time.Second, Counts: []float32{5, 7, 0, 9}}
	w := scenario.Workload{Name: "w", Arrival: scenario.ArrivalTrace, Series: s}
	whole, err := traffic.NewArrival(w, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	var merged int
	for i := range 3 {
		a, err := traffic.NewSharedArrival(w, 1, 3, traffic.Share{Index: i, Count: 3})
		if err != nil {
			t.Fatal(err)
		}
		for n := int64(0); ; n++ {
			at, ok := a.Next(n)
			if !ok {
				break
			}
			if want, _ := whole.Next(n*3 + int64(i)); at != want {
				t.Fatalf("agent %d arrival %d at %v; want %v", i, n, at, want)
			}
			merged++
		}
	}
	if merged != 21 {
		t.Errorf("agents sent %d; want 21", merged)
	}
}
