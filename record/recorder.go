package record

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
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

// Sent records that workload w sent a request intended at intended.
func (r *Recorder) Sent(w int, intended time.Time) {
	s := r.sec(intended)
	ws := r.ws[w]
	ws.mu.Lock()
	ws.requests++
	ws.at(s).Sent++
	ws.mu.Unlock()
	if r.obs != nil {
		r.obs.Sent(w, intended)
	}
}

// Dropped records an arrival of w that found the in-flight bound full.
func (r *Recorder) Dropped(w int, intended time.Time) {
	s := r.sec(intended)
	ws := r.ws[w]
	ws.mu.Lock()
	ws.dropped++
	ws.at(s).Dropped++
	ws.mu.Unlock()
	if r.obs != nil {
		r.obs.Dropped(w, intended)
	}
}

// CacheHit records an arrival of w served by the data-key cache.
func (r *Recorder) CacheHit(w int, intended time.Time) {
	s := r.sec(intended)
	ws := r.ws[w]
	ws.mu.Lock()
	ws.cacheHits++
	ws.at(s).CacheHits++
	ws.mu.Unlock()
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

// Progress is the live view of the last complete second, all workloads.
type Progress struct {
	Elapsed        time.Duration
	SentPerS       float64
	OKPerS         float64
	ThrottledShare float64 // throttled attempts / attempts in the last second
	P99Ms          float64
	Dropped        int64 // total so far
}

// Progress returns the live view at now: the second before the one now
// falls in, summed over all workloads. P99Ms is the highest workload p99
// of that second (percentiles of different workloads cannot be added).
// Progress closes the intervals of every second before now's.
func (r *Recorder) Progress(now time.Time) Progress {
	p := Progress{Elapsed: now.Sub(r.start)}
	if p.Elapsed < 0 {
		p.Elapsed = 0
	}
	s := r.sec(now)
	last := s - 1
	var attempts, thrAttempts int64
	for _, w := range r.ws {
		w.advance(s, r.startMs)
		// A recording goroutine may have rotated the interval and still be
		// flushing it; flush waits for that (logMu), so the p99 read below
		// is the closed second's.
		w.flush(r.startMs)
		w.mu.Lock()
		p.Dropped += w.dropped
		if last >= 0 && last < len(w.series) {
			sec := &w.series[last]
			p.SentPerS += float64(sec.Sent)
			p.OKPerS += float64(sec.OK)
			attempts += sec.Attempts
			thrAttempts += sec.ThrottledAttempts
			if sec.P99Ms > p.P99Ms {
				p.P99Ms = sec.P99Ms
			}
		}
		w.mu.Unlock()
	}
	if attempts > 0 {
		p.ThrottledShare = float64(thrAttempts) / float64(attempts)
	}
	return p
}

// Finish closes the window at end and returns each workload's totals, in
// the order given to NewRecorder.
//
// Every open interval is closed. Rates are per second of the window
// (end - start), as SetRates computes them. The series
// covers every second of the window, and later seconds in which late
// completions finished. Attempts is the number of recorded attempts, or,
// when no attempt was recorded, the sum of the attempts reported to Done.
//
// Finish is meant to be called once, after all recording calls; a second
// call returns the first call's results.
func (r *Recorder) Finish(end time.Time) []report.Workload {
	dur := end.Sub(r.start).Seconds()
	endSec := 0
	if dur > 0 {
		endSec = int(math.Ceil(dur - 1e-9))
	}
	if endSec > maxSeconds {
		endSec = maxSeconds
	}
	out := make([]report.Workload, len(r.ws))
	for i, w := range r.ws {
		w.mu.Lock()
		if w.finished {
			out[i] = copyWorkload(*w.finishResult)
			w.mu.Unlock()
			continue
		}
		target := endSec
		if w.curSec >= target && w.cur.TotalCount() > 0 {
			target = w.curSec + 1
		}
		w.mu.Unlock()
		w.advance(target, r.startMs)

		w.mu.Lock()
		n := endSec
		if w.lastSeriesSec+1 > n {
			n = w.lastSeriesSec + 1
		}
		wl := w.result(dur, n)
		w.finished = true
		w.finishResult = &wl
		out[i] = copyWorkload(wl)
		w.mu.Unlock()
	}
	return out
}

// result builds the workload's totals. Called with w.mu held.
func (w *wstate) result(dur float64, n int) report.Workload {
	wl := report.Workload{
		Name:              w.info.Name,
		Operation:         w.info.Operation,
		Key:               w.info.Key,
		Caller:            w.info.Caller,
		CallerAccount:     w.info.CallerAccount,
		Team:              w.info.Team,
		Region:            w.info.Region,
		Bucket:            w.info.Bucket,
		TargetPerS:        w.info.TargetPerS,
		Requests:          w.requests,
		OK:                w.ok,
		ThrottledRequests: w.throttledReqs,
		Attempts:          w.attempts,
		ThrottledAttempts: w.throttledAttempts,
		Errors:            make(map[string]int64, len(w.errors)),
		Dropped:           w.dropped,
		CacheHits:         w.cacheHits,
		LatencyMs:         percentiles(w.lat),
		ServiceMs:         percentiles(w.svc),
	}
	if wl.Attempts == 0 {
		wl.Attempts = w.doneAttempts
	}
	if len(w.elsewhere) > 0 {
		wl.BucketAttempts = map[string]report.BucketAttempts{}
		for name, b := range w.elsewhere {
			wl.BucketAttempts[name] = *b
		}
		splitBuckets(&wl)
	}
	for k, v := range w.errors {
		wl.Errors[k] = v
	}
	if enc, err := w.lat.Encode(hdr.V2CompressedEncodingCookieBase); err == nil {
		wl.Histogram = string(enc)
	}
	wl.Series = make([]report.Second, n)
	copy(wl.Series, w.series)
	for i := range wl.Series {
		wl.Series[i].T = i
	}
	wl.SetRates(dur)
	for k, v := range w.failedBySec {
		wl.FailedBySecond = append(wl.FailedBySecond, report.SecondCode{T: k.sec, Code: k.code, Count: v})
	}
	sort.Slice(wl.FailedBySecond, func(i, j int) bool {
		a, b := wl.FailedBySecond[i], wl.FailedBySecond[j]
		if a.T != b.T {
			return a.T < b.T
		}
		return a.Code < b.Code
	})
	return wl
}

// copyWorkload returns wl with its maps and slices copied.
func copyWorkload(wl report.Workload) report.Workload {
	errs := make(map[string]int64, len(wl.Errors))
	for k, v := range wl.Errors {
		errs[k] = v
	}
	wl.Errors = errs
	wl.Series = append([]report.Second(nil), wl.Series...)
	wl.FailedBySecond = append([]report.SecondCode(nil), wl.FailedBySecond...)
	if wl.BucketAttempts != nil {
		ba := make(map[string]report.BucketAttempts, len(wl.BucketAttempts))
		for k, v := range wl.BucketAttempts {
			ba[k] = v
		}
		wl.BucketAttempts = ba
	}
	return wl
}

// percentiles reads the standard percentiles of h (microseconds) in ms.
func percentiles(h *hdr.Histogram) report.Percentiles {
	if h.TotalCount() == 0 {
		return report.Percentiles{}
	}
	return report.Percentiles{
		P50:  usToMs(h.ValueAtQuantile(50)),
		P90:  usToMs(h.ValueAtQuantile(90)),
		P99:  usToMs(h.ValueAtQuantile(99)),
		P999: usToMs(h.ValueAtQuantile(99.9)),
		Max:  usToMs(h.Max()),
	}
}

// WriteHlog writes workload w's 1-second interval histograms in the
// HdrHistogram interval-log format. Call after Finish and before Close.
//
// The log has the usual header (format version, start time, base time,
// legend) and one line per second of the window, with timestamps relative
// to the start. Values are microseconds; the Interval_Max column is written
// with the log writer's default unit ratio (1e6), so it reads in seconds.
func (r *Recorder) WriteHlog(w int, out io.Writer) error {
	ws := r.ws[w]
	ws.logMu.Lock()
	defer ws.logMu.Unlock()
	if ws.logErr != nil {
		return ws.logErr
	}
	lw := hdr.NewHistogramLogWriter(out)
	for _, f := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(r.startMs) },
		func() error { return lw.OutputBaseTime(r.baseMs()) },
		func() error {
			return lw.OutputComment(fmt.Sprintf("[kmsload workload %q: latency from intended send time, microseconds, 1-second intervals]", ws.info.Name))
		},
		lw.OutputLegend,
	} {
		if err := f(); err != nil {
			return fmt.Errorf("record: write hlog header: %w", err)
		}
	}
	if err := ws.log.writeTo(out); err != nil {
		return fmt.Errorf("record: write hlog of %s: %w", ws.info.Name, err)
	}
	return nil
}

