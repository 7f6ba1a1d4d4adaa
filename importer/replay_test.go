package importer_test

import (
	"context"
	"testing"
	"time"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/sim"
)

// TestReplayCounts: simulating an imported scenario sends every
// workload's recorded requests, second by second.
func TestReplayCounts(t *testing.T) {
	dir, _ := shared(t)
	res, _ := importScaled(t, dir, importer.Options{}, 1)
	s := load(t, res)
	sm, err := sim.New(sim.Options{Scenario: s, Start: time.Unix(1_800_000_000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sm.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range out.Results.Workloads {
		series := res.Trace.Series[w.Name]
		if got := float64(w.Requests + w.Dropped); got != series.Total() {
			t.Errorf("%s: %g arrivals; want the %g recorded", w.Name, got, series.Total())
		}
		if len(w.Series) < len(series.Counts) {
			t.Errorf("%s: %d seconds of results; want %d", w.Name, len(w.Series), len(series.Counts))
		}
		for _, sec := range w.Series {
			if sec.T < len(series.Counts) && float64(sec.Sent+sec.Dropped) != float64(series.Counts[sec.T]) {
				t.Errorf("%s second %d: %d sent; want %g", w.Name, sec.T, sec.Sent, series.Counts[sec.T])
				break
			}
		}
	}
}
