package record

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
)

// Snapshot is what a Recorder observed since the previous Snapshot of its
// Snapshotter, for every workload: the form in which a run's observations
// travel between machines (see cluster/). Snapshots of one run add up
// exactly: a Merge given every snapshot once gives the same counts and
// histograms as the recorders that took them, added.
type Snapshot struct {
	// Through is the number of whole seconds of the window that had ended
	// when the snapshot was taken: observations of later seconds may still
	// come in later snapshots.
	Through int `json:"through"`
	// Workloads holds one Delta per workload, in the Snapshotter's order.
	Workloads []Delta `json:"workloads"`
}

// Delta is one workload's observations over one snapshot interval.
type Delta struct {
	Info              WorkloadInfo     `json:"info"`
	Requests          int64            `json:"requests,omitempty"`
	OK                int64            `json:"ok,omitempty"`
	ThrottledRequests int64            `json:"throttled_requests,omitempty"`
	Attempts          int64            `json:"attempts,omitempty"`
	ThrottledAttempts int64            `json:"throttled_attempts,omitempty"`
	DoneAttempts      int64            `json:"done_attempts,omitempty"`
	Dropped           int64            `json:"dropped,omitempty"`
	CacheHits         int64            `json:"cache_hits,omitempty"`
	Errors            map[string]int64 `json:"errors,omitempty"`
	// BucketAttempts are the attempts charged to quota buckets other than
	// Info.Bucket (Recorder.AttemptIn); the rest of Attempts went to
	// Info.Bucket.
	BucketAttempts map[string]report.BucketAttempts `json:"bucket_attempts,omitempty"`
	// Seconds are the changes of the per-second series (P50Ms and P99Ms
	// unused), only for seconds that changed, in second order.
	Seconds        []report.Second     `json:"seconds,omitempty"`
	FailedBySecond []report.SecondCode `json:"failed_by_second,omitempty"`
	// Intervals are the recorder's 1-second latency intervals
	// (microseconds, from the intended time) closed since the previous
	// snapshot, in second order: each holds the requests that finished
	// in its second (a late completion in the interval that was open, as
	// in the recorder's interval log).
	Intervals []Interval `json:"intervals,omitempty"`
	// Service is the histogram of the attempts' service times
	// (microseconds) in the interval; "" when there were none.
	Service string `json:"service,omitempty"`
}

// Interval is the latency histogram of one second's completions, HDR V2
// compressed, base64 (the encoding of results.json and .hlog files).
type Interval struct {
	T         int    `json:"t"`
	Histogram string `json:"histogram"`
}

// Snapshotter hands over, as Snapshots, what a Recorder observed since the
// previous Snapshot. It counts nothing itself: set as a recorder's
// observer (Recorder.SetObserver; driver.Options.Observer does that), it
// is attached to the recorder and not called per observation, and each
// Snapshot reads the recorder's own counters, per-second series,
// per-bucket attempts and service-time histogram, and the 1-second
// latency intervals the recorder closed, and hands over what changed. It
// must be the recorder's observer itself: an observer that passes
// observations on to it gives it nothing. Seconds are the recorder's,
// counted from its start. Snapshot may run
// concurrently with the recording; one Snapshot runs at a time. Memory is
// bounded by one copy of what the recorder keeps.
type Snapshotter struct {
	rec  atomic.Pointer[Recorder]
	mu   sync.Mutex // one Snapshot at a time; guards prev
	prev []*handedOver
}

var _ Observer = (*Snapshotter)(nil)

// handedOver is what a Snapshotter has handed over of one workload: the
// recorder's cumulative state as of the previous Snapshot.
type handedOver struct {
	counts    Delta // counters only
	errors    map[string]int64
	elsewhere map[string]report.BucketAttempts
	series    []report.Second
	failed    map[secCode]int64
	svc       *hdr.Snapshot // nil until the first attempt
}

// NewSnapshotter returns a Snapshotter attached to no recorder: until a
// recorder takes it as its observer, its snapshots are empty.
func NewSnapshotter() *Snapshotter { return &Snapshotter{} }

// attach makes s read r; called by r.SetObserver before recording starts.
func (s *Snapshotter) attach(r *Recorder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prev = make([]*handedOver, len(r.ws))
	for i, w := range r.ws {
		s.prev[i] = &handedOver{errors: map[string]int64{}, elsewhere: map[string]report.BucketAttempts{}, failed: map[secCode]int64{}}
		w.logMu.Lock()
		w.tap = true
		w.logMu.Unlock()
	}
	s.rec.Store(r)
}

// Sent implements Observer; it is never called (see Snapshotter).
func (s *Snapshotter) Sent(int, time.Time) {}

