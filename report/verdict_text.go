package report

import (
	"fmt"
	"strings"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/internal/prose"
	"github.com/kmsload/kmsload/quota"
)

// VerdictMinThrottledShare is the throttled-attempt share above which the
// verdict discusses a bucket.
const VerdictMinThrottledShare = 0.005

// VerdictMinCoupling is the coupling above which the verdict names a
// workload as slowed down by the others.
const VerdictMinCoupling = 0.05

// VerdictParagraphs returns r's verdict in plain words, one paragraph per
// finding: the headline (pass or fail, and why), each failure class a
// workload met other than throttling (worst first), each bucket that
// throttled, each SDK client that ran out of retry quota, and each
// workload the others slowed down. Every report prints these, so all say
// the same thing in the same words. A result without a verdict (written
// before verdicts existed) is judged with the default error budget and no
// expected failures.
func VerdictParagraphs(r *Results) []string {
	v := r.VerdictOrJudged()
	paras := []string{v.Headline}
	paras = append(paras, failureParagraphs(r, v)...)
	paras = append(paras, bucketParagraphs(r)...)
	paras = append(paras, quotaExhaustionParagraphs(r)...)
	paras = append(paras, couplingParagraphs(r)...)
	paras = append(paras, retryScaleParagraphs(r)...)
	return paras
}

// VerdictOrJudged returns r's verdict, or for results written before
// verdicts existed, the one Judge gives them with the default error budget
// and no expected failures (r is left unchanged).
func (r *Results) VerdictOrJudged() *Verdict {
	if r.Verdict != nil {
		return r.Verdict
	}
	c := *r
	return Judge(&c, Policy{ErrorBudget: failure.DefaultErrorBudget})
}

// failureParagraphs explains each failure of v other than throttling and
// retry-quota exhaustion (which bucketParagraphs and
// quotaExhaustionParagraphs explain), worst first.
func failureParagraphs(r *Results, v *Verdict) []string {
	byName := map[string]Workload{}
	for _, w := range r.Workloads {
		byName[w.Name] = w
	}
	var out []string
	for _, f := range v.Failures {
		if f.Class == failure.Throttled || f.Class == failure.RetryQuota {
			continue
		}
		w := byName[f.Workload]
		var s strings.Builder
		fmt.Fprintf(&s, "%s: %d of its %d arrivals (%s) %s", f.Workload, f.Count, w.Arrivals(), prose.Percent(f.Share), failedHow(f))
		if hint := classHint(f.Class, w, r); hint != "" {
			s.WriteString(": " + hint)
		}
		s.WriteString(".")
		s.WriteString(expectedText(f))
		out = append(out, s.String())
	}
	return out
}

// failedHow says how f's arrivals failed: "failed with X (access denied)"
// or "were dropped".
func failedHow(f Failure) string {
	switch {
	case f.Class == failure.Dropped:
		return "were dropped"
	case len(f.Codes) == 1:
		for c := range f.Codes {
			return fmt.Sprintf("failed with %s (%s)", c, f.Class.Label())
		}
	}
	return fmt.Sprintf("failed with %s (%s)", f.Class.Label(), f.CountsText())
}

// expectedText says which part of f the scenario expects.
func expectedText(f Failure) string {
	switch {
	case f.Expected == 0:
		return " The scenario does not expect it."
	case f.Expected == f.Count:
		return fmt.Sprintf(" Expected (%s): not counted against the error budget.", strings.Join(f.ExpectedBy, "; "))
	}
	return fmt.Sprintf(" %d of them expected (%s); the other %d count against the error budget.",
		f.Expected, strings.Join(f.ExpectedBy, "; "), f.Unexpected())
}

// classHint says what a failure class means for workload w and where to
// look.
func classHint(c failure.Class, w Workload, r *Results) string {
	switch c {
	case failure.AccessDenied:
		return fmt.Sprintf("the key policy, a grant or IAM refused caller %s (%s) on key %s — check the key's allow_accounts and grant_accounts; `kmsload validate` names callers a policy never admits",
			prose.OrDash(w.Caller), prose.OrDash(w.CallerAccount), prose.OrDash(w.Key))
	case failure.KeyState:
		return fmt.Sprintf("key %s was disabled, pending deletion or unavailable", prose.OrDash(w.Key))
	case failure.Dropped:
		return "they found the workload's max_in_flight requests already in flight and were never sent: the client fell behind (requests waiting in backoff, in the SDK's rate limiter or on a slow target)"
	case failure.Unfinished:
		return "the requests were cancelled or timed out — those still in flight or still queued in the SDK when the drain timeout ended are among them — so their latency is longer than the run could measure"
	case failure.Transport:
		return fmt.Sprintf("the connection to the target (%s) failed or its answers were not KMS's", prose.OrDash(r.Target.Kind))
	}
	return ""
}

