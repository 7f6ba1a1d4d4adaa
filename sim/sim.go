package sim

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

// TargetKind is the Results.Target.Kind of a simulated run.
const TargetKind = "simulated"

// ErrBadOptions is wrapped by New for unusable options.
var ErrBadOptions = errors.New("sim: invalid options")

// Error codes of simulated answers; index 0 is success.
const (
	codeOK uint8 = iota
	codeThrottled
	codeDisabled
	codeInvalidState
	codeAccessDenied
	codeNotFound
	codeQuotaExceeded
	codeCanceled
)

var codes = [...]string{
	codeOK:            "",
	codeThrottled:     "ThrottlingException",
	codeDisabled:      "DisabledException",
	codeInvalidState:  "KMSInvalidStateException",
	codeAccessDenied:  "AccessDeniedException",
	codeNotFound:      "NotFoundException",
	codeQuotaExceeded: failure.CodeQuotaExceeded,
	codeCanceled:      failure.CodeCanceled,
}

// Outcomes of an attempt, as record.Outcome values.
const (
	outcomeOK        = uint8(record.OK)
	outcomeThrottled = uint8(record.Throttled)
	outcomeFailed    = uint8(record.Failed)
)

// Options configure a Simulator. Zero values of optional fields take the
// scenario's values or the defaults named.
type Options struct {
	// Scenario is the validated scenario to replay.
	Scenario *scenario.Scenario
	// Duration of each measured window; 0 = the scenario's.
	Duration time.Duration
	// Scale multiplies workload rates; 0 = the scenario's (1 when unset),
	// as a run's (scenario.Scenario.RunScale). Quota.Scale should be the
	// same number.
	Scale float64
	// Quota is the quota configuration applied (already scaled); a zero
	// Config (no Algorithm) means quota.DefaultConfig at Scale.
	Quota quota.Config
	// QuotasOff turns throttling off, as `--quotas off` does.
	QuotasOff bool
	// Retry overrides every workload's retry mode when not "" (kmsload
	// simulate --retry): sdk-standard (or standard), none or adaptive.
	Retry string
	// Client overrides the scenario's client settings of every workload:
	// each field that is set wins over the workload's and the scenario's
	// (a study variant). ClientSource names the override in the results;
	// "" = scenario.SourceStudyVariant.
	Client       scenario.Client
	ClientSource string
	// SDKEnv stands for the SDK's environment (AWS_RETRY_MODE,
	// AWS_MAX_ATTEMPTS, the shared config file), which decides the retry
	// mode and max attempts that neither the override nor the scenario
	// sets; the zero value sets nothing, leaving them to the SDK's
	// defaults. The caller reads it (driver.LoadSDKEnv, converted with
	// scenario.ClientEnv(env)).
	SDKEnv scenario.ClientEnv
	// Seed of Poisson arrivals and of the SDK's backoff jitter; 0 = the
	// scenario's.
	Seed int64
	// JitterSeed seeds the SDK's backoff jitter alone; 0 = from Seed. Runs
	// that differ only in JitterSeed have the same arrivals. The draws are
	// traffic.JitterDraw's: a driver run with the same
	// driver.Options.JitterSeed backs off request for request alike.
	JitterSeed int64
	// Isolate runs each workload alone, then all together, and fills
	// Results.Isolated and Results.Coupling.
	Isolate bool
	// Latency is the service time of each attempt, the emulator's model
	// (emulator.ParseLatency); nil = 0, every answer at the instant of
	// the request.
	Latency func(op string, now time.Time) time.Duration
	// Start is the virtual start of every measured window; zero = the
	// current time truncated to a whole second, plus WindowPhase's offset
	// (a random phase drawn from the seed).
	Start time.Time
	// WindowPhase is where the measured windows start against the
	// quota's one-second windows when Start is zero, as a run's
	// (driver.Options.WindowPhase).
	WindowPhase quota.WindowPhase
	// DrainTimeout bounds the virtual wait for requests in flight after
	// arrivals stop; 0 = traffic.DefaultDrainTimeout. Requests still in
	// flight then fail with the code "Canceled".
	DrainTimeout time.Duration
	// Progress, when set, is called after each virtual second of each
	// window with the phase and the view of the last second.
	Progress func(phase string, p record.Progress)
}

