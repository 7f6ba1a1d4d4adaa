package cluster_test

import (
	"testing"

	"github.com/kmsload/kmsload/cluster"
)

// TestPlanCarriesTrace: a plan carries the trace its scenario replays, so
// an agent without the file parses the same scenario.
func TestPlanCarriesTrace(t *testing.T) {
	p := cluster.Plan{ScenarioFile: "replay.yaml", Scenario: []byte(`name: replay
accounts: {a: "111111111111"}
keys: {k: {account: a}}
trace: replay.trace
workloads:
  w: {caller: a, key: k, operation: Encrypt, arrival: trace}
`), Files: map[string][]byte{"replay.trace": []byte("kmsload-trace 1\nseries w 3 4 5\n")}}
	s, err := p.ParseScenario()
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Workloads[0]; w.Series == nil || w.Series.Total() != 12 {
		t.Errorf("series %+v; want the trace's 12 requests", w.Series)
	}
	p.Files = nil
	if _, err := p.ParseScenario(); err == nil {
		t.Error("a plan without its trace parsed")
	}
}