// spoolMemBytes is how much of a workload's interval log is kept in
// memory; beyond it the log goes to a temporary file.
const spoolMemBytes = 256 << 10

// errLogClosed is returned by the interval log after Recorder.Close.
var errLogClosed = errors.New("recorder closed")

// logSpool is an interval log: in memory up to spoolMemBytes, then in a
// temporary file. When the file cannot be created the log stays in
// memory. Not safe for concurrent use (wstate.logMu guards it).
type logSpool struct {
	mem    []byte
	f      *os.File // nil while the log is in memory
	name   string   // file to remove on close; "" when already removed
	size   int64    // bytes written to f
	noFile bool     // creating the file failed
	closed bool
}

// write appends p to the log.
func (s *logSpool) write(p []byte) error {
	if s.closed {
		return errLogClosed
	}
	if s.f == nil {
		if s.noFile || len(s.mem)+len(p) <= spoolMemBytes || s.spill() != nil {
			s.mem = append(s.mem, p...)
			return nil
		}
	}
	n, err := s.f.Write(p)
	s.size += int64(n)
	return err
}

// spill moves the log to a new temporary file. On failure the log stays
// in memory for good.
func (s *logSpool) spill() error {
	f, err := os.CreateTemp("", "kmsload-hlog-*")
	if err != nil {
		s.noFile = true
		return err
	}
	name := f.Name()
	// Unix removes an open file's name and keeps its data until it is
	// closed: the file then disappears with the process, however it ends.
	if os.Remove(name) == nil {
		name = ""
	}
	if _, err := f.Write(s.mem); err != nil {
		_ = f.Close()
		if name != "" {
			_ = os.Remove(name)
		}
		s.noFile = true
		return err
	}
	s.f, s.name, s.size = f, name, int64(len(s.mem))
	s.mem = nil
	return nil
}

