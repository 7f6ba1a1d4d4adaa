package whatif_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/whatif"
)

const base = `name: shared
region: eu-west-1
accounts: {apps: "111111111111", pay: "222222222222"}
keys:
  shared: {account: apps}
workloads:
  orders: {caller: apps, key: shared, operation: Decrypt, rate: 100/s, team: shop}
  carts: {caller: apps, key: shared, operation: GenerateDataKey, rate: 50/s, team: shop}
  ledger: {caller: pay, key: shared, operation: Encrypt, rate: 20/s, team: finance}
`

func load(t *testing.T) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Parse("base.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func apply(t *testing.T, transform string) *scenario.Scenario {
	t.Helper()
	tr, err := whatif.Parse("t.yaml", []byte(transform))
	if err != nil {
		t.Fatal(err)
	}
	s, err := whatif.Apply(load(t), tr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func workload(s *scenario.Scenario, name string) scenario.Workload {
	for _, w := range s.Workloads {
		if w.Name == name {
			return w
		}
	}
	return scenario.Workload{}
}

// TestMoveKey: a key moved to a central account is called by ARN by
// every caller, now all cross-account; the original is untouched.
func TestMoveKey(t *testing.T) {
	s := apply(t, `name: central
accounts: {security: "999999999999"}
steps: [{move_key: "*", to_account: security}]`)
	if k := s.Keys["shared"]; k.Account != "security" {
		t.Errorf("key %+v; want it in security", k)
	}
	for _, w := range s.Workloads {
		if w.KeyRef != scenario.KeyRefARN {
			t.Errorf("%s: key_ref %s; want arn (cross-account)", w.Name, w.KeyRef)
		}
	}
	if s.Name != "shared / central" || !strings.Contains(s.Description, "move key * to account security") {
		t.Errorf("name %q, description %q", s.Name, s.Description)
	}
	if orig := load(t); orig.Keys["shared"].Account != "apps" {
		t.Error("Apply changed the original")
	}
}

// TestAccountByID: an account a transform adds under the id of one the
// scenario has is that account.
func TestAccountByID(t *testing.T) {
	s := apply(t, `name: to-pay
accounts: {payments: "222222222222"}
steps: [{move_key: shared, to_account: payments}]`)
	if k := s.Keys["shared"]; k.Account != "pay" || len(s.Accounts) != 2 {
		t.Errorf("key %+v, accounts %v; want the key in pay, no new account", k, s.Accounts)
	}
}

// TestSplitKey: per team, each team gets its own key.
func TestSplitKey(t *testing.T) {
	s := apply(t, `name: per-team
steps: [{split_key: shared, per: team}]`)
	if workload(s, "orders").Key != "shared-shop" || workload(s, "carts").Key != "shared-shop" || workload(s, "ledger").Key != "shared-finance" {
		t.Errorf("keys: %s %s %s; want shared-shop twice and shared-finance", workload(s, "orders").Key, workload(s, "carts").Key, workload(s, "ledger").Key)
	}
	if _, ok := s.Keys["shared"]; ok || len(s.Keys) != 2 {
		t.Errorf("keys %v; want the shared key split in two", s.Keys)
	}
	per := apply(t, `name: per-workload
steps: [{split_key: shared}]`)
	if len(per.Keys) != 3 {
		t.Errorf("%d keys; want one per workload", len(per.Keys))
	}
}

// TestMoveWorkloadAndCache: a workload moved to another account and
// Region, its key replicated there; a data-key cache added.
func TestMoveWorkloadAndCache(t *testing.T) {
	s := apply(t, `name: move
steps:
  - {move_workload: ledger, to_account: apps, to_region: us-west-2}
  - {cache: "c*", max_age: 5m, max_uses: 100}`)
	w := workload(s, "ledger")
	if w.Caller != "apps" || w.Region != "us-west-2" {
		t.Errorf("ledger %+v; want apps in us-west-2", w)
	}
	if k := s.Keys["shared"]; !k.MultiRegion || len(k.Replicas) != 1 || k.Replicas[0] != "us-west-2" {
		t.Errorf("key %+v; want a multi-Region key with a replica in us-west-2", k)
	}
	if c := workload(s, "carts").DataKeyCache; c == nil || c.MaxAge != 5*time.Minute || c.MaxUses != 100 {
		t.Errorf("carts cache %+v", c)
	}
}

// TestTransformErrors: a bad file names file:line:col; a step that
// cannot apply says which and why.
func TestTransformErrors(t *testing.T) {
	parse := []struct{ text, want string }{
		{"name: x\nsteps: [{move_key: k, per: team}]\n", "t.yaml:2:23: steps[0]: move_key takes no per (it takes to_account)"},
		{"name: x\nsteps: [{move_key: k, split_key: j}]\n", "t.yaml:2:23: steps[0]: move_key and split_key: one change per step"},
		{"name: x\nsteps: [{cache: w, max_age: soon}]\n", "t.yaml:2:29: steps[0].max_age: want a positive duration"},
		{"name: x\naccounts: {sec: 999999999999}\nsteps: [{move_key: k}]\n", "t.yaml:2:17: accounts.sec: want a quoted 12-digit account id"},
		{"name: x\nsteps: [{rename: k}]\n", `t.yaml:2:10: steps[0]: unknown field "rename"`},
		{"steps: [{move_key: k, to_account: a}]\n", "t.yaml:1:1: name: required"},
	}
	for _, tt := range parse {
		_, err := whatif.Parse("t.yaml", []byte(tt.text))
		var pe *whatif.ParseError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v; want %q", tt.text, err, tt.want)
		}
	}
	apply := []struct{ text, want string }{
		{"name: x\nsteps: [{move_key: nokey, to_account: apps}]\n", `step 1 (move key nokey to account apps): no key matches "nokey"`},
		{"name: x\nsteps: [{move_key: shared, to_account: nowhere}]\n", `unknown account "nowhere"`},
		{"name: x\nsteps: [{move_workload: orders, to_region: mars-1}]\n", `unknown Region "mars-1"`},
		{"name: x\nsteps: [{split_key: shared, per: colour}]\n", `per "colour": want workload, team or caller`},
	}
	for _, tt := range apply {
		tr, err := whatif.Parse("t.yaml", []byte(tt.text))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := whatif.Apply(load(t), tr); !errors.Is(err, whatif.ErrTransform) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Apply(%q) = %v; want %q", tt.text, err, tt.want)
		}
	}
}

// FuzzParse: no transform file crashes the parser or Apply; what parses
// either applies or fails with ErrTransform.
func FuzzParse(f *testing.F) {
	f.Add("name: x\naccounts: {sec: \"999999999999\"}\nsteps: [{move_key: \"*\", to_account: sec}, {split_key: shared, per: team}]\n")
	f.Add("name: y\nsteps:\n  - {move_workload: \"o*\", to_account: pay, to_region: us-west-2}\n  - {cache: carts, max_age: 5m, max_uses: 10}\n")
	f.Add("name: z\nsteps: [{move_key: [a]}]\n")
	s, err := scenario.Parse("base.yaml", []byte(base))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tr, err := whatif.Parse("f.yaml", []byte(text))
		if err != nil {
			var pe *whatif.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %T %v is not a *ParseError", err, err)
			}
			return
		}
		if _, err := whatif.Apply(s, tr); err != nil && !errors.Is(err, whatif.ErrTransform) {
			t.Fatalf("Apply error %v is not ErrTransform", err)
		}
	})
}