// workload is a resolved scenario workload (scenario.Resolve) with its
// scaled mean intended rate.
type workload struct {
	scenario.ResolvedWorkload
	mean float64
}

// Simulator replays one scenario in virtual time. Build it with New and
// call Run.
type Simulator struct {
	opts  Options
	res   *scenario.Resolved // the scenario resolved for this run
	drain time.Duration
	qcfg  quota.Config
	start time.Time
	wls   []*workload
}

// New checks opts and resolves the scenario's defaults. It runs nothing.
func New(opts Options) (*Simulator, error) {
	sc := opts.Scenario
	if sc == nil {
		return nil, fmt.Errorf("%w: no scenario", ErrBadOptions)
	}
	s := &Simulator{opts: opts}
	res, err := scenario.Resolve(sc, scenario.Overrides{Duration: opts.Duration, Scale: opts.Scale, Seed: opts.Seed,
		Client: scenario.ClientOverride{Retry: opts.Retry, Client: opts.Client, Source: opts.ClientSource},
		SDKEnv: opts.SDKEnv})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	s.res = res
	s.drain = cmp.Or(opts.DrainTimeout, traffic.DefaultDrainTimeout)
	s.qcfg = opts.Quota
	if s.qcfg.Algorithm == "" {
		s.qcfg = quota.DefaultConfig()
		s.qcfg.Scale = s.res.Scale
	}
	if err := s.qcfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	s.start = opts.Start
	if s.start.IsZero() {
		s.start = time.Now().Truncate(time.Second).Add(opts.WindowPhase.Draw(s.res.Seed))
	}
	s.start = time.Unix(0, s.start.UnixNano()).UTC() // no monotonic reading
	for _, rw := range res.Workloads {
		w, err := s.newWorkload(rw)
		if err != nil {
			return nil, err
		}
		s.wls = append(s.wls, w)
	}
	if err := s.checkSharedClients(); err != nil {
		return nil, err
	}
	return s, nil
}

