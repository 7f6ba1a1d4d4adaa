package sim

import (
	"fmt"

	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// retrier is the retry state of one SDK client, as the SDK's retryer
// holds it: the effective settings, the retry token bucket and (adaptive
// mode) the client-side rate limiter. Workloads that share a client share
// one retrier per caller account and Region.
type retrier struct {
	retry      bool  // retries on (sdk-standard or adaptive)
	maxAtt     int   // attempts of a request, the first included
	maxBackoff int64 // cap of the delay before jitter, ns
	bucket     retryBucket
	ad         *adaptive // nil unless adaptive
}

// newRetrier returns the retry state of a new SDK client with c's
// settings, at the window's start (Unix ns).
func newRetrier(c scenario.EffectiveClient, scale float64, start int64) *retrier {
	rt := &retrier{
		retry:      c.Retry != scenario.RetryNone,
		maxAtt:     c.Attempts(),
		maxBackoff: int64(c.Backoff()),
	}
	if n := c.ScaledTokens(scale); n == scenario.RetryBucketNone {
		rt.bucket.unlimited = true
	} else {
		rt.bucket.tokens, rt.bucket.capacity = uint(n), uint(n)
	}
	if c.Retry == scenario.RetryAdaptive {
		rt.ad = newAdaptive(start)
	}
	return rt
}

// retrier returns the retry state of w's SDK client in region for this
// window: a new one for a workload with a client of its own, the one of
// the window per shared name, caller account and Region otherwise (the
// driver's windowClient).
func (r *run) retrier(w *workload, region string) *retrier {
	k := clientKey{name: w.Client.Name, account: w.Caller.ID, region: region, shared: w.Client.Shared}
	if !k.shared {
		k.name = "workload:" + w.Spec.Name
	}
	rt, ok := r.sdk[k]
	if !ok {
		rt = newRetrier(w.Client, r.s.res.Scale, r.start)
		r.sdk[k] = rt
	}
	return rt
}

// checkSharedClients refuses workloads that share a client with different
// retry settings: one client has one retryer.
func (s *Simulator) checkSharedClients() error {
	names := make([]string, len(s.wls))
	clients := make([]scenario.EffectiveClient, len(s.wls))
	for i, w := range s.wls {
		names[i], clients[i] = w.Spec.Name, w.Client
	}
	if a, b, c, found := scenario.SharedClientConflict(names, clients); found {
		return fmt.Errorf("%w: workloads %s and %s share client %s with different retry settings", ErrBadOptions, a, b, c)
	}
	return nil
}

// annotateClients fills each workload result's Client and
// RetryQuotaExhausted, as the driver does.
func (s *Simulator) annotateClients(ws []report.Workload) {
	clients := make([]report.WorkloadClient, len(s.wls))
	for i, w := range s.wls {
		clients[i] = report.WorkloadClient{Workload: w.Spec.Name, Client: plan.ClientInfo(w.Client, s.res.Scale)}
	}
	report.AnnotateClients(ws, clients)
}
