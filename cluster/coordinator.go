package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// Coordinator defaults.
const (
	DefaultWaitAgents     = time.Minute
	DefaultProvision      = 2 * time.Minute
	DefaultSilenceTimeout = 10 * time.Second
	DefaultStartLead      = time.Second
	DefaultPings          = 5
)

// CoordinatorOptions configure a Coordinator.
type CoordinatorOptions struct {
	// Conn says how to reach nsqd.
	Conn Conn
	// Agents is how many agents the run needs.
	Agents int
	// WaitAgents bounds the wait for Agents idle agents; Provision the
	// wait for them to accept the plan and prepare; SilenceTimeout is how
	// long an agent may say nothing, after the window ended, before it is
	// declared lost; StartLead is how far ahead of sending it the start
	// time lies. 0 = the Default* values.
	WaitAgents, Provision, SilenceTimeout, StartLead time.Duration
	// Pings is how many clock probes each agent answers; 0 = DefaultPings.
	Pings int
	// Logf receives progress lines; nil = silent.
	Logf func(format string, args ...any)
}

// Coordinator runs a scenario on several agents and merges their results.
type Coordinator struct {
	opts CoordinatorOptions
	logf func(string, ...any)
}

// NewCoordinator checks opts. It connects nothing.
func NewCoordinator(opts CoordinatorOptions) (*Coordinator, error) {
	if opts.Conn.NSQD == "" {
		return nil, fmt.Errorf("%w: no nsqd address", ErrBadOptions)
	}
	if opts.Agents < 1 {
		return nil, fmt.Errorf("%w: %d agents", ErrBadOptions, opts.Agents)
	}
	c := &Coordinator{opts: opts, logf: opts.Logf}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	c.opts.WaitAgents = orDefault(opts.WaitAgents, DefaultWaitAgents)
	c.opts.Provision = orDefault(opts.Provision, DefaultProvision)
	c.opts.SilenceTimeout = orDefault(opts.SilenceTimeout, DefaultSilenceTimeout)
	c.opts.StartLead = orDefault(opts.StartLead, DefaultStartLead)
	if c.opts.Pings <= 0 {
		c.opts.Pings = DefaultPings
	}
	return c, nil
}

// Spec is what to run: the plan without its agents, plus what the
// coordinator needs to build the results.
type Spec struct {
	Plan Plan
	// ScenarioInfo is copied into the results.
	ScenarioInfo report.ScenarioInfo
	// QuotaPerS gives each bucket's quota for the bucket table; nil = 0.
	QuotaPerS func(bucket string) float64
}

// Result is a merged run.
type Result struct {
	// Results is the merged result model (results.json).
	Results *report.Results
	// Hlog maps a workload to its merged HdrHistogram interval log.
	Hlog map[string][]byte
	// Merge holds the merged snapshots, per agent as well
	// (Merge.SourceWorkloads).
	Merge *report.Merge
}

// agentTrack is what the coordinator knows of one agent.
type agentTrack struct {
	name      string
	index     int
	lastSeen  time.Time
	state     string
	run       string
	lastSeq   int64
	window    int // the window the agent is ready for or measuring
	err       string
	offset    time.Duration
	rtt       time.Duration
	pongs     int
	got       map[int64]bool
	through   map[int64]int // seq -> Snapshot.Through
	windowOf  map[int64]int // seq -> Snapshot.Window
	final     int64         // seq of the final snapshot, 0 until seen
	meta      *FinalMeta
	acked     int64
	dups      int
	rereq     int
	lastRereq time.Time
	lost      bool
}

// complete reports whether every snapshot up to the final one arrived.
func (t *agentTrack) complete() bool {
	return t.final > 0 && int64(len(t.got)) == t.final
}

// contiguous returns the highest n with snapshots 1..n all received.
func (t *agentTrack) contiguous() int64 {
	n := int64(0)
	for t.got[n+1] {
		n++
	}
	return n
}

