package quota_test

import (
	"fmt"
	"time"

	"github.com/kmsload/kmsload/quota"
)

func ExampleModel() {
	m, err := quota.New(quota.DefaultConfig())
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	create := quota.Request{Account: "111122223333", Region: "us-east-1", Operation: "CreateKey"}

	// CreateKey has its own bucket of 5 requests per second.
	for i := range 6 {
		at := now.Add(time.Duration(i) * 100 * time.Millisecond)
		fmt.Println(i+1, m.Allow(at, create))
	}
	// The next second starts a new window.
	fmt.Println(7, m.Allow(now.Add(time.Second), create))

	for _, s := range m.Stats(now.Add(time.Second)) {
		fmt.Printf("%s quota=%g allowed=%d throttled=%d demand=%g/s\n",
			s.Bucket, s.QuotaPerS, s.Allowed, s.Throttled, s.DemandPerS)
	}
	// Output:
	// 1 <nil>
	// 2 <nil>
	// 3 <nil>
	// 4 <nil>
	// 5 <nil>
	// 6 quota: CreateKey throttled by bucket 111122223333/us-east-1/api:CreateKey (limit 5/s, retry after 500ms)
	// 7 <nil>
	// 111122223333/us-east-1/api:CreateKey quota=5 allowed=6 throttled=1 demand=6/s
}

func ExampleModel_Buckets() {
	m, _ := quota.New(quota.DefaultConfig())
	r := quota.Request{
		Account:        "111122223333",
		Region:         "eu-west-1",
		Operation:      "GenerateDataKey",
		KeySpec:        "SYMMETRIC_DEFAULT",
		CustomKeyStore: "cks-1a2b3c4d5e6f7a8b9",
	}
	for _, c := range m.Buckets(r) {
		fmt.Println(c.Key, c.Weight, m.Config().Limit(c.Key))
	}
	// Output:
	// 111122223333/eu-west-1/symmetric 1 100000
	// -/eu-west-1/cks:cks-1a2b3c4d5e6f7a8b9 3 1800
}
