package cluster

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// Kind names a message type.
type Kind string

// Message kinds. Agents publish heartbeats, pongs and snapshots on the
// agents topic; the coordinator publishes the rest on the control topic.
const (
	KindHeartbeat Kind = "heartbeat" // agent: state, run, last snapshot sequence number
	KindPing      Kind = "ping"      // coordinator: clock-offset probe
	KindPong      Kind = "pong"      // agent: answer to a ping
	KindPlan      Kind = "plan"      // coordinator: what to run, and the agents' shares
	KindStart     Kind = "start"     // coordinator: the common start time
	KindSnapshot  Kind = "snapshot"  // agent: one interval of observations
	KindAck       Kind = "ack"       // coordinator: snapshots received up to a sequence number
	KindRerequest Kind = "rerequest" // coordinator: send these snapshots again
	KindEnd       Kind = "end"       // coordinator: the run is over; agents drop its snapshots
)

// Agent states, as heartbeats report them.
const (
	StateIdle         = "idle"         // waiting for a plan
	StateProvisioning = "provisioning" // accepted a plan, preparing keys and pools
	StateReady        = "ready"        // prepared, waiting for the start message
	StateRunning      = "running"      // measuring
	StateFinished     = "finished"     // measured; keeps its snapshots until the run ends
)

// Message is the envelope of everything sent over NSQ, as JSON. From is
// the sending agent ("" from the coordinator), To the addressed agent (""
// for all), Run the run it belongs to; exactly one of the payload fields
// matching Kind is set.
type Message struct {
	Kind      Kind       `json:"kind"`
	Run       string     `json:"run,omitempty"`
	From      string     `json:"from,omitempty"`
	To        string     `json:"to,omitempty"`
	Heartbeat *Heartbeat `json:"heartbeat,omitempty"`
	Ping      *Ping      `json:"ping,omitempty"`
	Pong      *Pong      `json:"pong,omitempty"`
	Plan      *Plan      `json:"plan,omitempty"`
	Start     *Start     `json:"start,omitempty"`
	Snapshot  *Snapshot  `json:"snapshot,omitempty"`
	Ack       *Ack       `json:"ack,omitempty"`
	Rerequest *Rerequest `json:"rerequest,omitempty"`

	received time.Time // local receive time, set by the bus
}

// Heartbeat is an agent's periodic sign of life.
type Heartbeat struct {
	State string `json:"state"`
	// LastSeq is the sequence number of the last snapshot taken in Run
	// (0: none), so the coordinator sees missing snapshots at the tail.
	LastSeq int64 `json:"last_seq"`
	// Window is the measured window (0-based, see Plan.Isolate) the
	// agent is ready for or measuring.
	Window int `json:"window,omitempty"`
	// Error says why the agent could not run a plan.
	Error string `json:"error,omitempty"`
}

// Ping asks an agent for its clock (NTP-style: T0 is the coordinator's
// send time).
type Ping struct {
	ID int       `json:"id"`
	T0 time.Time `json:"t0"`
}

// Pong answers a ping: T1 when the agent received it, T2 when it sent the
// answer, both on the agent's clock.
type Pong struct {
	ID int       `json:"id"`
	T0 time.Time `json:"t0"`
	T1 time.Time `json:"t1"`
	T2 time.Time `json:"t2"`
}

// Plan tells the agents what to run. Agents[i] sends share i of
// len(Agents) of every workload (traffic.Share).
type Plan struct {
	Agents       []string `json:"agents"`
	ScenarioFile string   `json:"scenario_file"`
	Scenario     []byte   `json:"scenario"` // the scenario file's bytes
	// Files are the files the scenario names (its trace), by the name it
	// gives them, so that agents need no copy of their own.
	Files        map[string][]byte `json:"files,omitempty"`
	Duration     time.Duration     `json:"duration,omitempty"`
	Scale        float64           `json:"scale,omitempty"`
	Seed         int64             `json:"seed,omitempty"`
	JitterSeed   int64             `json:"jitter_seed,omitempty"` // driver.Options.JitterSeed
	Retry        string            `json:"retry,omitempty"`
	DrainTimeout time.Duration     `json:"drain_timeout,omitempty"`
	// Isolate measures each workload alone, then all together, as
	// `kmsload run --isolate` does: one measured window per workload in
	// the scenario's order, then the combined window, each started at
	// its own common start time.
	Isolate bool `json:"isolate,omitempty"`
	// Target says where each agent sends its requests.
	Target Target `json:"target"`
}

