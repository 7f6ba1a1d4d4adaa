package sim_test

import (
	"strings"
	"testing"

	"github.com/kmsload/kmsload/scenario"
)

// parse loads a scenario from YAML, adding the accounts a and b and the
// name, region and duration when missing.
func parse(tb testing.TB, body string) *scenario.Scenario {
	tb.Helper()
	head := "name: t\nregion: us-east-1\naccounts: {a: \"111111111111\", b: \"222222222222\"}\n"
	if !strings.Contains(body, "duration:") {
		head += "duration: 4s\n"
	}
	s, err := scenario.Parse("t.yaml", []byte(head+body))
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return s
}
