package scenario_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/scenario"
)

const expectBase = `name: t
accounts: {prod: "111111111111", other: "222222222222"}
keys:
  k: {account: prod, allow_accounts: [other]}
workloads:
  a: {caller: prod, key: k, operation: Decrypt, rate: 10/s}
  b: {caller: other, key: k, operation: Decrypt, rate: 10/s, expected_failures: [AccessDeniedException, dropped]}
`

func TestErrorBudget(t *testing.T) {
	for _, tc := range []struct {
		line string
		want float64
	}{
		{"", scenario.DefaultErrorBudget},
		{"error_budget: 5%\n", 0.05},
		{"error_budget: \"0.5 %\"\n", 0.005},
		{"error_budget: 0.02\n", 0.02},
		{"error_budget: 0\n", 0},
	} {
		s, err := scenario.Parse("t.yaml", []byte(tc.line+expectBase))
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if s.ErrorBudget != tc.want {
			t.Errorf("%q: ErrorBudget = %g; want %g", tc.line, s.ErrorBudget, tc.want)
		}
	}
	for _, tc := range []struct {
		line, want string
	}{
		{"error_budget: 150%\n", `t.yaml:1:15: error_budget: want a share from 0 to 1 or a percentage such as "1%", got "150%"`},
		{"error_budget: 2\n", `t.yaml:1:15: error_budget: want a share from 0 to 1 or a percentage such as "1%", got the number 2`},
		{"error_budget: lots\n", `t.yaml:1:15: error_budget: want a share`},
	} {
		_, err := scenario.Parse("t.yaml", []byte(tc.line+expectBase))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want %q", tc.line, err, tc.want)
		}
	}
}

func TestExpectedFailuresValidation(t *testing.T) {
	s, err := scenario.Parse("t.yaml", []byte(expectBase))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Workloads[1].ExpectedFailures; !reflect.DeepEqual(got, []string{"AccessDeniedException", "dropped"}) {
		t.Errorf("ExpectedFailures = %q", got)
	}
	bad := strings.Replace(expectBase, "[AccessDeniedException, dropped]", "[acces-denied, AccessDeniedException, AccessDeniedException]", 1)
	_, err = scenario.Parse("t.yaml", []byte(bad))
	var es scenario.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("Parse = %v; want 2 problems", err)
	}
	if got, want := es[0].Error(), `t.yaml:7:82: workloads.b.expected_failures[0]: "acces-denied" is neither a failure class`; !strings.HasPrefix(got, want) ||
		!strings.HasSuffix(got, `did you mean "access-denied"?`) {
		t.Errorf("problem %q; want %q... did you mean", got, want)
	}
	if got, want := es[1].Error(), `t.yaml:7:119: workloads.b.expected_failures[2]: "AccessDeniedException" is listed twice`; got != want {
		t.Errorf("problem %q; want %q", got, want)
	}
}

func TestExpectations(t *testing.T) {
	file := expectBase + `events:
  - {at: 2s, action: disable-key, key: k}
  - {at: 3s, action: enable-key, key: k}
  - {at: 4s, action: put-key-policy, key: k, allow_accounts: []}
  - {at: 5s, action: schedule-deletion, key: k}
`
	s, err := scenario.Parse("t.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	got := s.Expectations(s.Workloads[0]) // the owner: the policy never shuts it out
	want := []failure.Expectation{
		{Match: "DisabledException", FromS: 2, Reason: "disable-key of k at 2s"},
		{Match: "KMSInvalidStateException", FromS: 5, Reason: "schedule-deletion of k at 5s"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expectations(a) = %+v; want %+v", got, want)
	}
	got = s.Expectations(s.Workloads[1])
	want = []failure.Expectation{
		{Match: "AccessDeniedException", Reason: scenario.ReasonExpectedFailures},
		{Match: "dropped", Reason: scenario.ReasonExpectedFailures},
		{Match: "DisabledException", FromS: 2, Reason: "disable-key of k at 2s"},
		{Match: "AccessDeniedException", FromS: 4, Reason: "put-key-policy of k at 4s"},
		{Match: "KMSInvalidStateException", FromS: 5, Reason: "schedule-deletion of k at 5s"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expectations(b) = %+v; want %+v", got, want)
	}
}

// TestSchemaFailureClasses: the JSON Schema lists the failure classes the
// loader accepts.
func TestSchemaFailureClasses(t *testing.T) {
	var schema struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Items struct {
					AnyOf []struct {
						Enum []string `json:"enum"`
					} `json:"anyOf"`
				} `json:"items"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(scenario.Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	for name, def := range schema.Defs {
		p, ok := def.Properties["expected_failures"]
		if !ok {
			continue
		}
		if len(p.Items.AnyOf) == 0 || !slices.Equal(p.Items.AnyOf[0].Enum, failure.ClassNames()) {
			t.Errorf("schema %s.expected_failures classes %v; want %v", name, p.Items.AnyOf, failure.ClassNames())
		}
		return
	}
	t.Error("the schema has no expected_failures")
}
