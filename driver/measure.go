package driver

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/traffic"
)

// runWorkload is a workload during one measured window.
type runWorkload struct {
	w       *workload
	ri      int                      // index in the window's recorder
	calls   map[string]kmscall.Call  // Region -> bound request
	buckets map[string]*regionBucket // Region -> quota bucket charged
	region  atomic.Pointer[string]
	workers *workers
	cache   *traffic.KeyCache
	g       *guard.Guard
}

// window is the outcome of one measured window.
type window struct {
	start     time.Time
	elapsed   time.Duration
	partial   bool
	workloads []report.Workload
	events    []report.Event
	touched   []string // keys whose state or policy an event changed
	hlog      map[string][]byte
}

// measure runs one measured window with the workloads idxs. It returns
// when arrivals have stopped (end of the window or ctx cancelled) and
// in-flight requests have drained.
func (d *Driver) measure(ctx context.Context, prov *provisioned, idxs []int, phase string) (*window, error) {
	rws := make([]*runWorkload, len(idxs))
	infos := make([]record.WorkloadInfo, len(idxs))
	clients := map[clientKey]*kms.Client{} // shared clients of this window
	for ri, i := range idxs {
		w := d.wls[i]
		rw := &runWorkload{w: w, ri: ri, calls: map[string]kmscall.Call{}, buckets: map[string]*regionBucket{}, g: d.g}
		for _, region := range w.Regions {
			b, store, hasStore := w.Buckets(region)
			ch := record.ChargeOf(b, store, hasStore)
			if hasStore {
				ch.StoreWeight = d.opts.Quota.StoreWeight(w.Key.CustomKeyStoreType, w.Spec.Operation)
			}
			rw.buckets[region] = &regionBucket{key: b, charge: ch}
			c, err := d.windowClient(ctx, clients, w, region)
			if err != nil {
				return nil, err
			}
			rw.calls[region] = kmscall.New(&w.ResolvedWorkload, c, kmscall.KeyRef(&w.ResolvedWorkload, region, prov.keyIDs[w.Key.Name]), prov.payloads[i], prov.pools[i])
		}
		region := w.Region()
		rw.region.Store(&region)
		if dc := w.Spec.DataKeyCache; dc != nil {
			rw.cache = traffic.NewKeyCache(dc.MaxAge, dc.MaxUses)
		}
		rws[ri] = rw
		infos[ri] = w.info()
		infos[ri].BucketQuotaPerS = d.quotaPerS(w.Bucket().String())
	}
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	for _, rw := range rws {
		rw.workers = newWorkers(rw.w.MaxInFlight, func(r request) { rw.send(reqCtx, r) })
	}
	if d.opts.Target.Kind != TargetAWS {
		warmUp(ctx, rws)
	}
	if d.opts.BeforeMeasure != nil {
		d.opts.BeforeMeasure()
	}
	var obs record.Observer
	if d.opts.Observer != nil {
		obs = d.opts.Observer(windowName(phase, rws), infos)
	}

	start := d.waitStart(ctx)
	rec := record.NewRecorder(start, infos)
	rec.SetObserver(obs)
	winCtx, stop := context.WithDeadline(ctx, start.Add(d.res.Duration))
	defer stop()

	var loops sync.WaitGroup
	for _, rw := range rws {
		loops.Go(func() {
			defer rw.workers.close()
			defer d.g.Recovered("the arrival loop of workload", rw.w.Spec.Name)
			d.schedule(ctx, rec, rw, start)
		})
	}
	win := &window{start: start, hlog: map[string][]byte{}}
	loops.Go(func() {
		defer d.g.Recovered("the events loop", "")
		win.events, win.touched = d.runEvents(winCtx, prov, rws, start)
	})
	if d.opts.Progress != nil {
		loops.Go(func() {
			defer d.g.Recovered("the progress loop", "")
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-winCtx.Done():
					return
				case now := <-t.C:
					d.opts.Progress(phase, rec.Progress(now))
				}
			}
		})
	}
	loops.Wait()

	stopped := time.Now()
	end := start.Add(d.res.Duration)
	if ctx.Err() != nil && stopped.Before(end) {
		win.partial = true
		end = stopped
	}
	win.elapsed = end.Sub(start)

	drained := make(chan struct{})
	go func() {
		for _, rw := range rws {
			rw.workers.wait()
		}
		close(drained)
	}()
	t := time.NewTimer(d.drain)
	select {
	case <-drained:
	case <-t.C:
		d.logf("%s: drain timeout %v: cancelling in-flight requests", phase, d.drain)
		cancelReqs()
		<-drained
	}
	t.Stop()

	win.workloads = rec.Finish(end)
	for _, rw := range rws {
		var buf bytes.Buffer
		if err := rec.WriteHlog(rw.ri, &buf); err != nil {
			d.logf("%s: hlog of %s: %v", phase, rw.w.Spec.Name, err)
			continue
		}
		win.hlog[rw.w.Spec.Name] = buf.Bytes()
	}
	if err := rec.Close(); err != nil {
		d.logf("%s: %v", phase, err)
	}
	return win, nil
}

