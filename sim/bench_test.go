package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/kmsload/kmsload/sim"
)

// BenchmarkSimulate measures the simulation's cost per arrival: one
// virtual second of a us-east-1 account offering 120,000/s against its
// 100,000/s quota, with standard retries, per iteration.
func BenchmarkSimulate(b *testing.B) {
	s := parse(b, `duration: 10s
keys: {k1: {account: a}, k2: {account: a}}
workloads:
  gdk: {caller: a, key: k1, operation: GenerateDataKey, rate: 80000/s}
  dec: {caller: a, key: k2, operation: Decrypt, rate: 40000/s, arrival: poisson}
`)
	b.ReportAllocs()
	var arrivals int64
	for b.Loop() {
		sm, err := sim.New(sim.Options{Scenario: s, Start: time.Unix(1_800_000_000, 0)})
		if err != nil {
			b.Fatal(err)
		}
		out, err := sm.Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range out.Results.Workloads {
			arrivals += w.Requests + w.Dropped + w.CacheHits
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(arrivals), "ns/arrival")
}
