package cluster

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/traffic"
)

// Agent defaults.
const (
	DefaultHeartbeatInterval = time.Second
	DefaultSnapshotInterval  = time.Second
	DefaultResendAfter       = 3 * time.Second
)

// AgentOptions configure an Agent.
type AgentOptions struct {
	// Conn says how to reach nsqd.
	Conn Conn
	// Name identifies the agent; "" = hostname-pid. Names must be unique
	// among the agents of one nsqd topic.
	Name string
	// Prepare sets up the target of a plan: it fills opts.Target and, as
	// needed, opts.Quota and opts.BeforeMeasure (arming an emulator's
	// quotas); cleanup (which may be nil) runs after the run. nil:
	// endpoint and aws targets as the plan names them, embedded refused.
	Prepare func(ctx context.Context, p *Plan, opts *driver.Options) (cleanup func(), err error)
	// HeartbeatInterval, SnapshotInterval and ResendAfter (a snapshot not
	// acknowledged this long after it was sent is sent again); 0 = the
	// Default* values.
	HeartbeatInterval, SnapshotInterval, ResendAfter time.Duration
	// Logf receives the agent's log lines; nil = silent.
	Logf func(format string, args ...any)
	// Finished, when set, is called with each run's own output (the
	// agent's view, before merging) after its final snapshot is taken.
	Finished func(run string, out *report.Output, err error)
}

// Agent runs the plans a coordinator sends: its share of every workload,
// through the same driver as `kmsload run`, publishing a snapshot of its
// observations every second. It keeps every snapshot of a run until the
// coordinator ends the run, sends again those not acknowledged, and those
// the coordinator asks for again, so a lost message or an nsqd restart
// loses nothing.
type Agent struct {
	opts AgentOptions
	name string
	logf func(string, ...any)
}

