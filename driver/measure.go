package driver

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/report"
)

// runWorkload is a workload during one measured window.
type runWorkload struct {
	w      *workload
	ri     int             // index in the window's recorder
	calls  map[string]call // Region -> bound request
	region atomic.Pointer[string]
	sem    chan struct{}
	cache  *KeyCache
	g      *guard
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
	if d.opts.BeforeMeasure != nil {
		d.opts.BeforeMeasure()
	}
	rws := make([]*runWorkload, len(idxs))
	infos := make([]report.WorkloadInfo, len(idxs))
	clients := map[clientKey]*kms.Client{} // shared clients of this window
	for ri, i := range idxs {
		w := d.wls[i]
		rw := &runWorkload{w: w, ri: ri, calls: map[string]call{}, sem: make(chan struct{}, w.inFlight), g: d.g}
		for _, region := range w.regions {
			c, err := d.windowClient(ctx, clients, w, region)
			if err != nil {
				return nil, err
			}
			rw.calls[region] = w.newCall(c, w.keyRef(region, prov.keyIDs[w.keyName]), prov.payloads[i], prov.pools[i])
		}
		region := w.region
		rw.region.Store(&region)
		if dc := w.spec.DataKeyCache; dc != nil {
			rw.cache = NewKeyCache(dc.MaxAge, dc.MaxUses)
		}
		rws[ri] = rw
		infos[ri] = w.info()
		infos[ri].BucketQuotaPerS = d.quotaPerS(w.bucket.String())
	}
	var obs report.Observer
	if d.opts.Observer != nil {
		obs = d.opts.Observer(windowName(phase, rws), infos)
	}

	start := d.waitStart(ctx)
	rec := report.NewRecorder(start, infos)
	rec.SetObserver(obs)
	winCtx, stop := context.WithDeadline(ctx, start.Add(d.duration))
	defer stop()
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()

	var inflight, loops sync.WaitGroup
	for _, rw := range rws {
		loops.Go(func() {
			defer d.g.recovered("the arrival loop of workload", rw.w.spec.Name)
			d.schedule(ctx, reqCtx, rec, rw, start, &inflight)
		})
	}
	win := &window{start: start, hlog: map[string][]byte{}}
	loops.Go(func() {
		defer d.g.recovered("the events loop", "")
		win.events, win.touched = d.runEvents(winCtx, prov, rws, start)
	})
	if d.opts.Progress != nil {
		loops.Go(func() {
			defer d.g.recovered("the progress loop", "")
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
	end := start.Add(d.duration)
	if ctx.Err() != nil && stopped.Before(end) {
		win.partial = true
		end = stopped
	}
	win.elapsed = end.Sub(start)

	drained := make(chan struct{})
	go func() { inflight.Wait(); close(drained) }()
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
			d.logf("%s: hlog of %s: %v", phase, rw.w.spec.Name, err)
			continue
		}
		win.hlog[rw.w.spec.Name] = buf.Bytes()
	}
	return win, nil
}

// windowName names a measured window for observers: "combined", or
// "isolated:NAME" for a workload measured alone.
func windowName(phase string, rws []*runWorkload) string {
	if phase == "combined" || len(rws) != 1 {
		return phase
	}
	return "isolated:" + rws[0].w.spec.Name
}

// schedule is the arrival loop of one workload: it waits for each intended
// time (dispatching at once when behind, so late arrivals catch up and are
// never skipped) until the arrivals intended before the end of the window
// are done or ctx is cancelled.
func (d *Driver) schedule(ctx, reqCtx context.Context, rec *report.Recorder, rw *runWorkload, start time.Time, inflight *sync.WaitGroup) {
	arr, err := NewSharedArrival(rw.w.spec, d.scale, d.seed, d.opts.Share)
	if err != nil { // checked by New
		return
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for n := int64(0); ; n++ {
		at, ok := arr.Next(n)
		if !ok || at >= d.duration {
			return
		}
		intended := start.Add(at)
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		rw.arrive(reqCtx, rec, intended, inflight)
	}
}

// arrive handles one arrival: served by the data-key cache, dropped when
// the in-flight bound is full, or sent on its own goroutine.
func (rw *runWorkload) arrive(reqCtx context.Context, rec *report.Recorder, intended time.Time, inflight *sync.WaitGroup) {
	if rw.cache != nil && rw.cache.Use(intended) {
		rec.CacheHit(rw.ri, intended)
		return
	}
	select {
	case rw.sem <- struct{}{}:
	default:
		rec.Dropped(rw.ri, intended)
		return
	}
	rec.Sent(rw.ri, intended)
	region := *rw.region.Load()
	c := rw.calls[region]
	inflight.Go(func() {
		defer rw.g.recovered("a request of workload", rw.w.spec.Name)
		defer func() { <-rw.sem }()
		t := &tracker{rec: rec, w: rw.ri, bucket: rw.w.bucketIn(region)}
		err := c(context.WithValue(reqCtx, trackerKey{}, t))
		done := time.Now()
		o, code := Classify(err)
		rec.Done(rw.ri, intended, done, t.attempts, o, code)
		if err == nil && rw.cache != nil {
			rw.cache.Refresh(done)
		}
	})
}

// waitStart waits for the instant Options.Start gives (when set) and
// returns the window's start: that instant, or now when it has passed or
// ctx ended first.
func (d *Driver) waitStart(ctx context.Context) time.Time {
	if d.opts.Start == nil {
		return time.Now()
	}
	at := d.opts.Start()
	wait := time.Until(at)
	if wait <= 0 {
		return time.Now()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return time.Now()
	case <-ctx.Done():
		return time.Now()
	}
}
