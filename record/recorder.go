package record

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// Histogram geometry: latencies and service times are recorded in
// microseconds, from 1 us to 1 h, with 3 significant figures.
const (
	// HistLowestUs is the lowest discernible value, in microseconds.
	HistLowestUs = 1
	// HistHighestUs is the highest trackable value, in microseconds (1 h);
	// longer times are recorded as this value.
	HistHighestUs = int64(time.Hour / time.Microsecond)
	// HistSigFigs is the number of significant decimal digits kept.
	HistSigFigs = 3
)

// maxSeconds bounds the per-second series so that a wild timestamp cannot
// allocate an enormous slice: 31 days.
const maxSeconds = 31 * 24 * 3600

// Default error codes used when the caller passes an empty code.
const (
	codeThrottled = failure.CodeThrottling
	codeUnknown   = "Unknown"
)

// Outcome classifies an attempt or a request.
type Outcome uint8

// Outcomes.
const (
	OK        Outcome = iota // succeeded
	Throttled                // answered with a throttle (ThrottlingException, LimitExceeded)
	Failed                   // any other error
)

// String returns "ok", "throttled" or "failed".
func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Throttled:
		return "throttled"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// WorkloadInfo describes a workload to the recorder; it is copied into the
// results.
type WorkloadInfo struct {
	Name, Operation, Key, Caller, CallerAccount, Region, Bucket string
	// Team is who owns the workload (scenario.Workload.Team).
	Team       string
	TargetPerS float64
	// BucketQuotaPerS is the quota of Bucket per second, 0 when unknown.
	// The recorder does not use it; it is passed on for observers.
	BucketQuotaPerS float64
}

// InfoOf describes resolved workload w, whose intended rate at the run's
// scale is targetPerS, as the driver and the simulation record it.
func InfoOf(w scenario.ResolvedWorkload, targetPerS float64) WorkloadInfo {
	return WorkloadInfo{Name: w.Spec.Name, Operation: w.Spec.Operation, Key: w.Key.Name,
		Caller: w.Spec.Caller, CallerAccount: w.Caller.ID, Team: w.Spec.Team,
		Region: w.Region(), Bucket: w.Bucket().String(), TargetPerS: targetPerS}
}

// Observer sees every observation a Recorder records, with the same
// arguments, right after the recorder has counted it (see SetObserver).
// Its methods are called concurrently from the recording goroutines, so
// they must be safe for concurrent use, and cheap: they run on the request
// path. A *Recorder is itself an Observer.
type Observer interface {
	Sent(w int, intended time.Time)
	Dropped(w int, intended time.Time)
	CacheHit(w int, intended time.Time)
	Attempt(w int, sent time.Time, service time.Duration, o Outcome, code string)
	// Done receives the code the recorder counted: ThrottlingException or
	// Unknown in place of an empty code of a Throttled or Failed outcome.
	Done(w int, intended, done time.Time, attempts int, o Outcome, code string)
}

var _ Observer = (*Recorder)(nil)

// Recorder aggregates per-attempt and per-request observations of a run
// into HDR histograms and per-second series, with memory that does not grow
// with the number of requests. Safe for concurrent use.
//
// Each workload has its own mutex, held only to update a few counters and
// two histogram buckets, so recording allocates nothing (apart from the
// per-second series growing and the first use of a new error code or a new
// second with failures).
//
// Time is entirely the caller's: every method takes the relevant instants,
// and seconds are counted from the start given to NewRecorder. Latency
// histograms keep one interval histogram for the current completion second.
// When a completion (or Progress, or Finish) moves past that second, the
// interval is closed: its p99 goes into the series and it is appended to the
// workload's HdrHistogram interval log, then the histogram is reused. A
// completion stamped in a second that is already closed (a late
// completion) is counted in its own second of the series but its latency
// lands in the current interval.
//
// Per workload, memory is four histograms (about 190 KB each) and up to
// 256 KB of interval log, and the recorder has one histogram encoder
// (about 800 KB, mostly zlib's compressor, reused for every interval);
// what grows by the second is one Second of series (80 B) and, in seconds
// with failures, one failures-by-second entry per error code. The
// interval log (one compressed line per second, typically well under
// 1 KB) goes to a temporary file once it outgrows 256 KB; Close removes
// the files (where the system allows, a file is removed right after it is
// created and only kept open, so nothing is left behind even when the
// process dies).
//
// In every method, w is the workload's index in the slice given to
// NewRecorder; an index out of range panics.
type Recorder struct {
	start   time.Time
	startMs int64
	ws      []*wstate
	obs     Observer // nil: none
}