// NewRunID returns a random run id.
func NewRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Run waits for the agents, measures their clock offsets, sends the plan
// and the common start time, collects and merges the agents' snapshots
// (dropping duplicates, asking again for missing ones) and returns the
// merged results. An agent that falls silent for SilenceTimeout after the
// window should have ended is declared lost: the results are then partial
// (stop reason "agent-lost"), naming the agent and the seconds missing.
// Run returns an error when the run could not start (too few agents,
// agents not preparing in time) or ctx ended before it started.
func (c *Coordinator) Run(ctx context.Context, spec Spec) (*Result, error) {
	run := NewRunID()
	b, err := dial(ctx, c.opts.Conn, c.opts.Conn.topic("control"), c.opts.Conn.topic("agents"), channelName("coordinator-"+run), c.logf)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	send := func(m *Message) {
		m.Run = run
		if err := b.publishTimeout(ctx, 2*time.Second, m); err != nil {
			c.logf("coordinator: %v", err)
		}
	}
	tracks := map[string]*agentTrack{}
	track := func(name string) *agentTrack {
		t := tracks[name]
		if t == nil {
			t = &agentTrack{name: name, index: -1, got: map[int64]bool{}, through: map[int64]int{}, windowOf: map[int64]int{}}
			tracks[name] = t
		}
		return t
	}
	// One merge per measured window: with Plan.Isolate, one per workload
	// in the scenario's order, then the combined window (the last).
	windows := 1
	if spec.Plan.Isolate {
		sc, err := scenario.Parse(spec.Plan.ScenarioFile, spec.Plan.Scenario)
		if err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		windows += len(sc.Workloads)
	}
	merges := make([]*report.Merge, windows)
	winNames := make([]string, windows)
	for i := range merges {
		merges[i] = report.NewMerge()
	}
	var chosen []*agentTrack

	// handle updates the tracks with one message; snapshots of this run
	// are merged once each.
	handle := func(m *Message) {
		if m.From == "" {
			return
		}
		t := track(m.From)
		t.lastSeen = time.Now()
		switch m.Kind {
		case KindHeartbeat:
			if m.Heartbeat != nil {
				t.state, t.run, t.err, t.window = m.Heartbeat.State, m.Run, m.Heartbeat.Error, m.Heartbeat.Window
				if m.Run == run && m.Heartbeat.LastSeq > t.lastSeq {
					t.lastSeq = m.Heartbeat.LastSeq
				}
			}
		case KindPong:
			if m.Pong == nil || m.Run != run {
				return
			}
			p := m.Pong
			rtt := m.received.Sub(p.T0) - p.T2.Sub(p.T1)
			off := (p.T1.Sub(p.T0) + p.T2.Sub(m.received)) / 2
			if t.pongs == 0 || rtt < t.rtt {
				t.rtt, t.offset = rtt, off
			}
			t.pongs++
		case KindSnapshot:
			s := m.Snapshot
			if s == nil || m.Run != run || t.index < 0 {
				return
			}
			if t.got[s.Seq] {
				t.dups++
				return
			}
			if s.Window < 0 || s.Window >= windows {
				c.logf("coordinator: agent %s snapshot %d: window %d of %d", t.name, s.Seq, s.Window, windows)
				return
			}
			if err := merges[s.Window].Add(t.name, s.Interval); err != nil {
				c.logf("coordinator: agent %s snapshot %d: %v", t.name, s.Seq, err)
				return
			}
			if s.WindowName != "" {
				winNames[s.Window] = s.WindowName
			}
			t.got[s.Seq] = true
			t.through[s.Seq] = s.Interval.Through
			t.windowOf[s.Seq] = s.Window
			if s.Seq > t.lastSeq {
				t.lastSeq = s.Seq
			}
			if s.Final {
				t.final, t.meta = s.Seq, s.Meta
			}
			if n := t.contiguous(); n > t.acked {
				t.acked = n
				send(&Message{Kind: KindAck, To: t.name, Ack: &Ack{Upto: n}})
			}
		}
	}
	// wait runs handle on incoming messages until cond holds, calling
	// tick every tickEvery, or fails after timeout.
	wait := func(what string, timeout, tickEvery time.Duration, cond func() bool, tick func()) error {
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		tk := time.NewTicker(tickEvery)
		defer tk.Stop()
		for !cond() {
			select {
			case <-ctx.Done():
				return fmt.Errorf("cluster: %s: %w", what, context.Cause(ctx))
			case <-deadline.C:
				return fmt.Errorf("cluster: %s: timed out after %v", what, timeout)
			case m := <-b.inbox:
				handle(m)
			case <-tk.C:
				if tick != nil {
					tick()
				}
			}
		}
		return nil
	}
	fresh := func(t *agentTrack) bool { return time.Since(t.lastSeen) < 3*DefaultHeartbeatInterval+time.Second }

	// 1. Agents.
	n := c.opts.Agents
	c.logf("coordinator: run %s: waiting for %d agents on %s", run, n, c.opts.Conn.NSQD)
	idle := func() []*agentTrack {
		var out []*agentTrack
		for _, t := range tracks {
			if t.state == StateIdle && fresh(t) {
				out = append(out, t)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out
	}
	if err := wait("waiting for agents", c.opts.WaitAgents, 200*time.Millisecond, func() bool { return len(idle()) >= n }, nil); err != nil {
		return nil, fmt.Errorf("%w: %d of %d idle: %w", ErrNoAgents, len(idle()), n, err)
	}
	chosen = idle()[:n]
	plan := spec.Plan
	plan.Agents = nil
	for i, t := range chosen {
		t.index = i
		plan.Agents = append(plan.Agents, t.name)
	}
	c.logf("coordinator: run %s: agents %s", run, strings.Join(plan.Agents, ", "))

	// 2. Clock offsets. Probes go to every agent at once, one per tick,
	// until each agent answered Pings of them: an agent that finds nsqd
	// through nsqlookupd subscribes to the control topic only once the
	// first probe has created it, and misses the probes before. After
	// maxPings probes, one answer per agent is enough.
	pinged := 0
	maxPings := 20 * c.opts.Pings
	pingAll := func() {
		for _, t := range chosen {
			if t.pongs < c.opts.Pings && pinged < maxPings {
				pinged++
				send(&Message{Kind: KindPing, Ping: &Ping{ID: pinged, T0: time.Now()}})
				return
			}
		}
	}
	allPonged := func() bool {
		for _, t := range chosen {
			if t.pongs < c.opts.Pings && (pinged < maxPings || t.pongs == 0) {
				return false
			}
		}
		return true
	}
	if err := wait("clock offsets", c.opts.WaitAgents, 50*time.Millisecond, allPonged, pingAll); err != nil {
		return nil, fmt.Errorf("%w: %w (agents without an answer: %s)", ErrNoAgents, err, names(chosen, func(t *agentTrack) bool { return t.pongs == 0 }))
	}
	for _, t := range chosen {
		c.logf("coordinator: agent %s: clock offset %v (round trip %v)", t.name, t.offset.Round(time.Microsecond), t.rtt.Round(time.Microsecond))
	}

	// 3. Plan, until every agent is ready.
	planMsg := &Message{Kind: KindPlan, Plan: &plan}
	send(planMsg)
	ready := func() bool {
		for _, t := range chosen {
			if t.run != run || t.state != StateReady || t.window != 0 {
				return false
			}
		}
		return true
	}
	failed := func() string {
		for _, t := range chosen {
			if t.run == run && t.err != "" {
				return t.name + ": " + t.err
			}
		}
		return ""
	}
	err = wait("agents preparing", c.opts.Provision, time.Second, func() bool { return ready() || failed() != "" }, func() {
		for _, t := range chosen {
			if t.run != run {
				send(planMsg)
				return
			}
		}
	})
	if err == nil && failed() != "" {
		err = fmt.Errorf("cluster: agent %s", failed())
	}
	if err != nil {
		send(&Message{Kind: KindEnd})
		return nil, fmt.Errorf("%w (not ready: %s)", err, names(chosen, func(t *agentTrack) bool { return t.run != run || t.state != StateReady }))
	}

	// 4. Start each window when every agent still running is ready for
	// it, and collect until every agent is complete or lost.
	dur := plan.Duration
	var starts []*Start
	var windowEnd time.Time
	startWindow := func(k int) {
		st := &Start{At: time.Now().Add(c.opts.StartLead), Offsets: map[string]time.Duration{}, Window: k}
		for _, t := range chosen {
			st.Offsets[t.name] = t.offset
		}
		starts = append(starts, st)
		windowEnd = st.At.Add(dur).Add(plan.DrainTimeout)
		send(&Message{Kind: KindStart, Start: st})
		c.logf("coordinator: run %s: window %d of %d: start at %s", run, k+1, windows, st.At.Format(time.RFC3339Nano))
	}
	startWindow(0)
	settled := func() bool {
		for _, t := range chosen {
			if !t.complete() && !t.lost {
				return false
			}
		}
		return true
	}
	tick := func() {
		now := time.Now()
		cur := len(starts) - 1
		if cur+1 < windows {
			next, waiting := true, 0
			for _, t := range chosen {
				if t.complete() || t.lost {
					continue
				}
				waiting++
				if t.run != run || t.state != StateReady || t.window != cur+1 {
					next = false
				}
			}
			if next && waiting > 0 {
				startWindow(cur + 1)
				cur++
			}
		}
		for _, t := range chosen {
			if t.complete() || t.lost {
				continue
			}
			if t.run == run && t.state == StateReady && t.window == cur {
				send(&Message{Kind: KindStart, Start: starts[cur]}) // lost on the way
			}
			// Missing snapshots: below the highest known sequence number.
			var missing []int64
			for s := int64(1); s <= max(t.lastSeq, t.final); s++ {
				if !t.got[s] {
					missing = append(missing, s)
				}
			}
			if len(missing) > 0 && now.Sub(t.lastRereq) >= time.Second {
				t.rereq += len(missing)
				t.lastRereq = now
				send(&Message{Kind: KindRerequest, To: t.name, Rerequest: &Rerequest{Seqs: missing}})
			}
			if now.After(windowEnd) && now.Sub(t.lastSeen) > c.opts.SilenceTimeout {
				t.lost = true
				c.logf("coordinator: agent %s silent for %v: lost", t.name, now.Sub(t.lastSeen).Round(time.Second))
			}
		}
	}
	// Each window lasts its lead, duration and drain; between windows the
	// agents restore keys and warm up (bounded like provisioning).
	perWindow := c.opts.StartLead + dur + plan.DrainTimeout
	hardEnd := time.Now().Add(time.Duration(windows)*perWindow + time.Duration(windows-1)*c.opts.Provision + c.opts.SilenceTimeout + 30*time.Second)
	err = wait("collecting", time.Until(hardEnd), 250*time.Millisecond, settled, tick)
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	for _, t := range chosen {
		if !t.complete() {
			t.lost = true
		}
	}
	send(&Message{Kind: KindEnd})
	return assembleResults(collected{spec: spec, plan: plan, starts: starts, agents: chosen, merges: merges, windowNames: winNames})
}

func names(ts []*agentTrack, f func(*agentTrack) bool) string {
	var out []string
	for _, t := range ts {
		if f(t) {
			out = append(out, t.name)
		}
	}
	return strings.Join(out, ", ")
}
