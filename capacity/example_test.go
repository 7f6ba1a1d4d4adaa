package capacity_test

import (
	"context"
	"fmt"

	"github.com/kmsload/kmsload/capacity"
	"github.com/kmsload/kmsload/report"
)

// A runner standing in for a real run: the workload keeps its SLO up to
// 800/s.
func Example() {
	slo, _ := capacity.ParseSLO("throttled_requests<0.1%")
	run := func(_ context.Context, rate float64) (*report.Results, error) {
		w := report.Workload{Name: "api", Requests: 10_000, OK: 10_000}
		if rate > 800 {
			w.ThrottledRequests, w.OK = 100, 9_900
		}
		return &report.Results{Scenario: report.ScenarioInfo{Scale: 1}, Workloads: []report.Workload{w}}, nil
	}
	res, err := capacity.Search(context.Background(), capacity.Options{Workload: "api", SLO: slo, Run: run, Seed: 500})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("highest rate keeping %s: %.0f/s (breaks at %.0f/s) after %d runs\n", res.SLO, res.Rate, res.Bound, len(res.Probes))
	// Output:
	// highest rate keeping throttled_requests<0.1%: 800/s (breaks at 806/s) after 9 runs
}
