package sim_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/sim"
)

// Memory budget of a simulation: what it keeps grows with the simulated
// length only by the results' per-second data, not by the requests
// simulated.
const (
	memRate = 24000 // arrivals/s of TestSimMemoryFlat, both workloads
	// memPerSecond bounds the live heap's growth per simulated second of
	// TestSimMemoryFlat: for each of its two workloads, one report.Second
	// of the series (88 B), one line of the HdrHistogram interval log
	// (about 200 B here, kept in memory up to 256 KB per workload and
	// spooled to a file beyond) and one failures-by-second entry, each at most
	// doubled by the growth of its slice or buffer, about 1 KB; 4 KB/s
	// leaves room for map growth steps. Measured: 1.0 to 1.6 KB/s. One byte
	// kept per request would add 24 KB/s.
	memPerSecond = 4096
)

// TestSimMemoryFlat simulates 10 minutes of 24,000 arrivals/s at 120% of
// the quota with the SDK's standard retries (retries waiting in the event
// queue, the retry quota running dry every second) and checks, from the
// live heap after a collection at each simulated minute, that memory grows
// with the simulated length by no more than the per-second results data:
// an hour of 100,000/s then needs what a minute does, plus about 1 KB per
// second per workload.
func TestSimMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 14 million arrivals")
	}
	s := parse(t, `duration: 10m
keys: {k1: {account: a}, k2: {account: a}}
workloads:
  gdk: {caller: a, key: k1, operation: GenerateDataKey, rate: 80000/s}
  dec: {caller: a, key: k2, operation: Decrypt, rate: 40000/s, arrival: poisson}
`)
	heap := map[int]uint64{} // simulated minute -> live heap
	sm, err := sim.New(sim.Options{
		Scenario: s, Scale: 0.2, Start: time.Unix(1_800_000_000, 0),
		Progress: func(_ string, p record.Progress) {
			sec := int(p.Elapsed / time.Second)
			if sec%60 != 0 {
				return
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap[sec/60] = ms.HeapAlloc
		},
	})
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	out, err := sm.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var arrivals, qe int64
	for _, w := range out.Results.Workloads {
		arrivals += w.Requests + w.Dropped
		qe += w.Errors[failure.CodeQuotaExceeded]
	}
	if want := int64(memRate * 600); arrivals < want*99/100 || qe == 0 {
		t.Fatalf("arrivals %d, QuotaExceededError %d; want about %d arrivals and the retry quota exhausted", arrivals, qe, want)
	}
	from, to := heap[2], heap[10]
	if from == 0 || to == 0 {
		t.Fatalf("heap samples %v; want minutes 2 and 10", heap)
	}
	perS := (float64(to) - float64(from)) / (8 * 60)
	t.Logf("live heap: minute 2 %d KB, minute 10 %d KB: %.0f B per simulated second", from>>10, to>>10, perS)
	if perS > memPerSecond {
		t.Errorf("live heap grew by %.0f B per simulated second (minute 2 %d KB, minute 10 %d KB); want at most %d B",
			perS, from>>10, to>>10, memPerSecond)
	}
}