// Dropped implements Observer; it is never called (see Snapshotter).
func (s *Snapshotter) Dropped(int, time.Time) {}

// CacheHit implements Observer; it is never called (see Snapshotter).
func (s *Snapshotter) CacheHit(int, time.Time) {}

// Attempt implements Observer; it is never called (see Snapshotter).
func (s *Snapshotter) Attempt(int, time.Time, time.Duration, Outcome, string) {}

// Done implements Observer; it is never called (see Snapshotter).
func (s *Snapshotter) Done(int, time.Time, time.Time, int, Outcome, string) {}

// Snapshot returns what the recorder observed since the previous call.
// now gives Snapshot.Through; unless the recorder's window is finished,
// Snapshot closes the latency intervals of every second before now's, as
// Recorder.Progress does, so that they travel in this snapshot. The last
// snapshot of a window is taken after Recorder.Finish: it holds the rest.
// Before the Snapshotter is attached, the snapshot has no workloads.
func (s *Snapshotter) Snapshot(now time.Time) (Snapshot, error) {
	r := s.rec.Load()
	if r == nil {
		return Snapshot{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	through := 0
	if d := now.Sub(r.start); d > 0 {
		through = int(min(int64(d/time.Second), maxSeconds))
	}
	out := Snapshot{Through: through, Workloads: make([]Delta, len(r.ws))}
	sec := r.sec(now)
	for i, w := range r.ws {
		d, err := s.prev[i].take(w, sec, r.startMs)
		if err != nil {
			return Snapshot{}, err
		}
		out.Workloads[i] = d
	}
	return out, nil
}

// take reads w's changes since p and makes them p's.
func (p *handedOver) take(w *wstate, sec int, startMs int64) (Delta, error) {
	w.mu.Lock()
	if !w.finished && sec > w.curSec {
		w.rotate(sec)
	}
	w.mu.Unlock()
	w.flush(startMs) // also waits for a flush under way elsewhere

	d := Delta{Info: w.info}
	w.mu.Lock()
	cur := Delta{
		Requests: w.requests, OK: w.ok, ThrottledRequests: w.throttledReqs,
		Attempts: w.attempts, ThrottledAttempts: w.throttledAttempts, DoneAttempts: w.doneAttempts,
		Dropped: w.dropped, CacheHits: w.cacheHits,
	}
	for k, v := range w.errors {
		if n := v - p.errors[k]; n != 0 {
			if d.Errors == nil {
				d.Errors = map[string]int64{}
			}
			d.Errors[k] = n
			p.errors[k] = v
		}
	}
	for k, b := range w.elsewhere {
		o := p.elsewhere[k]
		if n := b.Sub(o); n != (report.BucketAttempts{}) {
			if d.BucketAttempts == nil {
				d.BucketAttempts = map[string]report.BucketAttempts{}
			}
			d.BucketAttempts[k] = n
			p.elsewhere[k] = *b
		}
	}
	from := w.dirtyFrom
	for t := from; t < len(w.series); t++ {
		c := w.series[t]
		c.T, c.P50Ms, c.P99Ms = t, 0, 0
		for len(p.series) <= t {
			p.series = append(p.series, report.Second{T: len(p.series)})
		}
		if n := subSecond(c, p.series[t]); n != (report.Second{T: t}) {
			d.Seconds = append(d.Seconds, n)
			p.series[t] = c
		}
	}
	w.dirtyFrom = len(w.series)
	for k, v := range w.failedBySec {
		if k.sec < from { // a failure marks its second changed
			continue
		}
		if n := v - p.failed[k]; n != 0 {
			d.FailedBySecond = append(d.FailedBySecond, report.SecondCode{T: k.sec, Code: k.code, Count: n})
			p.failed[k] = v
		}
	}
	var svc *hdr.Snapshot
	if cur.Attempts != p.counts.Attempts {
		svc = w.svc.Export()
	}
	w.mu.Unlock()

	w.logMu.Lock()
	d.Intervals, w.closed = w.closed, nil
	err := w.tapErr
	w.logMu.Unlock()
	if err != nil {
		return Delta{}, err
	}

	d.Requests = cur.Requests - p.counts.Requests
	d.OK = cur.OK - p.counts.OK
	d.ThrottledRequests = cur.ThrottledRequests - p.counts.ThrottledRequests
	d.Attempts = cur.Attempts - p.counts.Attempts
	d.ThrottledAttempts = cur.ThrottledAttempts - p.counts.ThrottledAttempts
	d.DoneAttempts = cur.DoneAttempts - p.counts.DoneAttempts
	d.Dropped = cur.Dropped - p.counts.Dropped
	d.CacheHits = cur.CacheHits - p.counts.CacheHits
	p.counts = cur
	sortSecondCodes(d.FailedBySecond)
	if svc != nil {
		diff := *svc
		diff.Counts = slices.Clone(svc.Counts)
		if p.svc != nil {
			for i, c := range p.svc.Counts {
				diff.Counts[i] -= c
			}
		}
		enc, err := hdr.Import(&diff).Encode(hdr.V2CompressedEncodingCookieBase)
		if err != nil {
			return Delta{}, fmt.Errorf("record: snapshot of %s: service times: %w", w.info.Name, err)
		}
		d.Service = string(enc)
		p.svc = svc
	}
	return d, nil
}

// subSecond returns a - b, field by field (P50Ms and P99Ms zero, T of a).
func subSecond(a, b report.Second) report.Second {
	return report.Second{
		T: a.T, Sent: a.Sent - b.Sent, OK: a.OK - b.OK, Throttled: a.Throttled - b.Throttled,
		Failed: a.Failed - b.Failed, Attempts: a.Attempts - b.Attempts,
		ThrottledAttempts: a.ThrottledAttempts - b.ThrottledAttempts,
		Dropped:           a.Dropped - b.Dropped, CacheHits: a.CacheHits - b.CacheHits,
	}
}

func sortSecondCodes(s []report.SecondCode) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].T != s[j].T {
			return s[i].T < s[j].T
		}
		return s[i].Code < s[j].Code
	})
}

