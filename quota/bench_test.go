package quota_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsload/kmsload/quota"
)

func benchModel(b *testing.B, alg quota.Algorithm) *quota.Model {
	m := newModel(b, func(c *quota.Config) {
		c.Algorithm = alg
		c.Scale = 1e6 // every request fits: this measures the allowed path
	})
	return m
}

// BenchmarkAllow measures the allowed path from many goroutines, each on an
// account of its own (no shared bucket) or all on one bucket.
func BenchmarkAllow(b *testing.B) {
	for _, alg := range []quota.Algorithm{quota.FixedWindow, quota.TokenBucket} {
		for _, shared := range []bool{false, true} {
			name := fmt.Sprintf("%s/shared=%v", alg, shared)
			b.Run(name, func(b *testing.B) {
				m := benchModel(b, alg)
				var next atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					id := next.Add(1)
					acct := fmt.Sprintf("%012d", id)
					if shared {
						acct = acctA
					}
					r := quota.Request{Account: acct, Region: "us-east-1", Operation: "Decrypt", KeySpec: "SYMMETRIC_DEFAULT"}
					now := t0
					for pb.Next() {
						now = now.Add(time.Microsecond)
						if err := m.Allow(now, r); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
	b.Run("store", func(b *testing.B) {
		m := benchModel(b, quota.FixedWindow)
		r := quota.Request{Account: acctA, Region: "us-east-1", Operation: "GenerateDataKey", CustomKeyStore: "cks-1"}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			now := t0
			for pb.Next() {
				now = now.Add(time.Microsecond)
				if err := m.Allow(now, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
