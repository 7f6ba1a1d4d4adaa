package scenario_test

import (
	"testing"

	"github.com/kmsload/kmsload/scenario"
)

func TestPos(t *testing.T) {
	const src = `name: pos
accounts: {prod: "111111111111", app: "222222222222"}
keys:
  k: {account: prod, allow_accounts: [app]}
workloads:
  w:
    caller: app
    key: k
    operation: Decrypt
    arrival: phases
    phases: [{duration: 1s, to: 10/s}, {duration: 1s, rate: 20/s}]
events:
  - {at: 50s, action: disable-key, key: k}
  - {at: 10s, action: enable-key, key: k}
`
	s, err := scenario.Parse("pos.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tests := []struct {
		path      string
		line, col int
	}{
		{"workloads.w.caller", 7, 13},
		{"workloads.w", 6, 3},
		{"keys.k.allow_accounts[0]", 4, 39},
		{"workloads.w.phases[1].rate", 11, 61},
		{"workloads.w.rate", 6, 3},                   // not written: the workload
		{"workloads.w.data_key_cache.max_age", 6, 3}, // nor any part of it
		{"events[0].at", 13, 10},                     // file order, not s.Events order
		{"nowhere.at.all", 1, 1},
	}
	for _, tt := range tests {
		got := s.Pos(tt.path)
		want := scenario.Position{File: "pos.yaml", Line: tt.line, Col: tt.col}
		if got != want {
			t.Errorf("Pos(%q) = %v; want %v", tt.path, got, want)
		}
	}
	if got, want := s.Pos("workloads.w.caller").String(), "pos.yaml:7:13"; got != want {
		t.Errorf("Pos(workloads.w.caller).String() = %q; want %q", got, want)
	}
	built := scenario.NewScenario()
	built.File = "code.yaml"
	if got, want := built.Pos("workloads.w.caller"), (scenario.Position{File: "code.yaml"}); got != want {
		t.Errorf("Pos on a scenario built in code = %v; want %v", got, want)
	}
}

func TestPositionString(t *testing.T) {
	tests := []struct {
		p    scenario.Position
		want string
	}{
		{scenario.Position{File: "a.yaml", Line: 3, Col: 7}, "a.yaml:3:7"},
		{scenario.Position{Line: 3, Col: 7}, "3:7"},
		{scenario.Position{File: "a.yaml"}, "a.yaml"},
		{scenario.Position{}, ""},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q; want %q", tt.p, got, tt.want)
		}
	}
}