// bucketParagraphs explains each bucket that throttled more than
// VerdictMinThrottledShare of its attempts: its load, who shares it, and
// whether throttling followed the bucket or the key.
func bucketParagraphs(r *Results) []string {
	keyOf := map[string]string{}
	byName := map[string]Workload{}
	for _, w := range r.Workloads {
		keyOf[w.Name] = w.Key
		byName[w.Name] = w
	}
	var paras []string
	for _, b := range r.Buckets {
		share := b.ThrottledShare()
		if share <= VerdictMinThrottledShare {
			continue
		}
		var s strings.Builder
		store, isStore := quota.Class(b.Class).Store()
		pair, isPair := quota.Class(b.Class).Pair()
		what := "the bucket (caller account x Region x class)"
		switch {
		case isPair:
			what = "the bucket of " + pair + " data key pairs (caller account x Region)"
			fmt.Fprintf(&s, "Bucket %s (the %s data key pairs of caller account %s, Region %s) throttled %.1f%% of its %d attempts",
				b.Name, pair, prose.OrDash(b.Account), prose.OrDash(b.Region), 100*share, b.Allowed+b.Throttled)
		case isStore:
			what = "the custom key store's bucket"
			fmt.Fprintf(&s, "Bucket %s (custom key store %s, Region %s, shared by every caller) throttled %.1f%% of its %d attempts",
				b.Name, store, prose.OrDash(b.Region), 100*share, b.Allowed+b.Throttled)
		default:
			fmt.Fprintf(&s, "Bucket %s (caller account %s, Region %s, class %s) throttled %.1f%% of its %d attempts",
				b.Name, prose.OrDash(b.Account), prose.OrDash(b.Region), prose.OrDash(b.Class), 100*share, b.Allowed+b.Throttled)
		}
		if b.QuotaPerS > 0 {
			fmt.Fprintf(&s, " at %.0f%% of its quota (%.1f/s demand, %.1f/s quota)", 100*b.DemandPerS/b.QuotaPerS, b.DemandPerS, b.QuotaPerS)
		}
		s.WriteString(". ")
		switch len(b.Workloads) {
		case 0:
		case 1:
			fmt.Fprintf(&s, "Only %s uses it. ", b.Workloads[0])
		default:
			fmt.Fprintf(&s, "It is shared by %s. ", prose.And(b.Workloads))
		}
		var throttled []string
		keys := map[string]bool{}
		for _, n := range b.Workloads {
			if byName[n].ThrottledIn(b.Name) > 0 {
				throttled = append(throttled, n)
				if k := keyOf[n]; k != "" {
					keys[k] = true
				}
			}
		}
		switch {
		case len(keys) > 1:
			parts := make([]string, len(throttled))
			for i, n := range throttled {
				parts[i] = fmt.Sprintf("%s on key %s", n, prose.OrDash(keyOf[n]))
			}
			fmt.Fprintf(&s, "Workloads on different keys were throttled (%s): throttling followed %s, not the key.", prose.And(parts), what)
		case len(keys) == 1 && len(throttled) > 1:
			var k string
			for k = range keys {
			}
			fmt.Fprintf(&s, "The throttled workloads (%s) all use key %s, so this run cannot tell the bucket from the key; a layout with a second key in the same bucket would.", prose.And(throttled), k)
		case len(throttled) == 1:
			fmt.Fprintf(&s, "%s was throttled.", throttled[0])
		}
		paras = append(paras, strings.TrimSpace(s.String()))
	}
	if len(paras) == 0 {
		paras = append(paras, fmt.Sprintf("No quota bucket throttled more than %.1f%% of its attempts.", 100*VerdictMinThrottledShare))
	}
	return paras
}

// couplingParagraphs names each workload that lost more than
// VerdictMinCoupling of its goodput when run with the others.
func couplingParagraphs(r *Results) []string {
	var paras, unsure []string
	for _, c := range r.Coupling {
		if c.Inconclusive != "" {
			unsure = append(unsure, fmt.Sprintf("%s (%.1f%%)", c.Workload, 100*c.Coupling))
		}
		var s string
		if c.Coupling > VerdictMinCoupling {
			s = fmt.Sprintf("%s lost %.1f%% of its goodput when run with the others (%.1f/s alone, %.1f/s together)",
				c.Workload, 100*c.Coupling, c.IsolatedGoodputPerS, c.CombinedGoodputPerS)
			if c.Noise > 0 {
				s += fmt.Sprintf(", ±%.1f points of noise", 100*c.Noise)
			}
		}
		if latencyCoupled(c) {
			if s == "" {
				s = c.Workload + " kept its goodput"
			}
			s += fmt.Sprintf("; its p99 went from %.0f ms alone to %.0f ms together", c.IsolatedP99Ms, c.CombinedP99Ms)
		}
		if s == "" {
			continue
		}
		if len(c.SharesBucketWith) > 0 {
			s += fmt.Sprintf("; it shares bucket %s with %s", c.Bucket, prose.And(c.SharesBucketWith))
		}
		paras = append(paras, s+".")
	}
	if len(unsure) > 0 {
		paras = append(paras, fmt.Sprintf("INCONCLUSIVE coupling: the goodput lost by %s cannot be told from noise (%s). Run longer windows (--duration 10s or more) before concluding that the workloads are, or are not, coupled.",
			prose.And(unsure), firstInconclusive(r.Coupling)))
	}
	return paras
}

// latencyCoupled tells whether c's p99 together is more than three times
// its p99 alone and at least 10 ms more: the others cost it latency,
// whatever its goodput did.
func latencyCoupled(c Coupling) bool {
	return c.CombinedP99Ms > 3*c.IsolatedP99Ms && c.CombinedP99Ms-c.IsolatedP99Ms >= 10
}

// firstInconclusive returns the reason of the first inconclusive coupling.
func firstInconclusive(cs []Coupling) string {
	for _, c := range cs {
		if c.Inconclusive != "" {
			return c.Inconclusive
		}
	}
	return ""
}
