package lint_test

import (
	"strings"
	"testing"

	"github.com/kmsload/kmsload/lint"
	"github.com/kmsload/kmsload/scenario"
)

// finding is one expected finding: exact position, rule and message.
type finding struct {
	line, col int
	rule, msg string
}

// check parses src as file f.yaml, lints it with opts and compares every
// finding with want.
func check(t *testing.T, src string, opts lint.Options, want []finding) {
	t.Helper()
	s, err := scenario.Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got, err := lint.Lint(s, opts)
	if err != nil {
		t.Fatalf("Lint: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Lint found %d findings; want %d:\n%s", len(got), len(want), list(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Pos != (scenario.Position{File: "f.yaml", Line: w.line, Col: w.col}) || g.Rule != w.rule || g.Message != w.msg ||
			!strings.HasPrefix(g.Message, `workload "`+g.Workload+`"`) {
			t.Errorf("finding %d = %v %s %q;\nwant f.yaml:%d:%d %s %q", i, g.Pos, g.Rule, g.Message, w.line, w.col, w.rule, w.msg)
		}
		if g.Fix == "" || strings.Contains(g.Fix, "\n") {
			t.Errorf("finding %d: fix %q; want one line", i, g.Fix)
		}
	}
}

func list(fs []lint.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// admitHead is a scenario whose key k, owned by security, lets prod in by
// its key policy and app by a grant; other is in neither.
const admitHead = `name: admit
duration: 60s
accounts: {security: "999999999999", prod: "111111111111", app: "333333333333", other: "222222222222"}
keys:
  k: {account: security, alias: alias/k, allow_accounts: [prod], grant_accounts: [app]}
  open: {account: security}
workloads:
`

const lockedOut = `workload "w": caller other (222222222222) is never admitted to key k of account security: ` +
	`its allow_accounts [prod] leaves other out, other has no grant and no put-key-policy event admits it, ` +
	`so every request fails with AccessDeniedException`

func TestCallerNeverAdmitted(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []finding
	}{
		{"not in allow_accounts", `  w: {caller: other, key: k, operation: Decrypt, rate: 10/s}
`, []finding{{8, 15, lint.RuleCallerNeverAdmitted, lockedOut}}},
		{"named by alias", `  w: {caller: other, key: alias/k, operation: Encrypt, rate: 10/s}
`, []finding{{8, 15, lint.RuleCallerNeverAdmitted, lockedOut}}},
		{"allow_accounts", `  w: {caller: prod, key: k, operation: Decrypt, rate: 10/s}
`, nil},
		{"grant", `  w: {caller: app, key: k, operation: Decrypt, rate: 10/s}
`, nil},
		{"owner", `  w: {caller: security, key: k, operation: Decrypt, rate: 10/s}
`, nil},
		{"empty allow_accounts lets every caller in", `  w: {caller: other, key: open, operation: Decrypt, rate: 10/s}
`, nil},
		{"admitted later by put-key-policy", `  w: {caller: other, key: k, operation: Decrypt, rate: 10/s}
events:
  - {at: 20s, action: put-key-policy, key: k, allow_accounts: [prod, other]}
`, nil},
		{"put-key-policy on another key", `  w: {caller: other, key: k, operation: Decrypt, rate: 10/s}
events:
  - {at: 20s, action: put-key-policy, key: open, allow_accounts: [other]}
`, []finding{{8, 15, lint.RuleCallerNeverAdmitted, lockedOut}}},
		{"put-key-policy leaving it out", `  w: {caller: other, key: k, operation: Decrypt, rate: 10/s}
events:
  - {at: 20s, action: put-key-policy, key: k, allow_accounts: []}
`, []finding{{8, 15, lint.RuleCallerNeverAdmitted, lockedOut}}},
		{"locked out later: the run expects it", `  w: {caller: prod, key: k, operation: Decrypt, rate: 10/s}
events:
  - {at: 20s, action: put-key-policy, key: k, allow_accounts: []}
`, nil},
		{"expected by code", `  w: {caller: other, key: k, operation: Decrypt, rate: 10/s, expected_failures: [AccessDeniedException]}
`, nil},
		{"expected by class", `  w: {caller: other, key: k, operation: Decrypt, rate: 10/s, expected_failures: [access-denied]}
`, nil},
		{"other expectations do not cover it", `  w: {caller: other, key: k, operation: Decrypt, rate: 10/s, expected_failures: [DisabledException]}
`, []finding{{8, 15, lint.RuleCallerNeverAdmitted, lockedOut}}},
		{"GenerateRandom uses no key", `  w: {caller: other, operation: GenerateRandom, rate: 10/s}
`, nil},
		{"in file order, block style", `  first: {caller: prod, key: k, operation: Decrypt, rate: 10/s}
  w:
    operation: Decrypt
    rate: 10/s
    caller: other
    key: k
`, []finding{{12, 13, lint.RuleCallerNeverAdmitted, lockedOut}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, admitHead+tt.body, lint.Options{}, tt.want)
		})
	}
}

// lintSource parses src and lints it with opts.
func lintSource(t *testing.T, src string, opts lint.Options) ([]lint.Finding, error) {
	t.Helper()
	s, err := scenario.Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return lint.Lint(s, opts)
}