// writeTo copies the whole log to w.
func (s *logSpool) writeTo(w io.Writer) error {
	if s.closed {
		return errLogClosed
	}
	if s.f == nil {
		_, err := w.Write(s.mem)
		return err
	}
	_, err := io.Copy(w, io.NewSectionReader(s.f, 0, s.size))
	return err
}

// close drops the log and removes its file.
func (s *logSpool) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.mem = nil
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if s.name != "" {
		if rerr := os.Remove(s.name); err == nil {
			err = rerr
		}
	}
	s.f = nil
	return err
}

// histEncoder writes histograms in HdrHistogram's V2 compressed encoding,
// base64 (as hdr.Histogram.Encode(hdr.V2CompressedEncodingCookieBase)
// does, byte for byte), reusing its buffers and its zlib compressor: a new
// compressor at the encoding's best compression allocates about 800 KB,
// and Encode builds one per histogram. The recorder encodes one interval
// histogram per workload per second; BenchmarkHistEncode measured a busy
// interval at 1.04 ms, 860 KB and 3,006 allocations through Encode and
// 0.21 ms, one allocation (the counts' export) here, on 2 cores.
type histEncoder struct {
	zw   *zlib.Writer
	raw  []byte       // uncompressed payload
	z    bytes.Buffer // compressed payload
	bin  []byte       // cookie, length and compressed payload
	b64  []byte       // base64 of bin
	line []byte       // a log line
}

func newHistEncoder() *histEncoder {
	e := &histEncoder{}
	e.zw, _ = zlib.NewWriterLevel(&e.z, zlib.BestCompression) // a valid level
	return e
}

// sharedEncoder is a recorder's one histogram encoder, used by each
// workload's flush in turn, so that a recorder holds one compressor however
// many goroutines record. It is created on first use and dropped by Close.
// Lock order: wstate.logMu, sharedEncoder.mu, wstate.mu.
type sharedEncoder struct {
	mu sync.Mutex
	e  *histEncoder
}