// SetObserver makes o see every observation recorded from now on (nil
// removes it). Call it before recording starts: it is not safe to call
// concurrently with the recording methods. Without an observer, recording
// costs one nil check more.
//
// A *Snapshotter is not called per observation: SetObserver attaches it to
// r, and its snapshots are read from r's own counters and closed intervals.
func (r *Recorder) SetObserver(o Observer) {
	if s, ok := o.(*Snapshotter); ok {
		s.attach(r)
		r.obs = nil
		return
	}
	r.obs = o
}

// wstate is one workload's state. Fields under mu are touched on the hot
// path; the interval log is written under logMu, outside mu.
type wstate struct {
	info WorkloadInfo

	mu       sync.Mutex
	lat, svc *hdr.Histogram
	cur      *hdr.Histogram // interval histogram of second curSec
	curSec   int
	free     []*hdr.Histogram // reset interval histograms ready for reuse
	pending  []closedInterval // closed, not yet logged, in second order
	spare    []closedInterval

	requests, ok, throttledReqs int64
	attempts, throttledAttempts int64
	elsewhere                   map[string]*report.BucketAttempts // attempts charged to buckets other than info.Bucket: another Region's, a key store's
	dropped, cacheHits          int64
	doneAttempts                int64
	errors                      map[string]int64
	failedBySec                 map[secCode]int64
	series                      []report.Second
	lastSeriesSec               int // highest second with data, -1 if none
	// dirtyFrom is the lowest second of the series changed since an
	// attached Snapshotter last read it (0 before its first read).
	dirtyFrom    int
	finished     bool
	finishResult *report.Workload

	logMu  sync.Mutex
	log    logSpool
	enc    *sharedEncoder // the recorder's, for all its workloads
	logErr error
	// logBaseMs is the interval log's base time (Recorder.baseMs).
	logBaseMs int64
	// With a Snapshotter attached (tap), flush also keeps each closed
	// interval that has completions, encoded, in closed until the
	// Snapshotter takes it.
	tap    bool
	closed []Interval
	tapErr error
}

// secCode keys failures by second and code.
type secCode struct {
	sec  int
	code string
}

// closedInterval is a closed second waiting to be logged; h is nil when no
// request completed in it.
type closedInterval struct {
	sec int
	h   *hdr.Histogram
}

func newHist() *hdr.Histogram {
	return hdr.New(HistLowestUs, HistHighestUs, HistSigFigs)
}

// NewRecorder returns a recorder for a measured window starting at start.
func NewRecorder(start time.Time, workloads []WorkloadInfo) *Recorder {
	r := &Recorder{start: start, startMs: start.UnixMilli(), ws: make([]*wstate, len(workloads))}
	enc := &sharedEncoder{}
	for i, info := range workloads {
		w := &wstate{
			info:          info,
			lat:           newHist(),
			svc:           newHist(),
			cur:           newHist(),
			errors:        make(map[string]int64),
			failedBySec:   make(map[secCode]int64),
			series:        make([]report.Second, 0, 128),
			lastSeriesSec: -1,
			logBaseMs:     r.baseMs(),
			enc:           enc,
		}
		r.ws[i] = w
	}
	// A recorder dropped without Close still closes (and removes) its
	// interval logs' temporary files.
	runtime.AddCleanup(r, closeLogs, append([]*wstate(nil), r.ws...))
	return r
}