// NewAgent checks opts. It connects nothing.
func NewAgent(opts AgentOptions) (*Agent, error) {
	if opts.Conn.NSQD == "" {
		return nil, fmt.Errorf("%w: no nsqd address", ErrBadOptions)
	}
	a := &Agent{opts: opts, name: opts.Name, logf: opts.Logf}
	if a.name == "" {
		h, _ := os.Hostname()
		a.name = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if a.logf == nil {
		a.logf = func(string, ...any) {}
	}
	a.opts.HeartbeatInterval = orDefault(opts.HeartbeatInterval, DefaultHeartbeatInterval)
	a.opts.SnapshotInterval = orDefault(opts.SnapshotInterval, DefaultSnapshotInterval)
	a.opts.ResendAfter = orDefault(opts.ResendAfter, DefaultResendAfter)
	return a, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Name is the agent's name.
func (a *Agent) Name() string { return a.name }

// agentRun is the run an agent works on; owned by Run's loop.
type agentRun struct {
	id      string
	plan    *Plan
	state   string
	err     string
	cancel  context.CancelFunc
	startCh chan time.Time // to the driver: local start time of the next window
	window  int            // the window ready for or measuring
	snap    *record.Snapshotter
	snapWin int    // the window snap belongs to
	snapNm  string // and its name
	seq     int64
	acked   int64
	store   map[int64]*storedSnapshot
	resent  int
}

type storedSnapshot struct {
	tries  int
	msg    *Message
	sentAt time.Time // zero: never published
}

// events from the driver goroutine to Run's loop.
type (
	readyEvent struct {
		run    string
		window int
	}
	snapEvent struct {
		run    string
		snap   *record.Snapshotter
		window int
		name   string
	}
	doneEvent struct {
		run string
		out *report.Output
		err error
	}
)

// Run connects to nsqd and serves plans until ctx ends. When ctx ends the
// agent stops at once: a run in progress is abandoned (its driver is
// cancelled and drained) and nothing more is published.
func (a *Agent) Run(ctx context.Context) error {
	b, err := dial(ctx, a.opts.Conn, a.opts.Conn.topic("agents"), a.opts.Conn.topic("control"), channelName(a.name), a.logf)
	if err != nil {
		return err
	}
	defer b.stop()
	g := newGroup(ctx)
	defer g.stop()
	l := &agentLoop{a: a, b: b, g: g, events: make(chan any)}

	hbT := time.NewTicker(a.opts.HeartbeatInterval)
	defer hbT.Stop()
	snapT := time.NewTicker(a.opts.SnapshotInterval)
	defer snapT.Stop()
	resendT := time.NewTicker(time.Second)
	defer resendT.Stop()
	l.heartbeat()
	for {
		select {
		case <-ctx.Done():
			l.endRun()
			return nil
		case <-hbT.C:
			l.heartbeat()
		case <-snapT.C:
			if l.r != nil && l.r.state == StateRunning && l.r.snap != nil {
				l.takeSnapshot(false, nil)
			}
		case <-resendT.C:
			l.resendUnacked()
		case ev := <-l.events:
			l.handleEvent(ev)
		case m := <-b.inbox:
			l.handleMessage(m)
		}
	}
}

// agentLoop is what the loop of Agent.Run works with: the bus, the group
// of the drivers' goroutines, their events and the run in progress. Only
// that loop uses it.
type agentLoop struct {
	a      *Agent
	b      *bus
	g      *group
	events chan any  // from the driver goroutine
	r      *agentRun // nil: idle
}

// send publishes m from the agent.
func (l *agentLoop) send(m *Message) error {
	m.From = l.a.name
	return l.b.publishTimeout(l.g.ctx, 2*time.Second, m)
}

// heartbeat publishes the agent's state: idle, or the run's state,
// window, last snapshot and error.
func (l *agentLoop) heartbeat() {
	hb := &Message{Kind: KindHeartbeat, Heartbeat: &Heartbeat{State: StateIdle}}
	if r := l.r; r != nil {
		hb.Run, hb.Heartbeat.State, hb.Heartbeat.LastSeq, hb.Heartbeat.Error = r.id, r.state, r.seq, r.err
		hb.Heartbeat.Window = r.window
	}
	if err := l.send(hb); err != nil {
		l.a.logf("agent %s: heartbeat: %v", l.a.name, err)
	}
}

// publishSnap publishes stored snapshot s of the run, counting a second
// try as resent; a failure leaves it to be sent again later.
func (l *agentLoop) publishSnap(s *storedSnapshot) {
	if s.tries > 0 {
		l.r.resent++
	}
	s.tries++
	if err := l.send(s.msg); err != nil {
		l.a.logf("agent %s: snapshot %d: %v (kept, sent again later)", l.a.name, s.msg.Snapshot.Seq, err)
		return
	}
	s.sentAt = time.Now()
}

// takeSnapshot takes the run's next snapshot of what the window's
// recorder observed since the last one, stores and publishes it: always
// when final (with meta), else only when it holds a workload.
func (l *agentLoop) takeSnapshot(final bool, meta *FinalMeta) {
	r := l.r
	var iv record.Snapshot
	if r.snap != nil {
		s, err := r.snap.Snapshot(time.Now())
		if err != nil {
			l.a.logf("agent %s: %v", l.a.name, err)
			return
		}
		iv = s
	}
	if !final && len(iv.Workloads) == 0 {
		return
	}
	r.seq++
	s := &storedSnapshot{msg: &Message{Kind: KindSnapshot, Run: r.id,
		Snapshot: &Snapshot{Seq: r.seq, Final: final, Window: r.snapWin, WindowName: r.snapNm, Interval: iv, Meta: meta}}}
	r.store[r.seq] = s
	l.publishSnap(s)
}

// endRun cancels the run in progress, if any, and forgets it.
func (l *agentLoop) endRun() {
	if l.r != nil && l.r.cancel != nil {
		l.r.cancel()
	}
	l.r = nil
}

// resendUnacked publishes again, in sequence order, the run's snapshots
// not acknowledged ResendAfter after they were last sent.
func (l *agentLoop) resendUnacked() {
	r := l.r
	if r == nil {
		return
	}
	seqs := make([]int64, 0, len(r.store))
	for seq, s := range r.store {
		if seq > r.acked && time.Since(s.sentAt) >= l.a.opts.ResendAfter {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		l.publishSnap(r.store[seq])
	}
}

// handleEvent acts on an event of the run's driver goroutine; events of
// another run are dropped.
func (l *agentLoop) handleEvent(ev any) {
	r := l.r
	switch ev := ev.(type) {
	case readyEvent:
		if r != nil && r.id == ev.run && (r.state == StateProvisioning || r.state == StateRunning) {
			if r.snap != nil { // the rest of the window before
				l.takeSnapshot(false, nil)
				r.snap = nil
			}
			r.state, r.window = StateReady, ev.window
			l.heartbeat()
		}
	case snapEvent:
		if r != nil && r.id == ev.run {
			r.snap, r.snapWin, r.snapNm = ev.snap, ev.window, ev.name
		}
	case doneEvent:
		if r != nil && r.id == ev.run {
			l.finish(ev)
		}
	}
}

// finish ends the run's measurement when its driver returned: the final
// snapshot carries the agent's view of the run (or its error).
func (l *agentLoop) finish(ev doneEvent) {
	r := l.r
	meta := &FinalMeta{}
	if ev.err != nil {
		meta.Error = ev.err.Error()
		r.err = meta.Error
	} else {
		res := ev.out.Results
		meta.StartedAt, meta.DurationS, meta.Partial = res.StartedAt, res.DurationS, res.Partial
		meta.StopReason, meta.StopDetail = res.StopReason, res.StopDetail
		meta.Target, meta.Events = res.Target, res.Events
	}
	r.state = StateFinished
	meta.Resent = r.resent
	l.takeSnapshot(true, meta)
	l.heartbeat()
	if l.a.opts.Finished != nil {
		l.a.opts.Finished(r.id, ev.out, ev.err)
	}
}

// handleMessage acts on a message from the coordinator addressed to the
// agent or to all.
func (l *agentLoop) handleMessage(m *Message) {
	if m.To != "" && m.To != l.a.name {
		return
	}
	r := l.r
	switch m.Kind {
	case KindPing:
		l.pong(m)
	case KindPlan:
		l.takePlan(m)
	case KindStart:
		if r == nil || r.id != m.Run || m.Start == nil || r.state != StateReady || m.Start.Window != r.window {
			return
		}
		r.startCh <- m.Start.At.Add(m.Start.Offsets[l.a.name])
		r.state = StateRunning
		l.heartbeat()
	case KindAck:
		if r != nil && r.id == m.Run && m.Ack != nil && m.Ack.Upto > r.acked {
			r.acked = m.Ack.Upto
		}
	case KindRerequest:
		if r == nil || r.id != m.Run || m.Rerequest == nil {
			return
		}
		for _, seq := range m.Rerequest.Seqs {
			if s := r.store[seq]; s != nil {
				l.publishSnap(s)
			}
		}
	case KindEnd:
		if r != nil && r.id == m.Run {
			l.a.logf("agent %s: run %s ended", l.a.name, m.Run)
			l.endRun()
			l.heartbeat()
		}
	}
}

// pong answers a clock probe with the agent's receive and send times.
func (l *agentLoop) pong(m *Message) {
	if m.Ping == nil {
		return
	}
	p := &Pong{ID: m.Ping.ID, T0: m.Ping.T0, T1: m.received, T2: time.Now()}
	if err := l.send(&Message{Kind: KindPong, Run: m.Run, To: "", Pong: p}); err != nil {
		l.a.logf("agent %s: pong: %v", l.a.name, err)
	}
}

// takePlan starts a plan that names the agent, in a goroutine of the
// group, unless it is busy with another run; a plan already taken is
// confirmed with a heartbeat.
func (l *agentLoop) takePlan(m *Message) {
	if m.Plan == nil || m.Plan.Index(l.a.name) < 0 {
		return
	}
	if l.r != nil && l.r.id == m.Run {
		l.heartbeat() // the plan again: say again that it is taken
		return
	}
	if l.r != nil && l.r.state != StateFinished {
		return // busy with another run; heartbeats say so
	}
	l.endRun()
	run := &agentRun{id: m.Run, plan: m.Plan, state: StateProvisioning,
		startCh: make(chan time.Time, 1), store: map[int64]*storedSnapshot{}}
	rctx, cancel := context.WithCancel(l.g.ctx)
	run.cancel = cancel
	l.r = run
	a, events := l.a, l.events
	l.g.Go(func(gctx context.Context) {
		out, err := a.runPlan(rctx, run, events)
		select {
		case events <- doneEvent{run.id, out, err}:
		case <-gctx.Done():
		}
	})
	l.a.logf("agent %s: run %s: share %d of %d", l.a.name, m.Run, m.Plan.Index(l.a.name)+1, len(m.Plan.Agents))
	l.heartbeat()
}

// runPlan runs the agent's share of plan r.plan with the driver. It tells
// Run's loop when provisioning is done and waits there for the start time.
func (a *Agent) runPlan(ctx context.Context, r *agentRun, events chan<- any) (*report.Output, error) {
	p := r.plan
	sc, err := p.ParseScenario()
	if err != nil {
		return nil, err
	}
	opts := driver.Options{
		Scenario: sc, Duration: p.Duration, Scale: p.Scale, Seed: p.Seed, JitterSeed: p.JitterSeed, Retry: p.Retry,
		DrainTimeout: p.DrainTimeout, Isolate: p.Isolate, Logf: a.logf,
		Share: traffic.Share{Index: p.Index(a.name), Count: len(p.Agents)},
	}
	cleanup, err := a.prepare(ctx, p, &opts)
	if err != nil {
		return nil, err
	}
	if cleanup != nil {
		defer cleanup()
	}
	// The driver calls BeforeMeasure, Observer and Start once per
	// measured window, in that order, from one goroutine.
	var start time.Time
	window := -1
	prepared := opts.BeforeMeasure
	opts.BeforeMeasure = func() {
		if prepared != nil {
			prepared()
		}
		window++
		start = time.Time{}
		select {
		case events <- readyEvent{r.id, window}:
		case <-ctx.Done():
			return
		}
		select {
		case start = <-r.startCh:
		case <-ctx.Done():
		}
	}
	opts.Start = func() time.Time {
		if start.IsZero() {
			return time.Now()
		}
		return start
	}
	opts.Observer = func(name string, _ []record.WorkloadInfo) record.Observer {
		// The window's recorder takes it as its observer: its snapshots
		// are read from the recorder itself.
		s := record.NewSnapshotter()
		select {
		case events <- snapEvent{r.id, s, window, name}:
		case <-ctx.Done():
		}
		return s
	}
	d, err := driver.New(opts)
	if err != nil {
		return nil, err
	}
	return d.Run(ctx)
}

func (a *Agent) prepare(ctx context.Context, p *Plan, opts *driver.Options) (func(), error) {
	if a.opts.Prepare != nil {
		return a.opts.Prepare(ctx, p, opts)
	}
	switch p.Target.Kind {
	case driver.TargetEndpoint:
		opts.Target = driver.Target{Kind: driver.TargetEndpoint, Endpoint: p.Target.Endpoint}
	case driver.TargetAWS:
		opts.Target = driver.Target{Kind: driver.TargetAWS}
	default:
		return nil, fmt.Errorf("%w: agent %s cannot prepare target %q", ErrBadOptions, a.name, p.Target.Kind)
	}
	return nil, nil
}
