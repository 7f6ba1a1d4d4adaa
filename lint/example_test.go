package lint_test

import (
	"fmt"

	"github.com/kmsload/kmsload/lint"
	"github.com/kmsload/kmsload/scenario"
)

func ExampleLint() {
	// The key policy admits prod but not other, and bulk alone asks for
	// more than prod's symmetric quota in us-east-1 (100,000/s).
	s, err := scenario.Parse("lockout.yaml", []byte(`name: lockout
accounts: {security: "999999999999", prod: "111111111111", other: "222222222222"}
keys:
  k: {account: security, allow_accounts: [prod]}
workloads:
  bulk: {caller: prod, key: k, operation: Decrypt, rate: 120000/s}
  locked: {caller: other, key: k, operation: Decrypt, rate: 100/s}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	findings, err := lint.Lint(s, lint.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
		fmt.Println("  fix:", f.Fix)
	}
	// Output:
	// lockout.yaml:6:58: workload "bulk" alone sends 120,000/s to bucket prod/us-east-1/symmetric (quota 100,000/s, fixed-window) in its busiest second: 120% — it throttles without any other traffic [rate-over-quota]
	//   fix: lower its rate, cache data keys, or split it across caller accounts or Regions (each has its own quota); leave it if the scenario means to throttle
	// lockout.yaml:7:20: workload "locked": caller other (222222222222) is never admitted to key k of account security: its allow_accounts [prod] leaves other out, other has no grant and no put-key-policy event admits it, so every request fails with AccessDeniedException [caller-never-admitted]
	//   fix: add other to keys.k.allow_accounts or keys.k.grant_accounts, or list AccessDeniedException under the workload's expected_failures if the lockout is intended
}