// newWorkload is the simulation's workload of rw, with its rates.
func (s *Simulator) newWorkload(rw scenario.ResolvedWorkload) (*workload, error) {
	arr, err := traffic.NewArrival(rw.Spec, s.res.Scale, s.res.Seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	w := &workload{ResolvedWorkload: rw}
	w.mean, _ = traffic.MeanRate(arr, s.res.Duration)
	return w, nil
}

// Run simulates the measured windows (with Options.Isolate each workload
// alone, then all together) and returns the results, marked Simulated,
// and each workload's HdrHistogram interval log of the combined window.
// When ctx is cancelled it stops at the next virtual second and returns
// the partial results with StopReason "interrupted".
func (s *Simulator) Run(ctx context.Context) (*report.Output, error) {
	phase := quota.OffsetOf(s.start).Seconds()
	res := &report.Results{
		Schema: report.Schema,
		Scenario: report.ScenarioInfo{
			Name:         s.res.Scenario.Name,
			File:         s.res.Scenario.File,
			Description:  s.res.Scenario.Description,
			Scale:        s.res.Scale,
			Seed:         s.res.Seed,
			JitterSeed:   cmp.Or(s.opts.JitterSeed, s.res.Seed),
			WindowPhase:  s.opts.WindowPhase.String(),
			WindowPhaseS: &phase,
		},
		Target:    report.TargetInfo{Kind: TargetKind, QuotaModel: s.quotaModel(), QuotasAppliedBy: "kmsload"},
		StartedAt: s.start,
		Simulated: true,
	}
	out := &report.Output{Results: res, Hlog: map[string][]byte{}}
	interrupted := func(elapsed time.Duration) {
		res.Partial = true
		res.StopReason = "interrupted"
		res.StopDetail = "the simulation was interrupted"
		res.DurationS = elapsed.Seconds()
	}
	if s.opts.Isolate {
		res.Isolated = map[string]report.Workload{}
		for i, w := range s.wls {
			phase := fmt.Sprintf("isolated %d/%d: %s", i+1, len(s.wls), w.Spec.Name)
			win := s.window(ctx, []int{i}, phase)
			if len(win.workloads) == 1 {
				res.Isolated[w.Spec.Name] = win.workloads[0]
			}
			if win.partial {
				interrupted(win.elapsed)
				res.Workloads = []report.Workload{}
				res.Buckets = []report.Bucket{}
				return out, nil
			}
		}
	}
	all := make([]int, len(s.wls))
	for i := range all {
		all[i] = i
	}
	win := s.window(ctx, all, "combined")
	res.DurationS = win.elapsed.Seconds()
	if win.partial {
		interrupted(win.elapsed)
	}
	res.Workloads = win.workloads
	res.Events = win.events
	res.Assemble(s.qcfg.LimitOf)
	out.Hlog = win.hlog
	return out, nil
}

func (s *Simulator) quotaModel() string {
	if s.opts.QuotasOff {
		return "off"
	}
	return string(s.qcfg.Algorithm)
}

// client is a workload's sender in one Region. Its retrier is the SDK
// client's retry state: a workload's own, or the one of the shared client
// it sends through in that Region.
type client struct {
	rw      int // index of the run workload
	req     quota.Request
	key     *keyState // nil: no key (GenerateRandom) or not in this Region
	noKey   bool      // the key does not exist in this Region
	op      string
	account string
	rt      *retrier
	bucket0 int32 // index into run.buckets of the quota buckets its attempts are charged to
}

// clientKey identifies one SDK client of a measured window, as the driver
// keys them: a shared client has one per shared name, caller account and
// Region; a workload with a client of its own has one per Region.
type clientKey struct {
	name, account, region string
	shared                bool
}

// runWorkload is a workload during one window.
type runWorkload struct {
	w        *workload
	arr      traffic.Arrival
	n        int64 // index of the next arrival
	next     int64 // offset of the next arrival, ns; never when none
	inflight int
	cache    *traffic.KeyCache
	clients  []int // client per Region of w.regions
	cur      int   // index into clients of the current Region
}

const never = math.MaxInt64

// run is one measured window in progress.
type run struct {
	s       *Simulator
	start   int64 // Unix ns of the window start
	startT  time.Time
	rec     *record.Recorder
	pipe    *pipe
	model   *quota.Model
	rws     []runWorkload
	clients []client
	sdk     map[clientKey]*retrier // the window's SDK clients
	q       queue
	jitter  int64 // seed of the backoff jitter draws (traffic.JitterDraw)
	keys    map[string]map[string]*keyState
	latency func(op string, now time.Time) time.Duration
	buckets []record.Charge // the quota buckets attempts are charged to
}

// window is the outcome of one measured window.
type window struct {
	elapsed   time.Duration
	partial   bool
	workloads []report.Workload
	events    []report.Event
	hlog      map[string][]byte
}

// window simulates one measured window with the workloads idxs.
func (s *Simulator) window(ctx context.Context, idxs []int, phase string) *window {
	r := &run{
		s:       s,
		start:   s.start.UnixNano(),
		startT:  s.start,
		jitter:  cmp.Or(s.opts.JitterSeed, s.res.Seed),
		keys:    newKeyStates(s.res.Scenario),
		latency: s.opts.Latency,
		sdk:     map[clientKey]*retrier{},
	}
	if !s.opts.QuotasOff {
		m, err := quota.New(s.qcfg)
		if err != nil { // validated by New
			panic(err)
		}
		r.model = m
	}
	infos := make([]record.WorkloadInfo, len(idxs))
	r.rws = make([]runWorkload, len(idxs))
	for ri, i := range idxs {
		w := s.wls[i]
		arr, _ := traffic.NewArrival(w.Spec, s.res.Scale, s.res.Seed) // checked by New
		rw := runWorkload{w: w, arr: arr}
		if dc := w.Spec.DataKeyCache; dc != nil {
			rw.cache = traffic.NewKeyCache(dc.MaxAge, dc.MaxUses)
		}
		for _, region := range w.Regions {
			rw.clients = append(rw.clients, len(r.clients))
			r.clients = append(r.clients, r.newClient(ri, w, region))
		}
		rw.next = r.arrival(&rw)
		r.rws[ri] = rw
		infos[ri] = record.InfoOf(w.ResolvedWorkload, w.mean)
	}
	r.rec = record.NewRecorder(s.start, infos)
	r.pipe = newPipe(r.rec, r.start, r.buckets)
	win := &window{hlog: map[string][]byte{}}
	evs := s.events(idxs)
	end, partial := r.loop(ctx, phase, evs, win)
	r.pipe.close()
	win.partial = partial
	win.elapsed = time.Duration(end)
	win.workloads = r.rec.Finish(s.start.Add(win.elapsed))
	s.annotateClients(win.workloads)
	for ri, rw := range r.rws {
		var buf bytes.Buffer
		if err := r.rec.WriteHlog(ri, &buf); err == nil {
			win.hlog[rw.w.Spec.Name] = buf.Bytes()
		}
	}
	_ = r.rec.Close() // its spooled interval logs, read above
	return win
}

// events returns the scenario's events that concern the workloads idxs,
// in time order, before the end of the window.
func (s *Simulator) events(idxs []int) []scenario.Event {
	names, keys := map[string]bool{}, map[string]bool{}
	for _, i := range idxs {
		names[s.wls[i].Spec.Name] = true
		if k := s.wls[i].Spec.Key; k != "" {
			keys[k] = true
		}
	}
	var out []scenario.Event
	for _, ev := range s.res.Scenario.Events {
		if ev.At >= s.res.Duration {
			continue
		}
		if ev.Action == scenario.ActionShiftTraffic && names[ev.Workload] ||
			ev.Action != scenario.ActionShiftTraffic && keys[ev.Key] {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

func (r *run) newClient(ri int, w *workload, region string) client {
	c := client{
		rw:      ri,
		op:      w.Spec.Operation,
		account: w.Caller.ID,
		rt:      r.retrier(w, region),
		req:     quota.Request{Account: w.Caller.ID, Region: region, Operation: w.Spec.Operation, KeyPairSpec: w.KeyPairSpec},
	}
	// Attempts are charged, in results, to the buckets of the Region the
	// client sends to, as the driver charges them (record.Recorder.AttemptIn).
	ch := record.ChargeOf(w.Buckets(region))
	if ch.Store != "" {
		ch.StoreWeight = r.s.qcfg.StoreWeight(w.Key.CustomKeyStoreType, w.Spec.Operation)
	}
	c.bucket0 = int32(slices.Index(r.buckets, ch))
	if c.bucket0 < 0 {
		c.bucket0 = int32(len(r.buckets))
		r.buckets = append(r.buckets, ch)
	}
	if w.Spec.Key != "" {
		c.key = r.keys[w.Spec.Key][region]
		if c.key == nil {
			c.noKey = true // charged as symmetric, answered NotFoundException
		} else {
			c.req.KeySpec = w.Key.Spec
			c.req.CustomKeyStore = w.Key.CustomKeyStore
			c.req.CustomKeyStoreType = w.Key.CustomKeyStoreType
		}
	}
	return c
}

// arrival returns the offset of rw's next arrival (rw.n), or never.
func (r *run) arrival(rw *runWorkload) int64 {
	at, ok := rw.arr.Next(rw.n)
	if !ok || at >= r.s.res.Duration {
		return never
	}
	return int64(at)
}

// loop runs the window's events until arrivals have stopped and requests
// have drained (or the drain timeout passed), or ctx is cancelled. It
// returns the window's length and whether it was cut short.
func (r *run) loop(ctx context.Context, phase string, evs []scenario.Event, win *window) (int64, bool) {
	dur := int64(r.s.res.Duration)
	drainEnd := dur + int64(r.s.drain)
	nextSec := int64(time.Second)
	ei := 0
	for {
		ta, wi := int64(never), -1
		for i := range r.rws {
			if r.rws[i].next < ta {
				ta, wi = r.rws[i].next, i
			}
		}
		th := int64(never)
		if r.q.len() > 0 {
			th = r.q.top()
		}
		te := int64(never)
		if ei < len(evs) {
			te = int64(evs[ei].At)
		}
		t := min(ta, th, te)
		if t >= nextSec && nextSec <= dur {
			// A virtual second ended: report it and look at ctx.
			if r.s.opts.Progress != nil {
				r.pipe.sync()
				r.s.opts.Progress(phase, r.rec.Progress(r.startT.Add(time.Duration(nextSec))))
			}
			if ctx.Err() != nil {
				r.cancelAll(nextSec)
				return nextSec, true
			}
			nextSec += int64(time.Second)
			continue
		}
		switch {
		case t == never:
			return dur, false
		case t > drainEnd:
			r.cancelAll(drainEnd)
			return dur, false
		case te == t:
			win.events = append(win.events, r.apply(evs[ei]))
			ei++
		case th == t:
			e := r.q.pop()
			if e.kind == evSend {
				r.send(e.client, e.intended, e.at, int(e.attempt), e.retryTok)
			} else {
				r.complete(e.client, e.intended, e.at, int(e.attempt), e.outcome, e.code, e.retryTok)
			}
		default:
			r.arrive(wi, ta)
		}
	}
}

// at converts a window offset to an instant.
func (r *run) at(off int64) time.Time { return time.Unix(0, r.start+off) }

// arrive handles arrival rw.n of workload wi at offset t.
func (r *run) arrive(wi int, t int64) {
	rw := &r.rws[wi]
	rw.n++
	rw.next = r.arrival(rw)
	if rw.cache != nil && rw.cache.Use(r.at(t)) {
		r.pipe.add(recOp{kind: opCacheHit, w: int32(wi), t1: t})
		return
	}
	if rw.inflight >= rw.w.MaxInFlight {
		r.pipe.add(recOp{kind: opDropped, w: int32(wi), t1: t})
		return
	}
	rw.inflight++
	r.pipe.add(recOp{kind: opSent, w: int32(wi), t1: t})
	r.send(int32(rw.clients[rw.cur]), t, t, 1, 0)
}

// send makes attempt number attempt of a request of client ci at offset
// t: the adaptive rate limiter may make it wait; the quota model and the
// key decide the answer, which comes after the service time.
func (r *run) send(ci int32, intended, t int64, attempt int, retryTok uint8) {
	c := &r.clients[ci]
	if ad := c.rt.ad; ad != nil {
		if ok, wait := ad.acquire(r.start+t, 1); !ok {
			r.q.push(event{at: t + max(wait, 1), intended: intended, client: ci, attempt: int16(attempt), kind: evSend, retryTok: retryTok})
			return
		}
	}
	now := r.at(t)
	outcome, code, byStore := outcomeOK, codeOK, false
	if err := r.model.Allow(now, c.req); err != nil {
		outcome, code = outcomeThrottled, codeThrottled
		if te, ok := errors.AsType[*quota.ThrottleError](err); ok {
			byStore = te.Bucket.Class.Second()
		}
	} else if c.noKey {
		outcome, code = outcomeFailed, codeNotFound
	} else if c.key != nil {
		if code = c.key.code(c.account); code != codeOK {
			outcome = outcomeFailed
		}
	}
	var svc time.Duration
	if r.latency != nil {
		svc = max(r.latency(c.op, now), 0)
	}
	r.pipe.add(recOp{kind: opAttempt, w: int32(c.rw), bucket: c.bucket0, byStore: byStore, t1: t, t2: int64(svc), outcome: outcome, code: code})
	if svc == 0 {
		r.complete(ci, intended, t, attempt, outcome, code, retryTok)
		return
	}
	r.q.push(event{at: t + int64(svc), intended: intended, sent: t, client: ci, attempt: int16(attempt),
		kind: evComplete, outcome: outcome, code: code, retryTok: retryTok})
}

// complete handles the answer to attempt number attempt at offset t as the
// SDK's retry middleware does: release tokens, then retry (after taking a
// retry token and backing off) or finish the request.
func (r *run) complete(ci int32, intended, t int64, attempt int, outcome, code uint8, retryTok uint8) {
	c := &r.clients[ci]
	rt := c.rt
	if rt.ad != nil {
		rt.ad.update(r.start+t, outcome == outcomeThrottled)
	}
	if outcome == outcomeOK {
		if rt.retry {
			if retryTok > 0 {
				rt.bucket.refund(uint(retryTok))
			} else if attempt == 1 {
				rt.bucket.refund(NoRetryIncrement)
			}
		}
		r.done(c, intended, t, attempt, outcomeOK, codeOK)
		return
	}
	// Throttles are the only retryable answers the model gives.
	if outcome != outcomeThrottled || !rt.retry || attempt >= rt.maxAtt {
		r.done(c, intended, t, attempt, outcome, code)
		return
	}
	if !rt.bucket.take(ThrottleRetryCost) {
		r.done(c, intended, t, attempt, outcomeFailed, codeQuotaExceeded)
		return
	}
	u := traffic.JitterDraw(r.jitter, r.rws[c.rw].w.Spec.Name, time.Duration(intended), attempt)
	d := int64(traffic.BackoffDelay(u, attempt, true, time.Duration(rt.maxBackoff)))
	r.q.push(event{at: t + d, intended: intended, client: ci, attempt: int16(attempt + 1), kind: evSend, retryTok: ThrottleRetryCost})
}

// done records the final outcome of a request.
func (r *run) done(c *client, intended, t int64, attempts int, outcome, code uint8) {
	rw := &r.rws[c.rw]
	rw.inflight--
	r.pipe.add(recOp{kind: opDone, w: int32(c.rw), t1: intended, t2: t, attempts: int16(attempts), outcome: outcome, code: code})
	if outcome == outcomeOK && rw.cache != nil {
		rw.cache.Refresh(r.at(t))
	}
}

// cancelAll ends every request still in flight at offset t, as the
// driver's drain timeout does.
func (r *run) cancelAll(t int64) {
	for r.q.len() > 0 {
		e := r.q.pop()
		c := &r.clients[e.client]
		attempts := int(e.attempt)
		if e.kind == evSend {
			attempts--
		}
		r.done(c, e.intended, t, attempts, outcomeFailed, codeCanceled)
	}
}

// apply performs a lifecycle event at its time and returns it as it
// happened.
func (r *run) apply(ev scenario.Event) report.Event {
	re := report.Event{AtS: ev.At.Seconds(), Action: ev.Action, Key: ev.Key}
	if ev.Action == scenario.ActionShiftTraffic {
		for i := range r.rws {
			rw := &r.rws[i]
			if rw.w.Spec.Name != ev.Workload {
				continue
			}
			for j, region := range rw.w.Regions {
				if region == ev.ToRegion {
					rw.cur = j
				}
			}
		}
		return re
	}
	k := r.keys[ev.Key][cmp.Or(r.s.res.Scenario.Keys[ev.Key].Region, r.s.res.Scenario.Region)]
	fail := func(code string) report.Event {
		re.Error = fmt.Sprintf("sim: %s: %s", ev.Action, code)
		return re
	}
	if k.managed && ev.Action != scenario.ActionRotate {
		return fail("AccessDeniedException")
	}
	pending := k.state == statePendingDeletion
	switch ev.Action {
	case scenario.ActionDisableKey:
		if pending {
			return fail("KMSInvalidStateException")
		}
		k.state = stateDisabled
	case scenario.ActionEnableKey:
		if pending {
			return fail("KMSInvalidStateException")
		}
		k.state = stateEnabled
	case scenario.ActionScheduleDelete:
		if pending {
			return fail("KMSInvalidStateException")
		}
		k.state = statePendingDeletion
	case scenario.ActionCancelDeletion:
		if !pending {
			return fail("KMSInvalidStateException")
		}
		k.state = stateDisabled
	case scenario.ActionRotate:
		// Rotation keeps every version of the material: no request notices.
	case scenario.ActionPutKeyPolicy:
		if pending {
			return fail("KMSInvalidStateException")
		}
		sc := r.s.res.Scenario
		k.policy = set(k.owner, sc.AccountIDs(k.owner, ev.AllowAccounts))
	default:
		return fail("unknown action")
	}
	return re
}
