package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
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
	Merge *record.Merge
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
	id := NewRunID()
	b, err := dial(ctx, c.opts.Conn, c.opts.Conn.topic("control"), c.opts.Conn.topic("agents"), channelName("coordinator-"+id), c.logf)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	r, err := c.newRun(id, b, spec.Plan)
	if err != nil {
		return nil, err
	}
	if err := r.chooseAgents(ctx, spec.Plan); err != nil {
		return nil, err
	}
	if err := r.measureOffsets(ctx); err != nil {
		return nil, err
	}
	if err := r.provision(ctx); err != nil {
		return nil, err
	}
	if err := r.collect(ctx); err != nil {
		return nil, err
	}
	r.send(ctx, &Message{Kind: KindEnd})
	return assembleResults(collected{spec: spec, plan: r.plan, starts: r.starts, agents: r.chosen, merges: r.merges, windowNames: r.winNames})
}

// coordRun is one run of a Coordinator: its bus, what it knows of every
// agent that spoke, and what it has started and merged. Only the goroutine
// of Run uses it.
type coordRun struct {
	c      *Coordinator
	id     string
	b      *bus
	tracks map[string]*agentTrack
	// windows is the number of measured windows: with Plan.Isolate, one
	// per workload in the scenario's order, then the combined window (the
	// last). merges and winNames hold each window's merge and name.
	windows  int
	merges   []*record.Merge
	winNames []string
	// chosen are the agents of the run, in share order; plan is the plan
	// they were sent, naming them.
	chosen []*agentTrack
	plan   Plan
	// starts holds the start of each window started; windowEnd is when
	// the last one should have ended, drain included.
	starts    []*Start
	windowEnd time.Time
}

// newRun returns run id of c on bus b, with one merge per measured window
// of plan.
func (c *Coordinator) newRun(id string, b *bus, plan Plan) (*coordRun, error) {
	r := &coordRun{c: c, id: id, b: b, tracks: map[string]*agentTrack{}, windows: 1}
	if plan.Isolate {
		sc, err := plan.ParseScenario()
		if err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		r.windows += len(sc.Workloads)
	}
	r.merges = make([]*record.Merge, r.windows)
	r.winNames = make([]string, r.windows)
	for i := range r.merges {
		r.merges[i] = record.NewMerge()
	}
	return r, nil
}

// send publishes m for the run, logging a failure.
func (r *coordRun) send(ctx context.Context, m *Message) {
	m.Run = r.id
	if err := r.b.publishTimeout(ctx, 2*time.Second, m); err != nil {
		r.c.logf("coordinator: %v", err)
	}
}

// track returns what is known of agent name, creating its track.
func (r *coordRun) track(name string) *agentTrack {
	t := r.tracks[name]
	if t == nil {
		t = &agentTrack{name: name, index: -1, got: map[int64]bool{}, through: map[int64]int{}, windowOf: map[int64]int{}}
		r.tracks[name] = t
	}
	return t
}

// wait handles incoming messages until cond holds, calling tick (when not
// nil) every tickEvery; it fails when ctx ends or after timeout.
func (r *coordRun) wait(ctx context.Context, what string, timeout, tickEvery time.Duration, cond func() bool, tick func()) error {
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
		case m := <-r.b.inbox:
			r.handle(ctx, m)
		case <-tk.C:
			if tick != nil {
				tick()
			}
		}
	}
	return nil
}

// handle updates the tracks with one message from an agent.
func (r *coordRun) handle(ctx context.Context, m *Message) {
	if m.From == "" {
		return
	}
	t := r.track(m.From)
	t.lastSeen = time.Now()
	switch m.Kind {
	case KindHeartbeat:
		r.handleHeartbeat(t, m)
	case KindPong:
		r.handlePong(t, m)
	case KindSnapshot:
		r.handleSnapshot(ctx, t, m)
	}
}

// handleHeartbeat notes agent t's state, run, window and error, and for
// this run its last snapshot's sequence number.
func (r *coordRun) handleHeartbeat(t *agentTrack, m *Message) {
	if m.Heartbeat == nil {
		return
	}
	t.state, t.run, t.err, t.window = m.Heartbeat.State, m.Run, m.Heartbeat.Error, m.Heartbeat.Window
	if m.Run == r.id && m.Heartbeat.LastSeq > t.lastSeq {
		t.lastSeq = m.Heartbeat.LastSeq
	}
}

// handlePong keeps agent t's clock offset measured with the shortest
// round trip so far.
func (r *coordRun) handlePong(t *agentTrack, m *Message) {
	if m.Pong == nil || m.Run != r.id {
		return
	}
	p := m.Pong
	rtt := m.received.Sub(p.T0) - p.T2.Sub(p.T1)
	off := (p.T1.Sub(p.T0) + p.T2.Sub(m.received)) / 2
	if t.pongs == 0 || rtt < t.rtt {
		t.rtt, t.offset = rtt, off
	}
	t.pongs++
}

