package scenario

import (
	"fmt"
	"slices"

	"github.com/kmsload/kmsload/failure"
)

// ReasonExpectedFailures is the failure.Expectation reason of a workload's
// own expected_failures.
const ReasonExpectedFailures = "expected_failures"

// eventCodes returns the codes an event with this action makes requests
// on its key fail with, from the event on: DisabledException after
// disable-key (and after cancel-deletion, which leaves the key disabled),
// KMSInvalidStateException after schedule-deletion, AccessDeniedException
// after put-key-policy for the callers the new policy leaves out. Other
// actions cause none.
func eventCodes(action string) []string {
	switch action {
	case ActionDisableKey, ActionCancelDeletion:
		return []string{failure.CodeDisabled}
	case ActionScheduleDelete:
		return []string{failure.CodeInvalidState}
	case ActionPutKeyPolicy:
		return []string{failure.CodeAccessDenied}
	}
	return nil
}

// Expectations returns the failures workload w of s is expected to meet:
// its ExpectedFailures from the start, and the failures each lifecycle
// event on its key causes from the event on (a put-key-policy event only
// for a caller the new policy leaves out: not the owner, not in its
// allow_accounts, without a grant).
func (s *Scenario) Expectations(w Workload) []failure.Expectation {
	var out []failure.Expectation
	for _, m := range w.ExpectedFailures {
		out = append(out, failure.Expectation{Match: m, Reason: ReasonExpectedFailures})
	}
	if w.Key == "" {
		return out
	}
	k := s.Keys[w.Key]
	for _, e := range s.Events {
		if e.Key != w.Key {
			continue
		}
		if e.Action == ActionPutKeyPolicy && (w.Caller == k.Account ||
			slices.Contains(e.AllowAccounts, w.Caller) || slices.Contains(k.GrantAccounts, w.Caller)) {
			continue
		}
		for _, code := range eventCodes(e.Action) {
			out = append(out, failure.Expectation{Match: code, FromS: e.At.Seconds(),
				Reason: fmt.Sprintf("%s of %s at %s", e.Action, e.Key, e.At)})
		}
	}
	return out
}

// expectedFailures checks a workload's expected_failures: each a failure
// class or an error code, none twice.
func (v *validator) expectedFailures(path string, w Workload) {
	classes := failure.ClassNames()
	seen := map[string]bool{}
	for i, m := range w.ExpectedFailures {
		p := index(join(path, "expected_failures"), i)
		_, isClass := failure.Parse(m)
		switch {
		case seen[m]:
			v.errorf(p, "%q is listed twice", clip(m))
		case isClass, failure.IsCode(m):
		default:
			v.errorf(p, "%q is neither a failure class (%s) nor an error code such as AccessDeniedException%s",
				clip(m), quoteList(classes), suggest(m, append(classes, failure.Codes()...)))
		}
		seen[m] = true
	}
}
