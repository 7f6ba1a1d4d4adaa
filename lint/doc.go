// Package lint finds problems a scenario file can be proved to have
// without running it: problems that are not errors of the file format
// (package scenario rejects those), but that make a run fail or throttle
// in a way its author most likely did not intend.
//
// [Lint] checks a validated scenario against these rules:
//
//   - [RuleCallerNeverAdmitted]: a workload whose caller account is never
//     allowed to use its key during the run. The owner account may always
//     use its key; another account may when the key's allow_accounts names
//     it (an empty allow_accounts lets every account with a workload on the
//     key in), when grant_accounts names it, or from a put-key-policy event
//     whose allow_accounts names it on. A caller none of these admit gets
//     AccessDeniedException on every request. A workload that lists
//     AccessDeniedException (or access-denied) under expected_failures
//     declares the lockout intended and is not reported. A caller that a
//     put-key-policy event locks out later is not reported either: the
//     run expects those failures from the event on (see
//     scenario.(*Scenario).Expectations).
//   - [RuleRateOverQuota]: a workload that on its own, with no other
//     traffic, sends more requests in its busiest second to one quota
//     bucket than the bucket's quota, so that it throttles whatever else
//     runs. The load is the one package plan predicts for the workload
//     alone (its arrival shape, data-key cache and shift-traffic events
//     included), at real size (scale 1, where rates and quotas are the
//     file's), charged to the buckets quota.(*Model).Buckets names: the
//     caller's account x Region x class bucket, and a custom key store's
//     bucket for a key in one. It is reported only when plan also predicts
//     throttling (with the token-bucket algorithm a burst shorter than the
//     bucket's burst can pass). A scenario may mean to throttle, so this
//     is a warning like the others, not an error of the file.
//
// Key references are not linted: every key_ref form that cannot resolve
// at run time (a key id or alias name across accounts, an alias the key
// does not have, a Region where the key has no replica, an unknown key or
// alias) is already an error of scenario.Load.
//
// Each [Finding] carries the position of the offending field in the file
// (scenario.(*Scenario).Pos), the rule, a message and a one-line fix.
package lint