// closeLogs closes the interval logs of ws and drops their encoder.
func closeLogs(ws []*wstate) {
	for _, w := range ws {
		w.logMu.Lock()
		_ = w.log.close()
		w.logMu.Unlock()
	}
	if len(ws) > 0 {
		ws[0].enc.release()
	}
}

// Close releases the workloads' interval logs and removes their temporary
// files. Call it once the logs have been written (WriteHlog), after
// recording has ended; WriteHlog fails afterwards. Closing again does
// nothing. A recorder that is dropped without Close releases its files
// when the garbage collector reclaims it.
func (r *Recorder) Close() error {
	var errs []error
	for _, w := range r.ws {
		w.logMu.Lock()
		if err := w.log.close(); err != nil {
			errs = append(errs, fmt.Errorf("record: interval log of %s: %w", w.info.Name, err))
		}
		w.logMu.Unlock()
	}
	if len(r.ws) > 0 {
		r.ws[0].enc.release()
	}
	return errors.Join(errs...)
}

// baseMs is the interval log's base time: the start truncated to a whole
// second, since the log's BaseTime line carries whole seconds only. Interval
// timestamps are relative to it, so they read back exactly.
func (r *Recorder) baseMs() int64 {
	return r.startMs - ((r.startMs%1000)+1000)%1000
}

// sec returns the second of the window that t falls in, clamped to
// [0, maxSeconds).
func (r *Recorder) sec(t time.Time) int {
	d := t.Sub(r.start)
	if d < 0 {
		return 0
	}
	s := int64(d / time.Second)
	if s >= maxSeconds {
		return maxSeconds - 1
	}
	return int(s)
}

// micros converts d to histogram units, clamped to the trackable range.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if us < 0 {
		return 0
	}
	if us > HistHighestUs {
		return HistHighestUs
	}
	return us
}

// at returns the series entry for second s, growing the series as needed.
// Called with w.mu held.
func (w *wstate) at(s int) *report.Second {
	for len(w.series) <= s {
		w.series = append(w.series, report.Second{T: len(w.series)})
	}
	if s > w.lastSeriesSec {
		w.lastSeriesSec = s
	}
	if s < w.dirtyFrom {
		w.dirtyFrom = s
	}
	return &w.series[s]
}

// arrival is what became of an arrival: sent as a request, dropped at the
// in-flight bound, or served by the data-key cache.
type arrival uint8

const (
	arrivalSent arrival = iota
	arrivalDropped
	arrivalCacheHit
)

// count counts an arrival of w intended at intended, in the workload's
// total and in its second of the series.
func (r *Recorder) count(w int, intended time.Time, a arrival) {
	s := r.sec(intended)
	ws := r.ws[w]
	ws.mu.Lock()
	sec := ws.at(s)
	switch a {
	case arrivalSent:
		ws.requests++
		sec.Sent++
	case arrivalDropped:
		ws.dropped++
		sec.Dropped++
	case arrivalCacheHit:
		ws.cacheHits++
		sec.CacheHits++
	}
	ws.mu.Unlock()
}

// Sent records that workload w sent a request intended at intended.
func (r *Recorder) Sent(w int, intended time.Time) {
	r.count(w, intended, arrivalSent)
	if r.obs != nil {
		r.obs.Sent(w, intended)
	}
}

// Dropped records an arrival of w that found the in-flight bound full.
func (r *Recorder) Dropped(w int, intended time.Time) {
	r.count(w, intended, arrivalDropped)
	if r.obs != nil {
		r.obs.Dropped(w, intended)
	}
}

// CacheHit records an arrival of w served by the data-key cache.
func (r *Recorder) CacheHit(w int, intended time.Time) {
	r.count(w, intended, arrivalCacheHit)
	if r.obs != nil {
		r.obs.CacheHit(w, intended)
	}
}

