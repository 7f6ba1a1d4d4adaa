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
	enc := quota.Request{Account: "111122223333", Region: "eu-west-3", Operation: "Encrypt", KeySpec: "SYMMETRIC_DEFAULT"}

	// Symmetric cryptographic calls share one bucket per account and
	// Region: 10,000 per second in eu-west-3, in one-second windows.
	allowed := 0
	var last error
	for i := range 10_001 {
		if last = m.Allow(now.Add(time.Duration(i)*50*time.Microsecond), enc); last == nil {
			allowed++
		}
	}
	fmt.Println(allowed, last)
	// The next second starts a new window.
	fmt.Println(m.Allow(now.Add(time.Second), enc))

	// CreateKey has its own bucket of 5 per second that holds 10 s of its
	// quota: a volley of 50 passes.
	create := quota.Request{Account: "111122223333", Region: "eu-west-3", Operation: "CreateKey"}
	allowed = 0
	for range 51 {
		if last = m.Allow(now, create); last == nil {
			allowed++
		}
	}
	fmt.Println(allowed, last)
	// Output:
	// 10000 quota: Encrypt throttled by bucket 111122223333/eu-west-3/symmetric (limit 10000/s, retry after 500ms)
	// <nil>
	// 50 quota: CreateKey throttled by bucket 111122223333/eu-west-3/api:CreateKey (limit 5/s, retry after 200ms)
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
