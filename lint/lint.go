package lint

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

// Rules Lint applies (Finding.Rule).
const (
	// RuleCallerNeverAdmitted: a caller no key policy, allow_accounts,
	// grant or put-key-policy event ever lets use its key.
	RuleCallerNeverAdmitted = "caller-never-admitted"
	// RuleRateOverQuota: a workload whose load alone exceeds the quota of
	// a bucket it is charged to.
	RuleRateOverQuota = "rate-over-quota"
)

// Finding is one problem Lint proved.
type Finding struct {
	// Pos is where the offending field was written.
	Pos scenario.Position
	// Rule is one of the Rule* constants.
	Rule string
	// Workload names the workload concerned.
	Workload string
	// Message says what is wrong and what it does to the run.
	Message string
	// Fix says in one line how to change the file.
	Fix string
}

// String formats the finding as "file:line:col: message [rule]".
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s [%s]", f.Pos, f.Message, f.Rule)
}

// Options configure Lint. The zero value lints against AWS's default
// quotas.
type Options struct {
	// Quota holds the quota values and algorithm the run would apply
	// (the scenario's quotas: file, say). Its Scale is ignored: rates and
	// quotas are compared at real size. A zero Config (no Algorithm)
	// means quota.DefaultConfig().
	Quota quota.Config
	// QuotasOff says the run applies no quotas (quotas: off), so that no
	// workload can exceed one: RuleRateOverQuota is skipped.
	QuotasOff bool
}

// Lint returns every finding of s, sorted by position. s must be a
// validated scenario (scenario.Load or Parse; positions are known only
// for a scenario parsed from a file). The error reports an invalid
// Options.Quota.
func Lint(s *scenario.Scenario, opts Options) ([]Finding, error) {
	out := callersNeverAdmitted(s)
	if !opts.QuotasOff {
		over, err := ratesOverQuota(s, opts.Quota)
		if err != nil {
			return nil, err
		}
		out = append(out, over...)
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col), cmp.Compare(a.Rule, b.Rule))
	})
	return out, nil
}

// workloadPath is the path of field of workload w, for Scenario.Pos.
func workloadPath(w scenario.Workload, field string) string {
	return "workloads." + w.Name + "." + field
}
