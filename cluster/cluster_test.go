package cluster_test

import (
	"context"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	nsq "github.com/nsqio/go-nsq"

	"github.com/kmsload/kmsload/cluster"
	"github.com/kmsload/kmsload/cluster/nsqdtest"
	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/report"
)

const testScenario = `name: cluster-test
region: us-east-1
scale: 1
duration: 3s
accounts: {prod: "111111111111"}
keys:
  k: {account: prod}
workloads:
  steady: {caller: prod, key: k, operation: Encrypt, rate: 240/s}
  bursty: {caller: prod, key: k, operation: GenerateDataKey, rate: 150/s, arrival: poisson}
`

// env is nsqd, one KMS emulator the agents share, and agents.
type env struct {
	t      *testing.T
	nsqd   *nsqdtest.NSQD
	conn   cluster.Conn
	url    string
	mu     sync.Mutex
	own    map[string]*report.Output // each agent's own output
	stops  map[string]context.CancelFunc
	wg     sync.WaitGroup
	agents []string
}

func newEnv(t *testing.T, agents ...string) *env {
	t.Helper()
	return newEnvLookupd(t, false, agents...)
}

// newEnvLookupd is newEnv; with lookupd, nsqd registers with an
// nsqlookupd, and agents and coordinator find it through that
// nsqlookupd.
func newEnvLookupd(t *testing.T, lookupd bool, agents ...string) *env {
	t.Helper()
	e := &env{t: t, own: map[string]*report.Output{}, stops: map[string]context.CancelFunc{}, agents: agents}
	if lookupd {
		l := nsqdtest.StartLookupd(t)
		e.nsqd = nsqdtest.StartRegistered(t, l.TCPAddr())
		e.conn = cluster.Conn{NSQD: e.nsqd.Addr(), Lookupd: []string{l.HTTPAddr()}, ReconnectInterval: time.Second}
	} else {
		e.nsqd = nsqdtest.Start(t)
		e.conn = cluster.Conn{NSQD: e.nsqd.Addr(), ReconnectInterval: 200 * time.Millisecond}
	}
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	for _, name := range agents {
		a, err := cluster.NewAgent(cluster.AgentOptions{
			Conn: e.conn, Name: name, ResendAfter: time.Second,
			Prepare: func(ctx context.Context, p *cluster.Plan, opts *driver.Options) (func(), error) {
				opts.Target = driver.Target{Kind: driver.TargetEmbedded, Endpoint: e.url}
				return nil, nil
			},
			Finished: func(run string, out *report.Output, err error) {
				if err != nil {
					t.Errorf("agent %s: run %s: %v", name, run, err)
					return
				}
				e.mu.Lock()
				e.own[name] = out
				e.mu.Unlock()
			},
			Logf: t.Logf,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		e.stops[name] = cancel
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			if err := a.Run(ctx); err != nil {
				t.Errorf("agent %s: Run: %v", name, err)
			}
		}()
	}
	t.Cleanup(func() {
		for _, stop := range e.stops {
			stop()
		}
		e.wg.Wait()
	})
	return e
}

// run coordinates one run; started is closed when the start time is
// sent.
func (e *env) run(silence time.Duration, started chan<- struct{}) *cluster.Result {
	e.t.Helper()
	return e.runPlan(silence, started, nil)
}

// runPlan is run with the plan changed by edit (when not nil).
func (e *env) runPlan(silence time.Duration, started chan<- struct{}, edit func(*cluster.Plan)) *cluster.Result {
	e.t.Helper()
	var once sync.Once
	c, err := cluster.NewCoordinator(cluster.CoordinatorOptions{
		Conn: e.conn, Agents: len(e.agents), WaitAgents: 20 * time.Second, SilenceTimeout: silence,
		StartLead: 300 * time.Millisecond,
		Logf: func(format string, args ...any) {
			e.t.Logf(format, args...)
			if started != nil && strings.Contains(format, "start at") {
				once.Do(func() { close(started) })
			}
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	plan := cluster.Plan{ScenarioFile: "cluster.yaml", Scenario: []byte(testScenario), Duration: 3 * time.Second, DrainTimeout: time.Second, Target: cluster.Target{Kind: "embedded"}}
	if edit != nil {
		edit(&plan)
	}
	res, err := c.Run(ctx, cluster.Spec{Plan: plan, ScenarioInfo: report.ScenarioInfo{Name: "cluster-test", Scale: 1}})
	if err != nil {
		e.t.Fatalf("Coordinator.Run: %v", err)
	}
	return res
}

// ownOutput waits for agent name's own output.
func (e *env) ownOutput(name string) *report.Output {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		out := e.own[name]
		e.mu.Unlock()
		if out != nil {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("agent %s: no output of its own", name)
	return nil
}

func histCounts(t *testing.T, enc string) map[int64]int64 {
	t.Helper()
	h, err := hdr.Decode([]byte(enc))
	if err != nil {
		t.Fatalf("decode histogram: %v", err)
	}
	m := map[int64]int64{}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			m[b.From] += b.Count
		}
	}
	return m
}

type totals struct{ Requests, OK, Throttled, Attempts, Dropped, Errors int64 }

func totalsOf(w report.Workload) totals {
	var errs int64
	for _, v := range w.Errors {
		errs += v
	}
	return totals{w.Requests, w.OK, w.ThrottledRequests, w.Attempts, w.Dropped, errs}
}

func (a totals) add(b totals) totals {
	return totals{a.Requests + b.Requests, a.OK + b.OK, a.Throttled + b.Throttled, a.Attempts + b.Attempts, a.Dropped + b.Dropped, a.Errors + b.Errors}
}

// checkExact checks that the merged workloads are the sum of the named
// agents' own workloads: counters, and counts at every histogram value.
func (e *env) checkExact(res *cluster.Result, agents ...string) {
	e.t.Helper()
	e.checkExactIn(res.Results.Workloads, func(r *report.Results) []report.Workload { return r.Workloads }, agents...)
}

// checkExactIn checks that merged is the sum of what of reads from the
// named agents' own results.
func (e *env) checkExactIn(merged []report.Workload, of func(*report.Results) []report.Workload, agents ...string) {
	t := e.t
	t.Helper()
	for _, w := range merged {
		var want totals
		wantHist := map[int64]int64{}
		for _, name := range agents {
			out := e.ownOutput(name)
			for _, ow := range of(out.Results) {
				if ow.Name != w.Name {
					continue
				}
				want = want.add(totalsOf(ow))
				for v, n := range histCounts(t, ow.Histogram) {
					wantHist[v] += n
				}
			}
		}
		if got := totalsOf(w); got != want {
			t.Errorf("workload %s: merged %+v; want the agents' sum %+v", w.Name, got, want)
		}
		if want.Requests == 0 {
			t.Errorf("workload %s: no requests", w.Name)
		}
		if got := histCounts(t, w.Histogram); !reflect.DeepEqual(got, wantHist) {
			t.Errorf("workload %s: merged histogram (%d values) differs from the histogram of all samples (%d values)", w.Name, len(got), len(wantHist))
		}
	}
}

// TestClusterThreeAgentsExact: three agents share the rates; the merged
// counts are the sum of the agents' own counts and the merged histogram
// has the same count at every value as all the agents' samples.
func TestClusterThreeAgentsExact(t *testing.T) {
	e := newEnv(t, "a1", "a2", "a3")
	res := e.run(5*time.Second, nil)
	r := res.Results
	if r.Partial {
		t.Fatalf("partial run: %s", r.StopDetail)
	}
	e.checkExact(res, "a1", "a2", "a3")
	if r.Cluster == nil || len(r.Cluster.Agents) != 3 {
		t.Fatalf("Cluster = %+v; want 3 agents", r.Cluster)
	}
	for _, a := range r.Cluster.Agents {
		if a.Lost || a.Snapshots < 3 {
			t.Errorf("agent %s: lost %v, %d snapshots; want kept, >= 3", a.Name, a.Lost, a.Snapshots)
		}
		// One machine: the offset is noise, far below a millisecond's
		// worth of a second... allow scheduling delay.
		if a.ClockOffsetMs > 50 || a.ClockOffsetMs < -50 {
			t.Errorf("agent %s: clock offset %.3f ms on one machine; want near 0", a.Name, a.ClockOffsetMs)
		}
	}
	// Constant 240/s over 3 s: 720 arrivals, 240 per agent (arrival n goes
	// to agent n mod 3).
	for i, name := range []string{"a1", "a2", "a3"} {
		for _, w := range e.ownOutput(name).Results.Workloads {
			if w.Name == "steady" && w.Requests+w.Dropped != 240 {
				t.Errorf("agent %d steady: %d arrivals; want 240", i+1, w.Requests+w.Dropped)
			}
		}
	}
	for _, w := range r.Workloads {
		want := map[string]float64{"steady": 240, "bursty": 150}[w.Name]
		if d := w.TargetPerS - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("workload %s: target %g/s; want %g/s", w.Name, w.TargetPerS, want)
		}
	}
	if len(res.Hlog) != 2 {
		t.Errorf("hlogs for %d workloads; want 2", len(res.Hlog))
	}
}

// TestClusterDuplicateDelivery: every snapshot is delivered twice (a
// second publisher copies each one back onto the topic); nothing is
// counted twice.
func TestClusterDuplicateDelivery(t *testing.T) {
	e := newEnv(t, "d1", "d2")
	cfg := nsq.NewConfig()
	prod, err := nsq.NewProducer(e.conn.NSQD, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Stop()
	cons, err := nsq.NewConsumer(cluster.DefaultTopic+".agents", "dup#ephemeral", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var copied sync.Map
	cons.AddHandler(nsq.HandlerFunc(func(m *nsq.Message) error {
		msg, err := cluster.Decode(m.Body)
		if err != nil || msg.Kind != cluster.KindSnapshot {
			return nil
		}
		key := msg.From + "/" + string(rune(msg.Snapshot.Seq))
		if _, dup := copied.LoadOrStore(key, true); dup {
			return nil
		}
		return prod.Publish(cluster.DefaultTopic+".agents", m.Body)
	}))
	if err := cons.ConnectToNSQD(e.conn.NSQD); err != nil {
		t.Fatal(err)
	}
	defer cons.Stop()
	res := e.run(5*time.Second, nil)
	if res.Results.Partial {
		t.Fatalf("partial run: %s", res.Results.StopDetail)
	}
	e.checkExact(res, "d1", "d2")
	dups := 0
	for _, a := range res.Results.Cluster.Agents {
		dups += a.Duplicates
	}
	if dups == 0 {
		t.Errorf("no duplicates dropped; the test did not inject any")
	}
}

// TestClusterAgentKilled: one agent stops talking mid-run; the run is
// partial, names it and the seconds missing, and the other agents' data
// is intact.
func TestClusterAgentKilled(t *testing.T) {
	e := newEnv(t, "k1", "k2", "k3")
	started := make(chan struct{})
	go func() {
		<-started
		time.Sleep(1800 * time.Millisecond) // 1.5 s into the window
		e.stops["k3"]()
	}()
	res := e.run(1500*time.Millisecond, started)
	r := res.Results
	if !r.Partial || r.StopReason != report.StopAgentLost {
		t.Fatalf("Partial %v StopReason %q; want true, %q", r.Partial, r.StopReason, report.StopAgentLost)
	}
	if !strings.Contains(r.StopDetail, "agent k3") || !strings.Contains(r.StopDetail, "missing") {
		t.Errorf("StopDetail %q does not name agent k3 and the seconds missing", r.StopDetail)
	}
	for _, a := range r.Cluster.Agents {
		if a.Lost != (a.Name == "k3") {
			t.Errorf("agent %s: Lost %v", a.Name, a.Lost)
		}
		if a.Name == "k3" && (a.MissingToS != 3 || a.MissingFromS > 2) {
			t.Errorf("agent k3: missing seconds %d-%d; want from <= 2 to 3", a.MissingFromS, a.MissingToS)
		}
	}
	for _, name := range []string{"k1", "k2"} {
		own := e.ownOutput(name).Results.Workloads
		got := res.Merge.SourceWorkloads(name)
		if len(got) != len(own) {
			t.Fatalf("agent %s: %d merged workloads; want %d", name, len(got), len(own))
		}
		for i := range own {
			if totalsOf(got[i]) != totalsOf(own[i]) {
				t.Errorf("agent %s %s: merged %+v; want its own %+v", name, own[i].Name, totalsOf(got[i]), totalsOf(own[i]))
			}
			if !reflect.DeepEqual(histCounts(t, got[i].Histogram), histCounts(t, own[i].Histogram)) {
				t.Errorf("agent %s %s: merged histogram differs from its own", name, own[i].Name)
			}
		}
	}
}

// TestClusterNSQDRestart: nsqd restarts (losing every message it held)
// mid-run; the agents resend and the result is complete and exact.
func TestClusterNSQDRestart(t *testing.T) {
	e := newEnv(t, "r1", "r2")
	started := make(chan struct{})
	go func() {
		<-started
		time.Sleep(1300 * time.Millisecond)
		e.nsqd.Stop()
		time.Sleep(700 * time.Millisecond)
		if err := e.nsqd.Restart(); err != nil {
			t.Errorf("restart nsqd: %v", err)
		}
	}()
	res := e.run(5*time.Second, started)
	if res.Results.Partial {
		t.Fatalf("partial run: %s", res.Results.StopDetail)
	}
	e.checkExact(res, "r1", "r2")
	again := 0
	for _, a := range res.Results.Cluster.Agents {
		again += a.Resent + a.Rerequested
	}
	if again == 0 {
		t.Errorf("no snapshot was sent again: the restart hit no message")
	}
}

// TestClusterThroughLookupd: nsqd registers with an nsqlookupd, and the
// agents and the coordinator consume through it (Conn.Lookupd): the run
// completes and merges exactly.
func TestClusterThroughLookupd(t *testing.T) {
	e := newEnvLookupd(t, true, "l1", "l2")
	res := e.run(5*time.Second, nil)
	if res.Results.Partial {
		t.Fatalf("partial run: %s", res.Results.StopDetail)
	}
	e.checkExact(res, "l1", "l2")
	for _, a := range res.Results.Cluster.Agents {
		if a.Snapshots < 3 {
			t.Errorf("agent %s: %d snapshots; want >= 3", a.Name, a.Snapshots)
		}
	}
}

// TestClusterIsolate: with Plan.Isolate the agents measure each workload
// alone, then both together, each window from its own common start; the
// isolated and combined windows are each merged exactly, and the coupling
// table is computed from them.
func TestClusterIsolate(t *testing.T) {
	e := newEnv(t, "i1", "i2")
	res := e.runPlan(5*time.Second, nil, func(p *cluster.Plan) {
		p.Isolate = true
		p.Duration = 2 * time.Second
		p.DrainTimeout = 500 * time.Millisecond
	})
	r := res.Results
	if r.Partial {
		t.Fatalf("partial run: %s", r.StopDetail)
	}
	e.checkExact(res, "i1", "i2")
	if len(r.Isolated) != 2 {
		t.Fatalf("Isolated has %d workloads; want 2 (steady, bursty)", len(r.Isolated))
	}
	for _, name := range []string{"steady", "bursty"} {
		iso, ok := r.Isolated[name]
		if !ok {
			t.Fatalf("Isolated lacks %s", name)
		}
		e.checkExactIn([]report.Workload{iso}, func(own *report.Results) []report.Workload {
			return []report.Workload{own.Isolated[name]}
		}, "i1", "i2")
	}
	// Constant 240/s over 2 s alone: 480 arrivals over both agents.
	if s := r.Isolated["steady"]; s.Requests+s.Dropped != 480 || s.TargetPerS != 240 {
		t.Errorf("isolated steady: %d arrivals at target %g/s; want 480 at 240/s", s.Requests+s.Dropped, s.TargetPerS)
	}
	if len(r.Coupling) != 2 {
		t.Errorf("Coupling has %d rows; want 2", len(r.Coupling))
	}
	for _, a := range r.Cluster.Agents {
		if a.Lost || a.Snapshots < 6 { // at least two per window
			t.Errorf("agent %s: lost %v, %d snapshots; want kept, >= 6", a.Name, a.Lost, a.Snapshots)
		}
	}
}