// Merge adds up snapshots from several sources (the agents of a
// distributed run) into one run's workloads. Every snapshot must be added
// once: Merge does not know which ones it has seen (the caller drops
// duplicates). Adding is commutative, so snapshots may come in any order.
// Not safe for concurrent use.
type Merge struct {
	order   []string // workload names, in first-seen order
	ws      map[string]*mergeWorkload
	sources map[string]map[string]*sourceTotals // source -> workload -> totals
}

// mergeWorkload is one workload across all sources.
type mergeWorkload struct {
	info      WorkloadInfo
	lat, svc  *hdr.Histogram
	intervals map[int]*hdr.Histogram
	secs      map[int]*report.Second
	failed    map[secCode]int64
}

// sourceTotals are one source's counters of one workload.
type sourceTotals struct {
	targetPerS float64
	counts     Delta
	errors     map[string]int64
	elsewhere  map[string]report.BucketAttempts
	lat        *hdr.Histogram
}

// NewMerge returns an empty Merge.
func NewMerge() *Merge {
	return &Merge{ws: map[string]*mergeWorkload{}, sources: map[string]map[string]*sourceTotals{}}
}

// Add adds one snapshot of source. On a decoding error nothing of the
// snapshot is added.
func (m *Merge) Add(source string, s Snapshot) error {
	type decoded struct {
		lat  []*hdr.Histogram
		svc  *hdr.Histogram
		tots *hdr.Histogram
	}
	dec := make([]decoded, len(s.Workloads))
	for i, d := range s.Workloads {
		dec[i].tots = newHist()
		for _, iv := range d.Intervals {
			h, err := hdr.Decode([]byte(iv.Histogram))
			if err != nil {
				return fmt.Errorf("record: merge %s second %d of %s: %w", d.Info.Name, iv.T, source, err)
			}
			dec[i].lat = append(dec[i].lat, h)
			dec[i].tots.Merge(h)
		}
		if d.Service != "" {
			h, err := hdr.Decode([]byte(d.Service))
			if err != nil {
				return fmt.Errorf("record: merge service times of %s from %s: %w", d.Info.Name, source, err)
			}
			dec[i].svc = h
		}
	}
	src := m.sources[source]
	if src == nil {
		src = map[string]*sourceTotals{}
		m.sources[source] = src
	}
	for i, d := range s.Workloads {
		w := m.workload(d.Info)
		for j, iv := range d.Intervals {
			h := w.intervals[iv.T]
			if h == nil {
				h = newHist()
				w.intervals[iv.T] = h
			}
			h.Merge(dec[i].lat[j])
		}
		w.lat.Merge(dec[i].tots)
		if dec[i].svc != nil {
			w.svc.Merge(dec[i].svc)
		}
		for _, sec := range d.Seconds {
			p := w.secs[sec.T]
			if p == nil {
				p = &report.Second{T: sec.T}
				w.secs[sec.T] = p
			}
			addSecond(p, sec)
		}
		for _, f := range d.FailedBySecond {
			w.failed[secCode{f.T, f.Code}] += f.Count
		}
		st := src[d.Info.Name]
		if st == nil {
			st = &sourceTotals{errors: map[string]int64{}, elsewhere: map[string]report.BucketAttempts{}, lat: newHist(), targetPerS: d.Info.TargetPerS}
			src[d.Info.Name] = st
		}
		addCounts(&st.counts, d)
		for k, v := range d.Errors {
			st.errors[k] += v
		}
		for k, v := range d.BucketAttempts {
			b := st.elsewhere[k]
			st.elsewhere[k] = b.Add(v)
		}
		st.lat.Merge(dec[i].tots)
	}
	return nil
}

