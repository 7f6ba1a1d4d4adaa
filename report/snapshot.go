package report

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Snapshot is what a Snapshotter saw since its previous Snapshot, for every
// workload: the form in which a run's observations travel between machines
// (see cluster/). Snapshots of one run add up exactly: a Merge given every
// snapshot once gives the same counts and histograms as one Recorder that
// saw every observation.
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
	// Seconds are the changes of the per-second series (P99Ms unused),
	// only for seconds that changed, in second order.
	Seconds        []Second     `json:"seconds,omitempty"`
	FailedBySecond []SecondCode `json:"failed_by_second,omitempty"`
	// Intervals are the latencies (microseconds, from the intended time)
	// of the requests that finished in the interval, one histogram per
	// completion second.
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

// Snapshotter is an Observer (see Recorder.SetObserver) that keeps what it
// observed since the last call of Snapshot, and hands it over as a
// Snapshot. Seconds are counted from the start given to NewSnapshotter,
// which may differ from the recorder's (a distributed run counts from its
// common start). Safe for concurrent use; memory is bounded by what one
// interval holds.
type Snapshotter struct {
	start  time.Time
	ws     []*snapWorkload
	snapMu sync.Mutex // one Snapshot at a time
}

var _ Observer = (*Snapshotter)(nil)

// snapWorkload is one workload's observations since the last snapshot.
type snapWorkload struct {
	info WorkloadInfo
	mu   sync.Mutex
	cur  *deltaState
	next *deltaState // reset, swapped in by Snapshot
}

type deltaState struct {
	counts Delta // counters only
	errors map[string]int64
	secs   map[int]*Second
	failed map[secCode]int64
	lat    map[int]*hdr.Histogram
	svc    *hdr.Histogram
	free   []*hdr.Histogram
	hasSvc bool
}

func newDeltaState() *deltaState {
	return &deltaState{
		errors: map[string]int64{},
		secs:   map[int]*Second{},
		failed: map[secCode]int64{},
		lat:    map[int]*hdr.Histogram{},
		svc:    newHist(),
	}
}

// NewSnapshotter returns a Snapshotter for the workloads (in the order the
// recorder numbers them), counting seconds from start.
func NewSnapshotter(start time.Time, workloads []WorkloadInfo) *Snapshotter {
	s := &Snapshotter{start: start, ws: make([]*snapWorkload, len(workloads))}
	for i, info := range workloads {
		s.ws[i] = &snapWorkload{info: info, cur: newDeltaState(), next: newDeltaState()}
	}
	return s
}

func (s *Snapshotter) sec(t time.Time) int {
	d := t.Sub(s.start)
	if d < 0 {
		return 0
	}
	n := int64(d / time.Second)
	if n >= maxSeconds {
		return maxSeconds - 1
	}
	return int(n)
}

func (d *deltaState) at(sec int) *Second {
	p := d.secs[sec]
	if p == nil {
		p = &Second{T: sec}
		d.secs[sec] = p
	}
	return p
}

// Sent implements Observer.
func (s *Snapshotter) Sent(w int, intended time.Time) {
	sec := s.sec(intended)
	ws := s.ws[w]
	ws.mu.Lock()
	ws.cur.counts.Requests++
	ws.cur.at(sec).Sent++
	ws.mu.Unlock()
}

// Dropped implements Observer.
func (s *Snapshotter) Dropped(w int, intended time.Time) {
	sec := s.sec(intended)
	ws := s.ws[w]
	ws.mu.Lock()
	ws.cur.counts.Dropped++
	ws.cur.at(sec).Dropped++
	ws.mu.Unlock()
}

// CacheHit implements Observer.
func (s *Snapshotter) CacheHit(w int, intended time.Time) {
	sec := s.sec(intended)
	ws := s.ws[w]
	ws.mu.Lock()
	ws.cur.counts.CacheHits++
	ws.cur.at(sec).CacheHits++
	ws.mu.Unlock()
}

// Attempt implements Observer.
func (s *Snapshotter) Attempt(w int, sent time.Time, service time.Duration, o Outcome, code string) {
	sec := s.sec(sent)
	us := micros(service)
	ws := s.ws[w]
	ws.mu.Lock()
	c := ws.cur
	_ = c.svc.RecordValue(us)
	c.hasSvc = true
	c.counts.Attempts++
	p := c.at(sec)
	p.Attempts++
	if o == Throttled {
		c.counts.ThrottledAttempts++
		p.ThrottledAttempts++
	}
	ws.mu.Unlock()
}

