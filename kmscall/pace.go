package kmscall

import (
	"context"
	"sync"

	"golang.org/x/time/rate"

	"github.com/kmsload/kmsload/scenario"
)

// The pace of unmeasured calls (provisioning, the target probe, the
// sweep) on targets with real quotas.
const (
	// ManagementRate is the pace of each management API (calls per second),
	// below KMS's lowest management quota of 5/s.
	ManagementRate = 4
	// CryptoRate is the pace of the cryptographic calls that fill pools
	// and probe a workload's operation.
	CryptoRate = 50
)

// Pacer spaces unmeasured calls, one limiter per operation, each with a
// burst of 1. It is safe for concurrent use; a nil *Pacer paces nothing
// (the embedded emulator is provisioned with quotas off).
type Pacer struct {
	rateOf   func(op string) rate.Limit
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// NewPacer returns a Pacer whose operation op goes at rateOf(op) calls per
// second; nil rateOf is ProvisionRate.
func NewPacer(rateOf func(op string) rate.Limit) *Pacer {
	if rateOf == nil {
		rateOf = ProvisionRate
	}
	return &Pacer{rateOf: rateOf, limiters: map[string]*rate.Limiter{}}
}

// ProvisionRate is the pace of op when kmsload prepares or probes a
// target: CryptoRate for the cryptographic operations a scenario can name
// (DescribeKey aside), ManagementRate for everything else.
func ProvisionRate(op string) rate.Limit {
	if scenario.IsOperation(op) && op != scenario.OpDescribeKey {
		return CryptoRate
	}
	return ManagementRate
}

// Wait blocks until the next call of op may go, or ctx is done.
func (p *Pacer) Wait(ctx context.Context, op string) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	l := p.limiters[op]
	if l == nil {
		l = rate.NewLimiter(p.rateOf(op), 1)
		p.limiters[op] = l
	}
	p.mu.Unlock()
	return l.Wait(ctx)
}
