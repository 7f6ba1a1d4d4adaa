package guard_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/scenario"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333"
)

func TestParseThrottleLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    guard.ThrottleLimit
		wantErr bool
	}{
		{"5%/10s", guard.ThrottleLimit{Share: 0.05, Window: 10 * time.Second}, false},
		{"0.2/1m", guard.ThrottleLimit{Share: 0.2, Window: time.Minute}, false},
		{" 50%/1s ", guard.ThrottleLimit{Share: 0.5, Window: time.Second}, false},
		{"5%", guard.ThrottleLimit{}, true},
		{"0%/10s", guard.ThrottleLimit{}, true},
		{"100%/10s", guard.ThrottleLimit{}, true},
		{"5%/500ms", guard.ThrottleLimit{}, true},
		{"x/10s", guard.ThrottleLimit{}, true},
	}
	for _, tt := range tests {
		got, err := guard.ParseThrottleLimit(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseThrottleLimit(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAWSAlias(t *testing.T) {
	tests := map[string]string{
		"alias/prod":         "alias/kmsload-prod",
		"alias/team/app":     "alias/kmsload-team/app",
		"alias/kmsload-prod": "alias/kmsload-prod",
		"alias/aws/s3":       "alias/aws/s3",
		"":                   "",
	}
	for in, want := range tests {
		if got := guard.AWSAlias(in); got != want {
			t.Errorf("AWSAlias(%q) = %q; want %q", in, got, want)
		}
	}
}

// awsScenario: a in the default credentials, b through a role; b's
// workload uses a's key cross-account; c only appears in the key policy.
func awsScenario() *scenario.Scenario {
	return &scenario.Scenario{
		Name: "test", Region: "us-east-1", Scale: 1, Duration: time.Second, Seed: 1,
		Accounts: map[string]scenario.Account{
			"a": {Name: "a", ID: acctA},
			"b": {Name: "b", ID: acctB, RoleARN: "arn:aws:iam::" + acctB + ":role/load"},
			"c": {Name: "c", ID: acctC},
		},
		Keys: map[string]scenario.Key{"k": {Name: "k", Account: "a", Alias: "alias/prod", AllowAccounts: []string{"b", "c"}}},
		Workloads: []scenario.Workload{
			{Name: "own", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 10},
			{Name: "cross", Caller: "b", Key: "k", KeyRef: scenario.KeyRefARN, Operation: "Encrypt", Rate: 10},
		},
	}
}

func TestTouchedAccounts(t *testing.T) {
	var got []string
	for _, a := range guard.TouchedAccounts(awsScenario()) {
		got = append(got, a.ID+": "+strings.Join(a.Reasons, ", "))
	}
	want := []string{
		acctA + ": caller of workload own, owner of key k",
		acctB + ": caller of workload cross, allowed by the policy of key k",
		acctC + ": allowed by the policy of key k",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("TouchedAccounts() = %q; want %q", got, want)
	}
}

// TestCheckAccounts: what a run on real AWS is refused before it sends
// anything.
func TestCheckAccounts(t *testing.T) {
	all := []string{acctA, acctB, acctC}
	keyARN := "arn:aws:kms:us-east-1:" + acctA + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name     string
		allow    []string
		edit     func(*scenario.Scenario)
		existing map[string]string
		want     error
	}{
		{"ok", all, nil, nil, nil},
		{"policy account missing", all[:2], nil, nil, guard.ErrAccountNotAllowed},
		{"role of another account", all, func(sc *scenario.Scenario) {
			sc.Accounts["b"] = scenario.Account{Name: "b", ID: acctB, RoleARN: "arn:aws:iam::" + acctC + ":role/load"}
		}, nil, guard.ErrAccountMismatch},
		{"existing key", all, func(sc *scenario.Scenario) { sc.Workloads = sc.Workloads[1:] }, map[string]string{"k": keyARN}, nil},
		{"existing key of another account", all, nil, map[string]string{"k": strings.Replace(keyARN, acctA, acctB, 1)}, guard.ErrExistingKey},
		{"existing key named by alias", all, func(sc *scenario.Scenario) { sc.Workloads[0].KeyRef = scenario.KeyRefAlias },
			map[string]string{"k": keyARN}, guard.ErrExistingKey},
		{"existing key rotated", all, func(sc *scenario.Scenario) {
			k := sc.Keys["k"]
			k.Rotation = true
			sc.Keys["k"] = k
		}, map[string]string{"k": keyARN}, guard.ErrExistingKey},
	}
	for _, tt := range tests {
		sc := awsScenario()
		if tt.edit != nil {
			tt.edit(sc)
		}
		keys, err := guard.CheckAccounts(sc, tt.allow, tt.existing)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: CheckAccounts() error = %v; want %v", tt.name, err, tt.want)
		}
		if err == nil && len(keys) != len(tt.existing) {
			t.Errorf("%s: CheckAccounts() = %v; want %d existing keys", tt.name, keys, len(tt.existing))
		}
	}
}