func (m *Merge) workload(info WorkloadInfo) *mergeWorkload {
	w := m.ws[info.Name]
	if w == nil {
		w = &mergeWorkload{
			info: info, lat: newHist(), svc: newHist(),
			intervals: map[int]*hdr.Histogram{}, secs: map[int]*report.Second{}, failed: map[secCode]int64{},
		}
		m.ws[info.Name] = w
		m.order = append(m.order, info.Name)
	}
	return w
}

func addSecond(p *report.Second, s report.Second) {
	p.Sent += s.Sent
	p.OK += s.OK
	p.Throttled += s.Throttled
	p.Failed += s.Failed
	p.Attempts += s.Attempts
	p.ThrottledAttempts += s.ThrottledAttempts
	p.Dropped += s.Dropped
	p.CacheHits += s.CacheHits
}

func addCounts(c *Delta, d Delta) {
	c.Requests += d.Requests
	c.OK += d.OK
	c.ThrottledRequests += d.ThrottledRequests
	c.Attempts += d.Attempts
	c.ThrottledAttempts += d.ThrottledAttempts
	c.DoneAttempts += d.DoneAttempts
	c.Dropped += d.Dropped
	c.CacheHits += d.CacheHits
}

// Sources returns the names of the sources added so far, sorted.
func (m *Merge) Sources() []string { return slices.Sorted(maps.Keys(m.sources)) }

// Workloads returns the merged workloads for a window of durationS
// seconds, in the order they were first added, as Recorder.Finish would
// give them for a recorder that saw every observation: counters and error
// counts added, latency and service-time histograms merged (percentiles
// read from the merged histograms), the per-second series added with each
// second's p99 read from that second's merged latency interval. Attempts
// is taken per source as Finish does (recorded attempts, or the attempts
// reported with outcomes when none were recorded), then added, and so is
// TargetPerS (each source's share of the rate).
func (m *Merge) Workloads(durationS float64) []report.Workload {
	endSec := 0
	if durationS > 0 {
		endSec = min(int(math.Ceil(durationS-1e-9)), maxSeconds)
	}
	out := make([]report.Workload, 0, len(m.order))
	for _, name := range m.order {
		w := m.ws[name]
		wl := report.Workload{
			Name: w.info.Name, Operation: w.info.Operation, Key: w.info.Key, Caller: w.info.Caller,
			CallerAccount: w.info.CallerAccount, Team: w.info.Team, Region: w.info.Region, Bucket: w.info.Bucket,
			Errors: map[string]int64{},
		}
		for _, src := range m.sources {
			st := src[name]
			if st == nil {
				continue
			}
			wl.TargetPerS += st.targetPerS
			addTotals(&wl, st)
		}
		splitBuckets(&wl)
		wl.LatencyMs = percentiles(w.lat)
		wl.ServiceMs = percentiles(w.svc)
		if enc, err := w.lat.Encode(hdr.V2CompressedEncodingCookieBase); err == nil {
			wl.Histogram = string(enc)
		}
		n := endSec
		for t := range w.secs {
			n = max(n, t+1)
		}
		for t := range w.intervals {
			n = max(n, t+1)
		}
		wl.Series = make([]report.Second, n)
		for i := range wl.Series {
			wl.Series[i].T = i
			if p := w.secs[i]; p != nil {
				addSecond(&wl.Series[i], *p)
			}
			if h := w.intervals[i]; h != nil && h.TotalCount() > 0 {
				wl.Series[i].P50Ms = usToMs(h.ValueAtQuantile(50))
				wl.Series[i].P99Ms = usToMs(h.ValueAtQuantile(99))
			}
		}
		wl.SetRates(durationS)
		for k, v := range w.failed {
			wl.FailedBySecond = append(wl.FailedBySecond, report.SecondCode{T: k.sec, Code: k.code, Count: v})
		}
		sortSecondCodes(wl.FailedBySecond)
		out = append(out, wl)
	}
	return out
}