// Done implements Observer. It counts outcomes and codes as Recorder.Done
// does (an empty code becomes ThrottlingException or Unknown).
func (s *Snapshotter) Done(w int, intended, done time.Time, attempts int, o Outcome, code string) {
	sec := s.sec(done)
	us := micros(done.Sub(intended))
	ws := s.ws[w]
	ws.mu.Lock()
	c := ws.cur
	h := c.lat[sec]
	if h == nil {
		if n := len(c.free); n > 0 {
			h = c.free[n-1]
			c.free = c.free[:n-1]
		} else {
			h = newHist()
		}
		c.lat[sec] = h
	}
	_ = h.RecordValue(us)
	c.counts.DoneAttempts += int64(attempts)
	p := c.at(sec)
	switch o {
	case OK:
		c.counts.OK++
		p.OK++
	case Throttled:
		if code == "" {
			code = codeThrottled
		}
		c.counts.ThrottledRequests++
		c.errors[code]++
		p.Throttled++
	default:
		if code == "" {
			code = codeUnknown
		}
		c.errors[code]++
		p.Failed++
		c.failed[secCode{sec, code}]++
	}
	ws.mu.Unlock()
}

// Snapshot returns what was observed since the previous call and starts a
// new interval; now gives Snapshot.Through. The last snapshot of a window
// is taken after every observation was made (after the driver's Run
// returned).
func (s *Snapshotter) Snapshot(now time.Time) (Snapshot, error) {
	through := 0
	if d := now.Sub(s.start); d > 0 {
		through = int(min(int64(d/time.Second), maxSeconds))
	}
	out := Snapshot{Through: through, Workloads: make([]Delta, len(s.ws))}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	for i, ws := range s.ws {
		ws.mu.Lock()
		c := ws.cur
		ws.cur, ws.next = ws.next, nil
		ws.mu.Unlock()

		d, err := c.delta(ws.info)
		if err != nil {
			return Snapshot{}, err
		}
		out.Workloads[i] = d
		c.reset()
		ws.mu.Lock()
		ws.next = c
		ws.mu.Unlock()
	}
	return out, nil
}

// delta encodes c. c is no longer shared.
func (c *deltaState) delta(info WorkloadInfo) (Delta, error) {
	d := c.counts
	d.Info = info
	if len(c.errors) > 0 {
		d.Errors = maps.Clone(c.errors)
	}
	for _, k := range slices.Sorted(maps.Keys(c.secs)) {
		d.Seconds = append(d.Seconds, *c.secs[k])
	}
	for k, v := range c.failed {
		d.FailedBySecond = append(d.FailedBySecond, SecondCode{T: k.sec, Code: k.code, Count: v})
	}
	sortSecondCodes(d.FailedBySecond)
	for _, k := range slices.Sorted(maps.Keys(c.lat)) {
		enc, err := c.lat[k].Encode(hdr.V2CompressedEncodingCookieBase)
		if err != nil {
			return Delta{}, fmt.Errorf("report: snapshot of %s: %w", info.Name, err)
		}
		d.Intervals = append(d.Intervals, Interval{T: k, Histogram: string(enc)})
	}
	if c.hasSvc {
		enc, err := c.svc.Encode(hdr.V2CompressedEncodingCookieBase)
		if err != nil {
			return Delta{}, fmt.Errorf("report: snapshot of %s: %w", info.Name, err)
		}
		d.Service = string(enc)
	}
	return d, nil
}

func (c *deltaState) reset() {
	c.counts = Delta{}
	clear(c.errors)
	clear(c.secs)
	clear(c.failed)
	for k, h := range c.lat {
		h.Reset()
		c.free = append(c.free, h)
		delete(c.lat, k)
	}
	c.svc.Reset()
	c.hasSvc = false
}

func sortSecondCodes(s []SecondCode) {
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
	secs      map[int]*Second
	failed    map[secCode]int64
}

// sourceTotals are one source's counters of one workload.
type sourceTotals struct {
	targetPerS float64
	counts     Delta
	errors     map[string]int64
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
				return fmt.Errorf("report: merge %s second %d of %s: %w", d.Info.Name, iv.T, source, err)
			}
			dec[i].lat = append(dec[i].lat, h)
			dec[i].tots.Merge(h)
		}
		if d.Service != "" {
			h, err := hdr.Decode([]byte(d.Service))
			if err != nil {
				return fmt.Errorf("report: merge service times of %s from %s: %w", d.Info.Name, source, err)
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
				p = &Second{T: sec.T}
				w.secs[sec.T] = p
			}
			addSecond(p, sec)
		}
		for _, f := range d.FailedBySecond {
			w.failed[secCode{f.T, f.Code}] += f.Count
		}
		st := src[d.Info.Name]
		if st == nil {
			st = &sourceTotals{errors: map[string]int64{}, lat: newHist(), targetPerS: d.Info.TargetPerS}
			src[d.Info.Name] = st
		}
		addCounts(&st.counts, d)
		for k, v := range d.Errors {
			st.errors[k] += v
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
			intervals: map[int]*hdr.Histogram{}, secs: map[int]*Second{}, failed: map[secCode]int64{},
		}
		m.ws[info.Name] = w
		m.order = append(m.order, info.Name)
	}
	return w
}