// Warm-up before a window: a workload at R requests/s starts with
// R/warmPerWorker workers and connections, between 1 and warmMaxWorkers
// (and its in-flight bound).
const (
	warmPerWorker  = 250 // requests/s per worker started before the window
	warmMaxWorkers = 256
)

// warmTimeout bounds the wait for warm-up answers: a target that does not
// answer is not waited for longer (a variable for tests).
var warmTimeout = 5 * time.Second

// warmUp sends each workload's request, unmeasured, through enough of its
// workers at once to carry the window's first milliseconds, so that the
// window does not start with every arrival starting a worker (and growing
// its stack through the SDK) and dialling a connection: at high rates that
// start-up queue fills the in-flight bound and drops arrivals that a warm
// driver sends on time. It runs before the window's quota model is armed
// (Options.BeforeMeasure), so the requests count against no quota;
// outcomes are ignored. Real AWS is not warmed: its requests cost money
// and count against real quotas. It waits for the answers up to
// warmTimeout, or until ctx ends; requests still out then hold their
// in-flight slots until answered or cancelled with the window's requests.
func warmUp(ctx context.Context, rws []*runWorkload) {
	var wg sync.WaitGroup
	for _, rw := range rws {
		n := min(max(int(rw.w.mean/warmPerWorker), 1), warmMaxWorkers, rw.w.MaxInFlight)
		wg.Add(n)
		for range n {
			rw.workers.dispatch(request{region: rw.w.Region(), warmed: &wg})
		}
	}
	answered := make(chan struct{})
	go func() { wg.Wait(); close(answered) }()
	t := time.NewTimer(warmTimeout)
	defer t.Stop()
	select {
	case <-answered:
	case <-ctx.Done():
	case <-t.C:
	}
}

// windowName names a measured window for observers: "combined", or
// "isolated:NAME" for a workload measured alone.
func windowName(phase string, rws []*runWorkload) string {
	if phase == "combined" || len(rws) != 1 {
		return phase
	}
	return "isolated:" + rws[0].w.Spec.Name
}

// shortWait is the longest wait for an arrival slept without watching for
// cancellation: a cancelled run stops its arrivals within it.
const shortWait = 10 * time.Millisecond