// Target is where an agent's requests go: Kind "embedded" (each agent its
// own in-process emulator, quotas divided among the agents), "endpoint"
// (one KMS endpoint all agents share) or "aws".
type Target struct {
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint,omitempty"`
	// Quotas, QuotaAlgorithm and Latency configure an embedded target as
	// `kmsload run`'s flags of the same names do.
	Quotas         string `json:"quotas,omitempty"`
	QuotaAlgorithm string `json:"quota_algorithm,omitempty"`
	Latency        string `json:"latency,omitempty"`
}

// Index returns the share index of agent in the plan, or -1.
func (p *Plan) Index(agent string) int {
	for i, a := range p.Agents {
		if a == agent {
			return i
		}
	}
	return -1
}

// Start gives the common start time of measured window Window (0-based)
// on the coordinator's clock, and each agent's clock offset (agent clock
// - coordinator clock): agent a starts when its clock reads At +
// Offsets[a].
type Start struct {
	At      time.Time                `json:"at"`
	Offsets map[string]time.Duration `json:"offsets"`
	Window  int                      `json:"window,omitempty"`
}

// Snapshot is one interval of an agent's observations in one measured
// window. Seq counts from 1 within a run, across its windows; the Final
// snapshot is the last, taken after the agent's driver returned, and
// carries the agent's view of its run.
type Snapshot struct {
	Seq   int64 `json:"seq"`
	Final bool  `json:"final,omitempty"`
	// Window is the measured window (0-based) and WindowName its name
	// ("combined", "isolated:NAME").
	Window     int             `json:"window,omitempty"`
	WindowName string          `json:"window_name,omitempty"`
	Interval   record.Snapshot `json:"interval"`
	// Set in the final snapshot only.
	Meta *FinalMeta `json:"meta,omitempty"`
}

// FinalMeta is an agent's view of its finished run.
type FinalMeta struct {
	StartedAt  time.Time         `json:"started_at"` // agent clock
	DurationS  float64           `json:"duration_s"`
	Partial    bool              `json:"partial,omitempty"`
	StopReason string            `json:"stop_reason,omitempty"`
	StopDetail string            `json:"stop_detail,omitempty"`
	Error      string            `json:"error,omitempty"`
	Target     report.TargetInfo `json:"target"`
	Events     []report.Event    `json:"events,omitempty"`
	// Resent counts snapshots the agent published again (not
	// acknowledged in time, asked for again, or failed to publish).
	Resent int `json:"resent,omitempty"`
}

// Ack tells an agent that every snapshot up to Upto arrived.
type Ack struct {
	Upto int64 `json:"upto"`
}

// Rerequest asks an agent to send snapshots again.
type Rerequest struct {
	Seqs []int64 `json:"seqs"`
}

// Encode returns m as JSON.
func (m *Message) Encode() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cluster: encode %s: %w", m.Kind, err)
	}
	return b, nil
}

// Decode parses a message encoded by Encode.
func Decode(b []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cluster: decode message: %w", err)
	}
	if m.Kind == "" {
		return nil, fmt.Errorf("cluster: decode message: %w", ErrNoKind)
	}
	return &m, nil
}

// ParseScenario parses the plan's scenario with the files it carries.
func (p Plan) ParseScenario() (*scenario.Scenario, error) {
	if len(p.Files) == 0 {
		return scenario.Parse(p.ScenarioFile, p.Scenario)
	}
	return scenario.ParseFiles(p.ScenarioFile, p.Scenario, p.Files)
}