func addSecond(p *Second, s Second) {
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
func (m *Merge) Workloads(durationS float64) []Workload {
	endSec := 0
	if durationS > 0 {
		endSec = min(int(math.Ceil(durationS-1e-9)), maxSeconds)
	}
	out := make([]Workload, 0, len(m.order))
	for _, name := range m.order {
		w := m.ws[name]
		wl := Workload{
			Name: w.info.Name, Operation: w.info.Operation, Key: w.info.Key, Caller: w.info.Caller,
			CallerAccount: w.info.CallerAccount, Region: w.info.Region, Bucket: w.info.Bucket,
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
		if durationS > 0 {
			wl.SentPerS = float64(wl.Requests) / durationS
			wl.GoodputPerS = float64(wl.OK+wl.CacheHits) / durationS
		}
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
		wl.Series = make([]Second, n)
		for i := range wl.Series {
			wl.Series[i].T = i
			if p := w.secs[i]; p != nil {
				addSecond(&wl.Series[i], *p)
			}
			if h := w.intervals[i]; h != nil && h.TotalCount() > 0 {
				wl.Series[i].P99Ms = usToMs(h.ValueAtQuantile(99))
			}
		}
		for k, v := range w.failed {
			wl.FailedBySecond = append(wl.FailedBySecond, SecondCode{T: k.sec, Code: k.code, Count: v})
		}
		sortSecondCodes(wl.FailedBySecond)
		out = append(out, wl)
	}
	return out
}

// addTotals adds one source's counters to wl.
func addTotals(wl *Workload, st *sourceTotals) {
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
}

// SourceWorkloads returns one source's share of each workload: its
// counters, error counts, target rate and latency histogram (LatencyMs
// and Histogram), without series. Workloads the source sent nothing for are absent.
func (m *Merge) SourceWorkloads(source string) []Workload {
	var out []Workload
	for _, name := range m.order {
		st := m.sources[source][name]
		if st == nil {
			continue
		}
		wl := Workload{Name: name, Errors: map[string]int64{}, TargetPerS: st.targetPerS}
		addTotals(&wl, st)
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
		return fmt.Errorf("report: hlog: no workload %q", workload)
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
			return fmt.Errorf("report: write hlog header: %w", err)
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
			return fmt.Errorf("report: hlog of %s second %d: %w", workload, t, err)
		}
	}
	return nil
}

// StopAgentLost is the StopReason of a distributed run in which an agent
// went silent or failed: the results lack that agent's share of the
// seconds its ClusterAgent entry names.
const StopAgentLost = "agent-lost"

// Cluster describes a distributed run (`kmsload run --agents N`): one
// entry per agent.
type Cluster struct {
	// StartedAt is the common start time, on the coordinator's clock.
	StartedAt time.Time      `json:"started_at"`
	Agents    []ClusterAgent `json:"agents"`
}

// ClusterAgent is one agent of a distributed run.
type ClusterAgent struct {
	Name string `json:"name"`
	// Index is the agent's share: it sent share Index+1 of len(Agents)
	// of every workload.
	Index int `json:"index"`
	// ClockOffsetMs is the agent's clock minus the coordinator's, and
	// RTTMs the round trip of the probe it was measured with (the offset
	// is known to within half of it).
	ClockOffsetMs float64 `json:"clock_offset_ms"`
	RTTMs         float64 `json:"rtt_ms"`
	// StartLagMs is how late the agent started its window after the
	// common start, on the coordinator's clock.
	StartLagMs float64 `json:"start_lag_ms"`
	// Snapshots counts the snapshots merged, Duplicates those dropped as
	// already merged, Rerequested those asked for again.
	// Resent counts the snapshots the agent published again, by the
	// final snapshot.
	Snapshots   int  `json:"snapshots"`
	Duplicates  int  `json:"duplicates"`
	Rerequested int  `json:"rerequested"`
	Resent      int  `json:"resent"`
	Lost        bool `json:"lost,omitempty"`
	Partial     bool `json:"partial,omitempty"`
	// Error is why the agent could not run.
	Error string `json:"error,omitempty"`
	// MissingFromS and MissingToS bound the seconds of the window for
	// which a lost agent's data is missing or incomplete.
	MissingFromS int `json:"missing_from_s,omitempty"`
	MissingToS   int `json:"missing_to_s,omitempty"`
}