// schedule is the arrival loop of one workload: it waits for each intended
// time (dispatching at once when behind, so late arrivals catch up and are
// never skipped) until the arrivals intended before the end of the window
// are done or ctx is cancelled.
func (d *Driver) schedule(ctx context.Context, rec *record.Recorder, rw *runWorkload, start time.Time) {
	arr, err := traffic.NewSharedArrival(rw.w.Spec, d.res.Scale, d.res.Seed, d.opts.Share)
	if err != nil { // checked by New
		return
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for n := int64(0); ; n++ {
		at, ok := arr.Next(n)
		if !ok || at >= d.res.Duration {
			return
		}
		intended := start.Add(at)
		switch wait := time.Until(intended); {
		case wait >= shortWait:
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		case wait > 0:
			time.Sleep(wait) // no channel and select per arrival at high rates
			if ctx.Err() != nil {
				return
			}
		case ctx.Err() != nil:
			return
		}
		rw.arrive(rec, intended, at)
	}
}

// arrive handles one arrival: served by the data-key cache, dropped when
// the in-flight bound is full, or handed to one of the workload's workers.
func (rw *runWorkload) arrive(rec *record.Recorder, intended time.Time, at time.Duration) {
	if rw.cache != nil && rw.cache.Use(intended) {
		rec.CacheHit(rw.ri, intended)
		return
	}
	region := *rw.region.Load()
	if !rw.workers.dispatch(request{intended: intended, at: at, region: region, rec: rec}) {
		rec.Dropped(rw.ri, intended)
		return
	}
	rec.Sent(rw.ri, intended)
}

// request is one arrival handed to a worker, or a warm-up request.
type request struct {
	intended time.Time
	at       time.Duration // intended offset from the window's start
	region   string
	rec      *record.Recorder // where to record; nil for a warm-up request
	warmed   *sync.WaitGroup  // of a warm-up request: Done when answered
}

// send makes one request through the SDK and records its outcome; a
// warm-up request is sent unmeasured.
func (rw *runWorkload) send(reqCtx context.Context, r request) {
	defer rw.g.Recovered("a request of workload", rw.w.Spec.Name)
	if r.rec == nil {
		defer r.warmed.Done()
		_ = rw.calls[r.region](reqCtx)
		return
	}
	rec := r.rec
	t := &tracker{rec: rec, w: rw.ri, bucket: rw.buckets[r.region], workload: rw.w.Spec.Name, at: r.at}
	err := rw.calls[r.region](context.WithValue(reqCtx, trackerKey{}, t))
	done := time.Now()
	o, code := kmscall.Classify(err)
	rec.Done(rw.ri, r.intended, done, t.attempts, o, code)
	if err == nil && rw.cache != nil {
		rw.cache.Refresh(done)
	}
}

// workers runs one workload's requests on goroutines that outlive a
// request, so that each grows its stack through the SDK's deep middleware
// chain once rather than once per request. Workers start as arrivals need
// them, at most max, and every one of them holds an in-flight slot while
// it sends: max is the workload's in-flight bound. One goroutine at a time
// (the window's, then its arrival loop) calls dispatch and close.
//
// idle counts the receives workers have promised and no request has
// claimed yet. A worker promises its next receive before it gives back its
// slot, so every request sent finds a receiver already promised or starts
// one, and the number of workers never exceeds max.
type workers struct {
	slots chan struct{} // in-flight bound
	queue chan request  // capacity max: a request holds a slot until received and sent
	idle  atomic.Int64
	wg    sync.WaitGroup
	serve func(request)
}

func newWorkers(max int, serve func(request)) *workers {
	return &workers{slots: make(chan struct{}, max), queue: make(chan request, max), serve: serve}
}

// dispatch hands r to a worker, starting one when none is idle; it returns
// false, and sends nothing, when max requests are in flight.
func (ws *workers) dispatch(r request) bool {
	select {
	case ws.slots <- struct{}{}:
	default:
		return false
	}
	ws.queue <- r // never blocks: at most max requests hold slots
	if ws.idle.Add(-1) < 0 {
		ws.idle.Add(1)
		ws.wg.Go(ws.loop)
	}
	return true
}

// loop serves requests until close.
func (ws *workers) loop() {
	for {
		r, ok := ws.next()
		if !ok {
			return
		}
		ws.serve(r)
		ws.idle.Add(1)
		<-ws.slots
	}
}

// parkPad is the stack a worker keeps in use while it waits for its next
// request. The garbage collector halves the stack of a goroutine that uses
// less than a quarter of it, and a worker waiting in a shallow frame would
// lose, at every cycle, the stack that the SDK's middleware chain grew,
// and copy it back, frame by frame, in its next request. A request through
// the SDK and the plain-HTTP client runs in a stack of 32 KiB (no stack
// copying is left in a CPU profile of a run with this pad), so a quarter
// of that stays in use; a worker whose stack grew larger still gives back
// what it does not use.
const parkPad = 8 << 10

// next waits for the next request (ok false after close) in a frame that
// holds parkPad bytes of stack.
//
//go:noinline
func (ws *workers) next() (r request, ok bool) {
	var pad [parkPad]byte
	r, ok = <-ws.queue
	keepStack(&pad)
	return r, ok
}

// keepStack keeps its argument, a stack array, in its caller's frame.
//
//go:noinline
func keepStack(*[parkPad]byte) {}

// close ends the workers once the requests handed to them are done;
// wait waits for that.
func (ws *workers) close() { close(ws.queue) }

// wait waits until every worker has ended (after close).
func (ws *workers) wait() { ws.wg.Wait() }

// waitStart waits for the instant Options.Start gives (when set) and
// returns the window's start: that instant, or now when it has passed or
// ctx ended first.
func (d *Driver) waitStart(ctx context.Context) time.Time {
	start := d.opts.Start
	if start == nil {
		if !d.opts.WindowPhase.Fixed {
			return time.Now()
		}
		start = func() time.Time { return d.opts.WindowPhase.Next(time.Now().Add(5 * time.Millisecond)) }
	}
	at := start()
	wait := time.Until(at)
	if wait <= 0 {
		return time.Now()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		// The timer fires a little late: the window still starts at the
		// instant given (its first arrivals catch up), so that its quota
		// seconds are those another process was told.
		return at
	case <-ctx.Done():
		return time.Now()
	}
}