// addTotals adds one source's counters to wl.
func addTotals(wl *report.Workload, st *sourceTotals) {
	c := st.counts
	wl.Requests += c.Requests
	wl.OK += c.OK
	wl.ThrottledRequests += c.ThrottledRequests
	attempts := c.Attempts
	if attempts == 0 {
		attempts = c.DoneAttempts
	}
	wl.Attempts += attempts
	wl.ThrottledAttempts += c.ThrottledAttempts
	wl.Dropped += c.Dropped
	wl.CacheHits += c.CacheHits
	for k, v := range st.errors {
		wl.Errors[k] += v
	}
	for k, v := range st.elsewhere {
		if wl.BucketAttempts == nil {
			wl.BucketAttempts = map[string]report.BucketAttempts{}
		}
		b := wl.BucketAttempts[k]
		wl.BucketAttempts[k] = b.Add(v)
	}
}

// splitBuckets completes wl.BucketAttempts, which holds the attempts
// charged to other buckets than the workload's own (another Region's
// class bucket, a custom key store's or a data key pair spec's), with those
// of its own bucket: every attempt is in exactly one class bucket, and may
// also be in a second bucket (a store's or a pair spec's); every throttled
// attempt is throttled in exactly one bucket.
func splitBuckets(wl *report.Workload) {
	if len(wl.BucketAttempts) == 0 {
		return
	}
	own := report.BucketAttempts{Attempts: wl.Attempts, Throttled: wl.ThrottledAttempts}
	for name, b := range wl.BucketAttempts {
		if !isSecondBucket(name) {
			own.Attempts -= b.Attempts
		}
		own.Throttled -= b.Throttled
	}
	wl.BucketAttempts[wl.Bucket] = own
}

// isSecondBucket tells whether the bucket named name is a second bucket
// (quota.Class.Second): a custom key store's or a data key pair spec's.
func isSecondBucket(name string) bool {
	k, _ := quota.ParseBucketKey(name)
	return k.Class.Second()
}

// SourceWorkloads returns one source's share of each workload: its
// counters, error counts, attempts per bucket, target rate and latency
// histogram (LatencyMs and Histogram), without series. Workloads the source sent nothing for are absent.
func (m *Merge) SourceWorkloads(source string) []report.Workload {
	var out []report.Workload
	for _, name := range m.order {
		st := m.sources[source][name]
		if st == nil {
			continue
		}
		wl := report.Workload{Name: name, Bucket: m.ws[name].info.Bucket, Errors: map[string]int64{}, TargetPerS: st.targetPerS}
		addTotals(&wl, st)
		splitBuckets(&wl)
		wl.LatencyMs = percentiles(st.lat)
		if enc, err := st.lat.Encode(hdr.V2CompressedEncodingCookieBase); err == nil {
			wl.Histogram = string(enc)
		}
		out = append(out, wl)
	}
	return out
}

// Info returns the workload description of the first snapshot that named
// workload, and whether there was one.
func (m *Merge) Info(workload string) (WorkloadInfo, bool) {
	w := m.ws[workload]
	if w == nil {
		return WorkloadInfo{}, false
	}
	return w.info, true
}

// WriteHlog writes the merged 1-second latency intervals of workload in
// the HdrHistogram interval-log format, as Recorder.WriteHlog does, for a
// window that started at start and lasted durationS seconds.
func (m *Merge) WriteHlog(workload string, start time.Time, durationS float64, out io.Writer) error {
	w := m.ws[workload]
	if w == nil {
		return fmt.Errorf("record: hlog: no workload %q", workload)
	}
	startMs := start.UnixMilli()
	baseMs := startMs - ((startMs%1000)+1000)%1000
	lw := hdr.NewHistogramLogWriter(out)
	for _, f := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(startMs) },
		func() error { return lw.OutputBaseTime(baseMs) },
		func() error {
			return lw.OutputComment(fmt.Sprintf("[kmsload workload %q: latency from intended send time, microseconds, 1-second intervals, merged over %d agents]", workload, len(m.sources)))
		},
		lw.OutputLegend,
	} {
		if err := f(); err != nil {
			return fmt.Errorf("record: write hlog header: %w", err)
		}
	}
	lw.SetBaseTime(baseMs)
	n := int(math.Ceil(durationS - 1e-9))
	for t := range w.intervals {
		n = max(n, t+1)
	}
	empty := newHist()
	for t := 0; t < n; t++ {
		h := w.intervals[t]
		if h == nil {
			h = empty
		}
		h.SetStartTimeMs(startMs + int64(t)*1000)
		h.SetEndTimeMs(startMs + int64(t+1)*1000)
		if err := lw.OutputIntervalHistogram(h); err != nil {
			return fmt.Errorf("record: hlog of %s second %d: %w", workload, t, err)
		}
	}
	return nil
}
