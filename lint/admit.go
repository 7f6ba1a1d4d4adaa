package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/scenario"
)

// callersNeverAdmitted applies RuleCallerNeverAdmitted to every workload
// of s.
func callersNeverAdmitted(s *scenario.Scenario) []Finding {
	var out []Finding
	for _, w := range s.Workloads {
		k, ok := s.Keys[w.Key]
		if !ok || w.Caller == k.Account || k.AWSManaged() || admitted(s, w, k) || expectsDenial(w) {
			// An AWS-managed key used across accounts is already an
			// error of the file.
			continue
		}
		out = append(out, Finding{
			Pos:      s.Pos(workloadPath(w, "caller")),
			Rule:     RuleCallerNeverAdmitted,
			Workload: w.Name,
			Message: fmt.Sprintf("workload %q: caller %s (%s) is never admitted to key %s of account %s: "+
				"its allow_accounts [%s] leaves %s out, %s has no grant and no put-key-policy event admits it, "+
				"so every request fails with %s",
				w.Name, w.Caller, s.CallerAccount(w).ID, w.Key, k.Account,
				strings.Join(k.AllowAccounts, ", "), w.Caller, w.Caller, failure.CodeAccessDenied),
			Fix: fmt.Sprintf("add %s to keys.%s.allow_accounts or keys.%s.grant_accounts, or list %s under the workload's expected_failures if the lockout is intended",
				w.Caller, w.Key, w.Key, failure.CodeAccessDenied),
		})
	}
	return out
}

// admitted reports whether the caller of w may use key k (owned by
// another account) at some time during the run: through a grant, the
// key policy the run starts with (allow_accounts, or every caller with a
// workload on the key when it is empty), or a put-key-policy event.
func admitted(s *scenario.Scenario, w scenario.Workload, k scenario.Key) bool {
	if slices.Contains(k.GrantAccounts, w.Caller) || slices.Contains(s.PolicyAccounts(w.Key), w.Caller) {
		return true
	}
	for _, e := range s.Events {
		if e.Action == scenario.ActionPutKeyPolicy && e.Key == w.Key && slices.Contains(e.AllowAccounts, w.Caller) {
			return true
		}
	}
	return false
}

// expectsDenial reports whether w's expected_failures cover
// AccessDeniedException from the start.
func expectsDenial(w scenario.Workload) bool {
	for _, m := range w.ExpectedFailures {
		if (failure.Expectation{Match: m}).Matches(failure.AccessDenied, failure.CodeAccessDenied) {
			return true
		}
	}
	return false
}
