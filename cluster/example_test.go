package cluster_test

import (
	"fmt"

	"github.com/kmsload/kmsload/cluster"
)

// A plan names its agents in share order; agent "b" sends share 2 of 3 of
// every workload.
func ExamplePlan_Index() {
	p := cluster.Plan{Agents: []string{"a", "b", "c"}}
	fmt.Println(p.Index("b"), p.Index("z"))
	// Output: 1 -1
}

// Messages travel as JSON envelopes.
func ExampleDecode() {
	m := &cluster.Message{Kind: cluster.KindHeartbeat, From: "agent-1", Heartbeat: &cluster.Heartbeat{State: cluster.StateIdle}}
	b, _ := m.Encode()
	back, err := cluster.Decode(b)
	fmt.Println(string(b))
	fmt.Println(back.From, back.Heartbeat.State, err)
	// Output:
	// {"kind":"heartbeat","from":"agent-1","heartbeat":{"state":"idle","last_seq":0}}
	// agent-1 idle <nil>
}
