package report

import "time"

// StopAgentLost is the StopReason of a distributed run in which an agent
// went silent or failed: the results lack that agent's share of the
// seconds its ClusterAgent entry names.
const StopAgentLost = "agent-lost"

// Cluster describes a distributed run (`kmsload run --agents N`): one
// entry per agent.
type Cluster struct {
	// StartedAt is the common start time, on the coordinator's clock.
	StartedAt time.Time      `json:"started_at"`
	Agents    []ClusterAgent `json:"agents"`
}

// ClusterAgent is one agent of a distributed run.
type ClusterAgent struct {
	Name string `json:"name"`
	// Index is the agent's share: it sent share Index+1 of len(Agents)
	// of every workload.
	Index int `json:"index"`
	// ClockOffsetMs is the agent's clock minus the coordinator's, and
	// RTTMs the round trip of the probe it was measured with (the offset
	// is known to within half of it).
	ClockOffsetMs float64 `json:"clock_offset_ms"`
	RTTMs         float64 `json:"rtt_ms"`
	// StartLagMs is how late the agent started its window after the
	// common start, on the coordinator's clock.
	StartLagMs float64 `json:"start_lag_ms"`
	// Snapshots counts the snapshots merged, Duplicates those dropped as
	// already merged, Rerequested those asked for again.
	// Resent counts the snapshots the agent published again, by the
	// final snapshot.
	Snapshots   int  `json:"snapshots"`
	Duplicates  int  `json:"duplicates"`
	Rerequested int  `json:"rerequested"`
	Resent      int  `json:"resent"`
	Lost        bool `json:"lost,omitempty"`
	Partial     bool `json:"partial,omitempty"`
	// Error is why the agent could not run.
	Error string `json:"error,omitempty"`
	// MissingFromS and MissingToS bound the seconds of the window for
	// which a lost agent's data is missing or incomplete.
	MissingFromS int `json:"missing_from_s,omitempty"`
	MissingToS   int `json:"missing_to_s,omitempty"`
	// MissingWindow names the measured window those seconds belong to
	// in a run with isolated windows ("isolated:NAME", "combined"); the
	// windows after it lack the agent's share entirely.
	MissingWindow string `json:"missing_window,omitempty"`
}