// handleSnapshot merges a snapshot of this run from chosen agent t once,
// counting duplicates, and acknowledges every snapshot up to the highest
// contiguous one.
func (r *coordRun) handleSnapshot(ctx context.Context, t *agentTrack, m *Message) {
	s := m.Snapshot
	if s == nil || m.Run != r.id || t.index < 0 {
		return
	}
	if t.got[s.Seq] {
		t.dups++
		return
	}
	if s.Window < 0 || s.Window >= r.windows {
		r.c.logf("coordinator: agent %s snapshot %d: window %d of %d", t.name, s.Seq, s.Window, r.windows)
		return
	}
	if err := r.merges[s.Window].Add(t.name, s.Interval); err != nil {
		r.c.logf("coordinator: agent %s snapshot %d: %v", t.name, s.Seq, err)
		return
	}
	if s.WindowName != "" {
		r.winNames[s.Window] = s.WindowName
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
		r.send(ctx, &Message{Kind: KindAck, To: t.name, Ack: &Ack{Upto: n}})
	}
}

// fresh reports whether agent t sent a heartbeat or anything else lately.
func (t *agentTrack) fresh() bool {
	return time.Since(t.lastSeen) < 3*DefaultHeartbeatInterval+time.Second
}

// idle returns the idle agents heard from lately, sorted by name.
func (r *coordRun) idle() []*agentTrack {
	var out []*agentTrack
	for _, t := range r.tracks {
		if t.state == StateIdle && t.fresh() {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// chooseAgents waits for enough idle agents, takes the first by name in
// share order and names them in the run's copy of plan.
func (r *coordRun) chooseAgents(ctx context.Context, plan Plan) error {
	n := r.c.opts.Agents
	r.c.logf("coordinator: run %s: waiting for %d agents on %s", r.id, n, r.c.opts.Conn.NSQD)
	if err := r.wait(ctx, "waiting for agents", r.c.opts.WaitAgents, 200*time.Millisecond, func() bool { return len(r.idle()) >= n }, nil); err != nil {
		return fmt.Errorf("%w: %d of %d idle: %w", ErrNoAgents, len(r.idle()), n, err)
	}
	r.chosen = r.idle()[:n]
	r.plan = plan
	r.plan.Agents = nil
	for i, t := range r.chosen {
		t.index = i
		r.plan.Agents = append(r.plan.Agents, t.name)
	}
	r.c.logf("coordinator: run %s: agents %s", r.id, strings.Join(r.plan.Agents, ", "))
	return nil
}

// measureOffsets estimates every chosen agent's clock offset. Probes go
// to every agent at once, one per tick, until each agent answered Pings
// of them: an agent that finds nsqd through nsqlookupd subscribes to the
// control topic only once the first probe has created it, and misses the
// probes before. After maxPings probes, one answer per agent is enough.
func (r *coordRun) measureOffsets(ctx context.Context) error {
	pings := r.c.opts.Pings
	pinged := 0
	maxPings := 20 * pings
	pingAll := func() {
		for _, t := range r.chosen {
			if t.pongs < pings && pinged < maxPings {
				pinged++
				r.send(ctx, &Message{Kind: KindPing, Ping: &Ping{ID: pinged, T0: time.Now()}})
				return
			}
		}
	}
	allPonged := func() bool {
		for _, t := range r.chosen {
			if t.pongs < pings && (pinged < maxPings || t.pongs == 0) {
				return false
			}
		}
		return true
	}
	if err := r.wait(ctx, "clock offsets", r.c.opts.WaitAgents, 50*time.Millisecond, allPonged, pingAll); err != nil {
		return fmt.Errorf("%w: %w (agents without an answer: %s)", ErrNoAgents, err, names(r.chosen, func(t *agentTrack) bool { return t.pongs == 0 }))
	}
	for _, t := range r.chosen {
		r.c.logf("coordinator: agent %s: clock offset %v (round trip %v)", t.name, t.offset.Round(time.Microsecond), t.rtt.Round(time.Microsecond))
	}
	return nil
}

// provision sends the plan, again every second to agents that have not
// taken it, until every chosen agent is ready for the first window. When
// one fails or time runs out, it ends the run and says which agents were
// not ready.
func (r *coordRun) provision(ctx context.Context) error {
	planMsg := &Message{Kind: KindPlan, Plan: &r.plan}
	r.send(ctx, planMsg)
	err := r.wait(ctx, "agents preparing", r.c.opts.Provision, time.Second, func() bool { return r.ready() || r.failed() != "" }, func() {
		for _, t := range r.chosen {
			if t.run != r.id {
				r.send(ctx, planMsg)
				return
			}
		}
	})
	if err == nil && r.failed() != "" {
		err = fmt.Errorf("cluster: agent %s", r.failed())
	}
	if err != nil {
		r.send(ctx, &Message{Kind: KindEnd})
		return fmt.Errorf("%w (not ready: %s)", err, names(r.chosen, func(t *agentTrack) bool { return t.run != r.id || t.state != StateReady }))
	}
	return nil
}

// ready reports whether every chosen agent is ready for the first window.
func (r *coordRun) ready() bool {
	for _, t := range r.chosen {
		if t.run != r.id || t.state != StateReady || t.window != 0 {
			return false
		}
	}
	return true
}

// failed returns "agent: error" for the first chosen agent that could not
// run the plan, or "".
func (r *coordRun) failed() string {
	for _, t := range r.chosen {
		if t.run == r.id && t.err != "" {
			return t.name + ": " + t.err
		}
	}
	return ""
}

// collect starts each window when every agent still running is ready for
// it, and collects until every agent is complete or lost; at the end,
// every agent not complete is lost. It fails only when ctx ended.
func (r *coordRun) collect(ctx context.Context) error {
	r.startWindow(ctx, 0)
	// Each window lasts its lead, duration and drain; between windows the
	// agents restore keys and warm up (bounded like provisioning).
	opts := r.c.opts
	perWindow := opts.StartLead + r.plan.Duration + r.plan.DrainTimeout
	hardEnd := time.Now().Add(time.Duration(r.windows)*perWindow + time.Duration(r.windows-1)*opts.Provision + opts.SilenceTimeout + 30*time.Second)
	err := r.wait(ctx, "collecting", time.Until(hardEnd), 250*time.Millisecond, r.settled, func() { r.collectTick(ctx) })
	if err != nil && ctx.Err() != nil {
		return err
	}
	for _, t := range r.chosen {
		if !t.complete() {
			t.lost = true
		}
	}
	return nil
}

// startWindow sends the common start of window k, StartLead from now,
// with every chosen agent's clock offset.
func (r *coordRun) startWindow(ctx context.Context, k int) {
	st := &Start{At: time.Now().Add(r.c.opts.StartLead), Offsets: map[string]time.Duration{}, Window: k}
	for _, t := range r.chosen {
		st.Offsets[t.name] = t.offset
	}
	r.starts = append(r.starts, st)
	r.windowEnd = st.At.Add(r.plan.Duration).Add(r.plan.DrainTimeout)
	r.send(ctx, &Message{Kind: KindStart, Start: st})
	r.c.logf("coordinator: run %s: window %d of %d: start at %s", r.id, k+1, r.windows, st.At.Format(time.RFC3339Nano))
}

// settled reports whether every chosen agent is complete or lost.
func (r *coordRun) settled() bool {
	for _, t := range r.chosen {
		if !t.complete() && !t.lost {
			return false
		}
	}
	return true
}

// collectTick starts the next window when the agents are ready for it and
// follows up every agent still running.
func (r *coordRun) collectTick(ctx context.Context) {
	now := time.Now()
	cur := r.startNextWindow(ctx)
	for _, t := range r.chosen {
		if t.complete() || t.lost {
			continue
		}
		r.followUp(ctx, t, cur, now)
	}
}

// startNextWindow starts the window after the current one when there is
// one and every agent still running is ready for it, and returns the
// current window.
func (r *coordRun) startNextWindow(ctx context.Context) int {
	cur := len(r.starts) - 1
	if cur+1 >= r.windows {
		return cur
	}
	next, waiting := true, 0
	for _, t := range r.chosen {
		if t.complete() || t.lost {
			continue
		}
		waiting++
		if t.run != r.id || t.state != StateReady || t.window != cur+1 {
			next = false
		}
	}
	if next && waiting > 0 {
		r.startWindow(ctx, cur+1)
		cur++
	}
	return cur
}

// followUp sends agent t again the start of window cur when it still
// waits for it, asks it again (at most once a second) for the snapshots
// missing below the highest sequence number known, and declares it lost
// when it has been silent for SilenceTimeout after the window should have
// ended.
func (r *coordRun) followUp(ctx context.Context, t *agentTrack, cur int, now time.Time) {
	if t.run == r.id && t.state == StateReady && t.window == cur {
		r.send(ctx, &Message{Kind: KindStart, Start: r.starts[cur]}) // lost on the way
	}
	var missing []int64
	for s := int64(1); s <= max(t.lastSeq, t.final); s++ {
		if !t.got[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 && now.Sub(t.lastRereq) >= time.Second {
		t.rereq += len(missing)
		t.lastRereq = now
		r.send(ctx, &Message{Kind: KindRerequest, To: t.name, Rerequest: &Rerequest{Seqs: missing}})
	}
	if now.After(r.windowEnd) && now.Sub(t.lastSeen) > r.c.opts.SilenceTimeout {
		t.lost = true
		r.c.logf("coordinator: agent %s silent for %v: lost", t.name, now.Sub(t.lastSeen).Round(time.Second))
	}
}

// names returns the names of the agents ts for which f holds, joined by
// commas.
func names(ts []*agentTrack, f func(*agentTrack) bool) string {
	var out []string
	for _, t := range ts {
		if f(t) {
			out = append(out, t.name)
		}
	}
	return strings.Join(out, ", ")
}