// Attempt records one attempt of w sent at sent, answered after service.
// code is the error code ("" on success). Attempts are counted in the
// second they were sent; service is recorded in the service-time
// histogram whatever the outcome.
func (r *Recorder) Attempt(w int, sent time.Time, service time.Duration, o Outcome, code string) {
	s := r.sec(sent)
	us := micros(service)
	ws := r.ws[w]
	ws.mu.Lock()
	_ = ws.svc.RecordValue(us) // in range by construction
	ws.attempts++
	sec := ws.at(s)
	sec.Attempts++
	if o == Throttled {
		ws.throttledAttempts++
		sec.ThrottledAttempts++
	}
	ws.mu.Unlock()
	if r.obs != nil {
		r.obs.Attempt(w, sent, service, o, code)
	}
}

// Charge names the quota buckets one attempt was checked against, in the
// order the quota checks them, and which of them throttled it.
type Charge struct {
	// Bucket is the caller's class (or API) bucket in the Region the
	// attempt went to: after a shift-traffic event, another Region's
	// bucket than the workload's own. "" is the workload's own bucket.
	Bucket string
	// Store is the bucket of the custom key store holding the key, checked
	// after Bucket; "" when the key is in none.
	Store string
	// ByStore tells that a throttled attempt was throttled by Store, not
	// by Bucket. A throttle whose bucket the target did not say counts
	// against Bucket.
	ByStore bool
	// StoreWeight is how much of Store's quota the attempt asks
	// (quota.Config.StoreWeight); 0 counts as 1.
	StoreWeight float64
}

// ChargeOf is the charge of attempts checked against the class or API
// bucket first and, when hasStore, the custom key store bucket store (as
// quota.BucketsOf names them).
func ChargeOf(first, store quota.BucketKey, hasStore bool) Charge {
	c := Charge{Bucket: first.String()}
	if hasStore {
		c.Store = store.String()
	}
	return c
}

// AttemptIn records one attempt of w, as Attempt does, charged to the
// buckets of c: the attempt counts in Bucket, and in Store unless Bucket
// throttled it (the quota stops at the first full bucket); it counts as
// throttled only in the bucket that throttled it. Attempts in the
// workload's own bucket alone (WorkloadInfo.Bucket, no store) cost nothing
// more than Attempt.
func (r *Recorder) AttemptIn(w int, c Charge, sent time.Time, service time.Duration, o Outcome, code string) {
	r.Attempt(w, sent, service, o, code)
	ws := r.ws[w]
	moved := c.Bucket != "" && c.Bucket != ws.info.Bucket
	if !moved && c.Store == "" {
		return
	}
	throttled := o == Throttled
	byStore := throttled && c.ByStore && c.Store != ""
	ws.mu.Lock()
	if moved {
		ws.chargeElsewhere(c.Bucket, throttled && !byStore, 0)
	}
	if c.Store != "" && (!throttled || byStore) {
		ws.chargeElsewhere(c.Store, byStore, max(c.StoreWeight, 1))
	}
	ws.mu.Unlock()
}

// chargeElsewhere counts an attempt in bucket, another than the workload's
// own, of weight (0: a class bucket's, where weight is not counted);
// ws.mu is held.
func (ws *wstate) chargeElsewhere(bucket string, throttled bool, weight float64) {
	if ws.elsewhere == nil {
		ws.elsewhere = map[string]*report.BucketAttempts{}
	}
	b := ws.elsewhere[bucket]
	if b == nil {
		b = &report.BucketAttempts{}
		ws.elsewhere[bucket] = b
	}
	b.Attempts++
	b.Weight += weight
	if throttled {
		b.Throttled++
	}
}

