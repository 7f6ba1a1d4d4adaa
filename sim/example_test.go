package sim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// An account offering 120,000/s to its 100,000/s us-east-1 quota for a
// minute, retries off, simulated at real size.
func Example() {
	s, err := scenario.Parse("example.yaml", []byte(`name: example
region: us-east-1
duration: 60s
accounts: {prod: "111111111111"}
keys: {k: {account: prod}}
workloads:
  app: {caller: prod, key: k, operation: GenerateDataKey, rate: 120000/s, retry: none}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	sm, err := sim.New(sim.Options{Scenario: s, Start: time.Unix(1_800_000_000, 0)})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := sm.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	w := out.Results.Workloads[0]
	fmt.Printf("simulated=%v requests=%d ok=%d throttled=%.1f%%\n",
		out.Results.Simulated, w.Requests, w.OK, 100*float64(w.ThrottledAttempts)/float64(w.Attempts))
	// Output:
	// simulated=true requests=7200000 ok=6000000 throttled=16.7%
}