// lock returns the encoder, locked until unlock.
func (s *sharedEncoder) lock() *histEncoder {
	s.mu.Lock()
	if s.e == nil {
		s.e = newHistEncoder()
	}
	return s.e
}

func (s *sharedEncoder) unlock() { s.mu.Unlock() }

// release drops the encoder (a later use creates another).
func (s *sharedEncoder) release() {
	s.mu.Lock()
	s.e = nil
	s.mu.Unlock()
}

// V2 encoding cookies (hdrhistogram-go's encodingCookie and
// compressedEncodingCookie).
const (
	v2Cookie           = hdr.V2EncodingCookieBase | 0x10
	v2CompressedCookie = hdr.V2CompressedEncodingCookieBase | 0x10
)

// encode returns h's encoding, valid until the next call, and h's
// maximum value (hdr.Histogram.Max).
func (e *histEncoder) encode(h *hdr.Histogram) ([]byte, int64) {
	snap := h.Export()
	counts := snap.Counts
	limit := len(counts)
	for limit > 0 && counts[limit-1] == 0 {
		limit--
	}
	var maxV int64
	if limit > 0 {
		maxV = h.Max()
	}
	if limit == 0 {
		limit = 1 // an empty histogram encodes its first (zero) count
	}
	ratio := snap.IntegerToDoubleConversionRatio
	if ratio == 0 {
		ratio = 1
	}
	raw := binary.BigEndian.AppendUint32(e.raw[:0], uint32(v2Cookie))
	raw = append(raw, 0, 0, 0, 0)               // payload length, set below
	raw = binary.BigEndian.AppendUint32(raw, 0) // normalizing index offset
	raw = binary.BigEndian.AppendUint32(raw, uint32(int32(snap.SignificantFigures)))
	raw = binary.BigEndian.AppendUint64(raw, uint64(snap.LowestTrackableValue))
	raw = binary.BigEndian.AppendUint64(raw, uint64(snap.HighestTrackableValue))
	raw = binary.BigEndian.AppendUint64(raw, math.Float64bits(ratio))
	head := len(raw)
	for i := 0; i < limit; {
		c := counts[i]
		i++
		if c == 0 {
			zeros := int64(1)
			for i < limit && counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				c = -zeros
			}
		}
		raw = appendZigZag(raw, c)
	}
	binary.BigEndian.PutUint32(raw[4:8], uint32(len(raw)-head))
	e.raw = raw

	e.z.Reset()
	e.zw.Reset(&e.z)
	_, _ = e.zw.Write(raw) // a bytes.Buffer does not fail
	_ = e.zw.Close()
	bin := binary.BigEndian.AppendUint32(e.bin[:0], uint32(v2CompressedCookie))
	bin = binary.BigEndian.AppendUint32(bin, uint32(e.z.Len()))
	bin = append(bin, e.z.Bytes()...)
	e.bin = bin
	e.b64 = base64.StdEncoding.AppendEncode(e.b64[:0], bin)
	return e.b64, maxV
}

// appendZigZag appends v in the ZigZag LEB128 form of the V2 encoding (at
// most 9 bytes, the last one holding 8 bits).
func appendZigZag(b []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for range 8 {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// emptyEncoding returns the encoding of an empty histogram of the
// recorder's geometry.
var emptyEncoding = sync.OnceValue(func() []byte {
	enc, _ := newHistEncoder().encode(newHist())
	return enc
})

// appendLogLine appends an interval-log line as hdr.HistogramLogWriter's
// OutputIntervalHistogram writes it: start and length in seconds from the
// base time, the maximum in seconds (microseconds / 1e6), the encoding.
func appendLogLine(b []byte, baseMs, startMs, endMs, maxUs int64, enc []byte) []byte {
	start := (float64(startMs) - float64(baseMs)) / 1000.0
	end := (float64(endMs) - float64(baseMs)) / 1000.0
	b = strconv.AppendFloat(b, start, 'f', 6, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, end-start, 'f', 6, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, float64(maxUs)/hdr.MsToNsRatio, 'f', 6, 64)
	b = append(b, ',')
	b = append(b, enc...)
	return append(b, '\n')
}