// Done records the final outcome of a request of w intended at intended
// and finished at done after attempts attempts. code is the final error
// code ("" on success).
//
// Every finished request's latency (done - intended, whatever the outcome)
// goes into the latency histogram and into the interval of its completion
// second. A Throttled outcome means the request finally failed with a
// throttle code (ThrottlingException when code is empty); any other error,
// QuotaExceededError included, is Failed. Both are counted in Errors by
// code.
func (r *Recorder) Done(w int, intended, done time.Time, attempts int, o Outcome, code string) {
	s := r.sec(done)
	us := micros(done.Sub(intended))
	ws := r.ws[w]
	ws.mu.Lock()
	rotated := false
	if s > ws.curSec {
		ws.rotate(s)
		rotated = true
	}
	_ = ws.lat.RecordValue(us) // in range by construction
	_ = ws.cur.RecordValue(us)
	ws.doneAttempts += int64(attempts)
	sec := ws.at(s)
	switch o {
	case OK:
		ws.ok++
		sec.OK++
	case Throttled:
		if code == "" {
			code = codeThrottled
		}
		ws.throttledReqs++
		ws.errors[code]++
		sec.Throttled++
	default:
		if code == "" {
			code = codeUnknown
		}
		ws.errors[code]++
		sec.Failed++
		ws.failedBySec[secCode{s, code}]++
	}
	ws.mu.Unlock()
	if r.obs != nil {
		r.obs.Done(w, intended, done, attempts, o, code)
	}
	if rotated {
		ws.flush(r.startMs)
	}
}

// rotate closes every interval before second s and makes s current.
// Called with w.mu held.
func (w *wstate) rotate(s int) {
	for c := w.curSec; c < s; c++ {
		ci := closedInterval{sec: c}
		if c == w.curSec && w.cur.TotalCount() > 0 {
			ci.h = w.cur
			if n := len(w.free); n > 0 {
				w.cur = w.free[n-1]
				w.free = w.free[:n-1]
			} else {
				w.cur = newHist()
			}
		}
		w.pending = append(w.pending, ci)
	}
	w.curSec = s
}

// flush logs the closed intervals in order and stores their p50 and p99
// in the series. It runs outside w.mu so that encoding does not hold up
// recording; logMu keeps the log in second order.
func (w *wstate) flush(startMs int64) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	w.mu.Lock()
	p := w.pending
	w.pending, w.spare = w.spare, nil
	w.mu.Unlock()
	if len(p) == 0 {
		w.mu.Lock()
		w.spare = p
		w.mu.Unlock()
		return
	}
	e := w.enc.lock()
	defer w.enc.unlock()
	for i := range p {
		ci := &p[i]
		var p50, p99 float64
		enc, maxUs := emptyEncoding(), int64(0)
		if ci.h != nil {
			p50, p99 = usToMs(ci.h.ValueAtQuantile(50)), usToMs(ci.h.ValueAtQuantile(99))
			enc, maxUs = e.encode(ci.h)
		}
		from := startMs + int64(ci.sec)*1000
		e.line = appendLogLine(e.line[:0], w.logBaseMs, from, from+1000, maxUs, enc)
		if err := w.log.write(e.line); err != nil && w.logErr == nil {
			w.logErr = fmt.Errorf("record: interval log of %s second %d: %w", w.info.Name, ci.sec, err)
		}
		if w.tap && ci.h != nil {
			w.closed = append(w.closed, Interval{T: ci.sec, Histogram: string(enc)})
		}
		if ci.h != nil {
			w.mu.Lock()
			sec := w.at(ci.sec)
			sec.P50Ms, sec.P99Ms = p50, p99
			w.mu.Unlock()
		}
	}
	w.mu.Lock()
	for i := range p {
		if p[i].h != nil {
			p[i].h.Reset()
			w.free = append(w.free, p[i].h)
			p[i].h = nil
		}
	}
	w.spare = p[:0]
	w.mu.Unlock()
}

// advance closes the intervals before second s.
func (w *wstate) advance(s int, startMs int64) {
	w.mu.Lock()
	rotated := false
	if s > w.curSec {
		w.rotate(s)
		rotated = true
	}
	w.mu.Unlock()
	if rotated {
		w.flush(startMs)
	}
}

func usToMs(us int64) float64 { return float64(us) / 1000 }
