package plan_test

import (
	"fmt"

	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

func ExamplePredict() {
	// Two services share one account's us-east-1 symmetric quota
	// (100,000/s) through two different keys.
	s, err := scenario.Parse("example.yaml", []byte(`name: example
accounts: {prod: "111111111111"}
keys: {orders: {account: prod}, ingest: {account: prod}}
workloads:
  orders-api: {caller: prod, key: orders, operation: Decrypt, rate: 40000/s}
  s3-ingest: {caller: prod, key: ingest, operation: GenerateDataKey, rate: 80000/s}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := plan.Predict(s, plan.Options{WindowPhase: quota.WindowPhase{Fixed: true}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, b := range p.Buckets {
		fmt.Printf("%s: demand %.0f/s, quota %.0f/s, headroom %.0f/s, %.1f%% throttled with retries off\n",
			b.Name, b.DemandPerS, b.QuotaPerS, b.HeadroomPerS, 100*b.ThrottledShare)
	}
	fmt.Println(p.Saturation)
	fmt.Printf("monthly cost $%.2f (keys %d, symmetric requests %.0f)\n",
		p.Cost.TotalUSD, p.Cost.Keys, p.Cost.SymmetricRequests)
	// Output:
	// 111111111111/us-east-1/symmetric: demand 120000/s, quota 100000/s, headroom -20000/s, 16.7% throttled with retries off
	// prod/us-east-1/symmetric saturates at 0.83x today's load (busiest second 120000.0/s, quota 100000.0/s): it is over its quota already
	// monthly cost $946081.94 (keys 2, symmetric requests 315360000000)
}
