package record_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
)

// buckets are the quota buckets feed charges attempts to: the workloads'
// own, and two others (traffic moved to other Regions).
var buckets = []string{"1/r/symmetric", "1/r2/symmetric", "1/r3/symmetric"}

// feed records n random observations in rec, taking snapshots at random
// points; then it finishes rec's window at start+5s and takes the last
// snapshot. It returns the snapshots and rec's own results.
func feed(t *testing.T, rng *rand.Rand, rec *record.Recorder, snap *record.Snapshotter, start time.Time, n int) ([]record.Snapshot, []report.Workload) {
	t.Helper()
	var out []record.Snapshot
	codes := []string{"", "DisabledException", "QuotaExceededError"}
	for i := 0; i < n; i++ {
		w := rng.IntN(2)
		intended := start.Add(time.Duration(rng.Int64N(int64(5 * time.Second))))
		switch rng.IntN(10) {
		case 0:
			rec.Dropped(w, intended)
			continue
		case 1:
			rec.CacheHit(w, intended)
			continue
		}
		rec.Sent(w, intended)
		attempts := 1 + rng.IntN(3)
		sent := intended
		var o record.Outcome
		for a := 0; a < attempts; a++ {
			svc := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
			o = record.Outcome(rng.IntN(3))
			code := ""
			if o == record.Throttled {
				code = "ThrottlingException"
			}
			c := record.Charge{Bucket: buckets[rng.IntN(len(buckets))]}
			if w == 0 && rng.IntN(2) == 0 { // a key in a custom key store
				c.Store, c.ByStore = "-/us-east-1/cks:hsm", rng.IntN(2) == 0
			}
			rec.AttemptIn(w, c, sent, svc, o, code)
			sent = sent.Add(svc)
		}
		code := ""
		if o == record.Failed {
			code = codes[rng.IntN(len(codes))]
		}
		rec.Done(w, intended, sent, attempts, o, code)
		if rng.IntN(500) == 0 {
			s, err := snap.Snapshot(sent)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
	}
	own := rec.Finish(start.Add(5 * time.Second))
	s, err := snap.Snapshot(start.Add(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return append(out, s), own
}

func counts(t *testing.T, enc string) map[int64]int64 {
	t.Helper()
	h, err := hdr.Decode([]byte(enc))
	if err != nil {
		t.Fatal(err)
	}
	m := map[int64]int64{}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			m[b.From] += b.Count
		}
	}
	return m
}

// TestMergeEqualsRecorders: three recorders' snapshots, merged in a
// shuffled order, give each recorder's totals added up exactly, and a
// latency histogram with the same count at every value as all three
// recorders' histograms added.
func TestMergeEqualsRecorders(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	infos := []record.WorkloadInfo{{Name: "a", Bucket: "1/r/symmetric", TargetPerS: 10}, {Name: "b", Bucket: "1/r/symmetric", TargetPerS: 5}}
	rng := rand.New(rand.NewPCG(1, 2))
	m := record.NewMerge()
	var own [][]report.Workload
	type tagged struct {
		src string
		s   record.Snapshot
	}
	var all []tagged
	for i, src := range []string{"x", "y", "z"} {
		rec := record.NewRecorder(start, infos)
		snap := record.NewSnapshotter()
		rec.SetObserver(snap)
		snaps, finished := feed(t, rng, rec, snap, start, 3000+1000*i)
		for _, s := range snaps {
			all = append(all, tagged{src, s})
		}
		own = append(own, finished)
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, a := range all {
		if err := m.Add(a.src, a.s); err != nil {
			t.Fatal(err)
		}
	}
	got := m.Workloads(5)
	if len(got) != 2 {
		t.Fatalf("Workloads: %d workloads; want 2", len(got))
	}
	for wi, g := range got {
		var want report.Workload
		want.Errors = map[string]int64{}
		wantHist := map[int64]int64{}
		wantSeries := make([]report.Second, len(g.Series))
		wantBuckets := map[string]report.BucketAttempts{}
		for _, o := range own {
			w := o[wi]
			for k, b := range w.BucketAttempts {
				wb := wantBuckets[k]
				wantBuckets[k] = wb.Add(b)
			}
			want.Requests += w.Requests
			want.OK += w.OK
			want.ThrottledRequests += w.ThrottledRequests
			want.Attempts += w.Attempts
			want.ThrottledAttempts += w.ThrottledAttempts
			want.Dropped += w.Dropped
			want.CacheHits += w.CacheHits
			want.TargetPerS += w.TargetPerS
			for k, v := range w.Errors {
				want.Errors[k] += v
			}
			for k, v := range counts(t, w.Histogram) {
				wantHist[k] += v
			}
			for _, s := range w.Series {
				p := &wantSeries[s.T]
				p.T = s.T
				p.Sent += s.Sent
				p.OK += s.OK
				p.Throttled += s.Throttled
				p.Failed += s.Failed
				p.Attempts += s.Attempts
				p.ThrottledAttempts += s.ThrottledAttempts
				p.Dropped += s.Dropped
				p.CacheHits += s.CacheHits
			}
		}
		type tot struct{ Requests, OK, ThrReq, Att, ThrAtt, Dropped, Cache int64 }
		gt := tot{g.Requests, g.OK, g.ThrottledRequests, g.Attempts, g.ThrottledAttempts, g.Dropped, g.CacheHits}
		wt := tot{want.Requests, want.OK, want.ThrottledRequests, want.Attempts, want.ThrottledAttempts, want.Dropped, want.CacheHits}
		if gt != wt {
			t.Errorf("workload %s: merged totals = %+v; want %+v", g.Name, gt, wt)
		}
		if g.TargetPerS != want.TargetPerS {
			t.Errorf("workload %s: TargetPerS = %g; want %g", g.Name, g.TargetPerS, want.TargetPerS)
		}
		if !reflect.DeepEqual(g.Errors, want.Errors) {
			t.Errorf("workload %s: errors = %v; want %v", g.Name, g.Errors, want.Errors)
		}
		if n := 3 + boolInt(g.Name == "a"); len(wantBuckets) != n { // a's key is in a store
			t.Fatalf("workload %s: the recorders split attempts over %d buckets; want %d", g.Name, len(wantBuckets), n)
		}
		if !reflect.DeepEqual(g.BucketAttempts, wantBuckets) {
			t.Errorf("workload %s: BucketAttempts = %v; want the recorders' sum %v", g.Name, g.BucketAttempts, wantBuckets)
		}
		if gh := counts(t, g.Histogram); !reflect.DeepEqual(gh, wantHist) {
			t.Errorf("workload %s: merged histogram differs from the recorders' (%d vs %d distinct values)", g.Name, len(gh), len(wantHist))
		}
		for i := range g.Series {
			gs := g.Series[i]
			gs.P50Ms, gs.P99Ms = 0, 0
			if gs != wantSeries[i] {
				t.Errorf("workload %s: second %d = %+v; want %+v", g.Name, i, gs, wantSeries[i])
			}
		}
	}
	if srcs := m.Sources(); !reflect.DeepEqual(srcs, []string{"x", "y", "z"}) {
		t.Errorf("Sources() = %v; want [x y z]", srcs)
	}
	for i, src := range []string{"x", "y", "z"} {
		sw := m.SourceWorkloads(src)
		for wi, w := range sw {
			if w.Requests != own[i][wi].Requests || w.OK != own[i][wi].OK {
				t.Errorf("SourceWorkloads(%s)[%d]: requests %d ok %d; want %d %d", src, wi, w.Requests, w.OK, own[i][wi].Requests, own[i][wi].OK)
			}
			if !reflect.DeepEqual(counts(t, w.Histogram), counts(t, own[i][wi].Histogram)) {
				t.Errorf("SourceWorkloads(%s)[%d]: histogram differs from the recorder's", src, wi)
			}
			if !reflect.DeepEqual(w.BucketAttempts, own[i][wi].BucketAttempts) {
				t.Errorf("SourceWorkloads(%s)[%d]: BucketAttempts = %v; want the recorder's %v", src, wi, w.BucketAttempts, own[i][wi].BucketAttempts)
			}
		}
	}
	var buf bytes.Buffer
	if err := m.WriteHlog("a", start, 5, &buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	r := hdr.NewHistogramLogReader(&buf)
	var total int64
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		total += h.TotalCount()
	}
	if want := got[0].OK + sumErrors(got[0]); total != want { // every finished request
		t.Errorf("hlog of a: %d latencies; want %d", total, want)
	}
	if !strings.Contains(text, "merged over 3 agents") {
		t.Errorf("hlog header lacks the merge comment:\n%s", text)
	}
}

func sumErrors(w report.Workload) int64 {
	var n int64
	for _, v := range w.Errors {
		n += v
	}
	return n
}

// TestMergeRejectsBadHistogram: a snapshot with a corrupt histogram is
// refused whole.
func TestMergeRejectsBadHistogram(t *testing.T) {
	m := record.NewMerge()
	s := record.Snapshot{Workloads: []record.Delta{{Info: record.WorkloadInfo{Name: "a"}, Requests: 3,
		Intervals: []record.Interval{{T: 0, Histogram: "not base64!"}}}}}
	if err := m.Add("x", s); err == nil {
		t.Fatal("Add(corrupt) = nil; want an error")
	}
	if got := m.Workloads(1); len(got) != 0 {
		t.Errorf("after a refused Add: %d workloads; want 0", len(got))
	}
}

// hlogCounts reads an interval log into one map of value counts per
// interval, in order.
func hlogCounts(t *testing.T, log []byte) []map[int64]int64 {
	t.Helper()
	r := hdr.NewHistogramLogReader(bytes.NewReader(log))
	var out []map[int64]int64
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			return out
		}
		m := map[int64]int64{}
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				m[b.From] += b.Count
			}
		}
		out = append(out, m)
	}
}

// TestSnapshotsAreTheRecordersIntervals: the snapshots of one recorder,
// taken every second while it records, merged alone, give the recorder's
// own 1-second intervals (its interval log, a late completion included in
// the interval that was open) and its per-second p99s, and the per-second
// series and counters it finished with.
func TestSnapshotsAreTheRecordersIntervals(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	infos := []record.WorkloadInfo{{Name: "a", Bucket: "1/r/symmetric"}}
	rec := record.NewRecorder(start, infos)
	snap := record.NewSnapshotter()
	if s, err := snap.Snapshot(start); err != nil || len(s.Workloads) != 0 {
		t.Fatalf("Snapshot before attaching = %+v, %v; want no workloads", s, err)
	}
	rec.SetObserver(snap)
	m := record.NewMerge()
	rng := rand.New(rand.NewPCG(3, 4))
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	for ms := 0; ms < 4000; ms += 2 {
		intended := at(ms)
		rec.Sent(0, intended)
		svc := time.Duration(1+rng.IntN(20)) * time.Millisecond
		o := record.OK
		if rng.IntN(5) == 0 {
			o = record.Throttled
		}
		rec.AttemptIn(0, record.Charge{Bucket: "1/r/symmetric"}, intended, svc, o, "")
		rec.Done(0, intended, intended.Add(svc), 1, o, "")
		if ms == 2500 {
			// Finished in second 1, recorded after second 2 began: a
			// late completion, in the interval that is open.
			rec.Done(0, at(1500), at(1900), 1, record.OK, "")
			rec.Sent(0, at(1500))
		}
		if ms%1000 == 998 {
			s, err := snap.Snapshot(at(ms + 2))
			if err != nil {
				t.Fatal(err)
			}
			if want := (ms + 2) / 1000; s.Through != want {
				t.Errorf("snapshot at %d ms: Through %d; want %d", ms+2, s.Through, want)
			}
			if len(s.Workloads[0].Intervals) == 0 {
				t.Errorf("snapshot at %d ms: no closed interval", ms+2)
			}
			if err := m.Add("x", s); err != nil {
				t.Fatal(err)
			}
		}
	}
	own := rec.Finish(at(4000))
	last, err := snap.Snapshot(at(6000))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add("x", last); err != nil {
		t.Fatal(err)
	}
	empty, err := snap.Snapshot(at(7000))
	if err != nil {
		t.Fatal(err)
	}
	if d := empty.Workloads[0]; d.Requests != 0 || d.Attempts != 0 || len(d.Seconds) != 0 || len(d.Intervals) != 0 || d.Service != "" {
		t.Errorf("snapshot with nothing new = %+v; want nothing", d)
	}

	got := m.Workloads(4)[0]
	if got.Requests != own[0].Requests || got.OK != own[0].OK || got.ThrottledAttempts != own[0].ThrottledAttempts {
		t.Errorf("merged requests/ok/throttled attempts = %d/%d/%d; want the recorder's %d/%d/%d",
			got.Requests, got.OK, got.ThrottledAttempts, own[0].Requests, own[0].OK, own[0].ThrottledAttempts)
	}
	if !reflect.DeepEqual(got.Series, own[0].Series) {
		t.Errorf("merged series = %+v\nwant the recorder's %+v", got.Series, own[0].Series)
	}
	if !reflect.DeepEqual(counts(t, got.Histogram), counts(t, own[0].Histogram)) {
		t.Error("merged latency histogram differs from the recorder's")
	}
	var mine, merged bytes.Buffer
	if err := rec.WriteHlog(0, &mine); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteHlog("a", start, 4, &merged); err != nil {
		t.Fatal(err)
	}
	gi, wi := hlogCounts(t, merged.Bytes()), hlogCounts(t, mine.Bytes())
	if !reflect.DeepEqual(gi, wi) {
		t.Errorf("merged intervals differ from the recorder's interval log:\n got %d intervals\nwant %d", len(gi), len(wi))
	}
}

// A Snapshotter set as a recorder's observer hands over what the recorder
// counted since the last snapshot; a Merge adds the snapshots of several
// recorders (the agents of a distributed run) into one run's workloads.
func ExampleSnapshotter() {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	infos := []record.WorkloadInfo{{Name: "orders", Bucket: "1/us-east-1/symmetric"}}
	m := record.NewMerge()
	for _, agent := range []string{"a1", "a2"} {
		rec := record.NewRecorder(start, infos)
		snap := record.NewSnapshotter()
		rec.SetObserver(snap)
		for i := range 3 {
			at := start.Add(time.Duration(i) * 400 * time.Millisecond)
			rec.Sent(0, at)
			rec.AttemptIn(0, record.Charge{Bucket: "1/eu-west-1/symmetric"}, at, 2*time.Millisecond, record.OK, "")
			rec.Done(0, at, at.Add(2*time.Millisecond), 1, record.OK, "")
		}
		first, _ := snap.Snapshot(start.Add(time.Second))
		rec.Finish(start.Add(2 * time.Second))
		last, _ := snap.Snapshot(start.Add(2 * time.Second))
		fmt.Println(agent, "requests per snapshot:", first.Workloads[0].Requests, last.Workloads[0].Requests)
		_ = m.Add(agent, first)
		_ = m.Add(agent, last)
	}
	w := m.Workloads(2)[0]
	fmt.Println("merged:", w.Requests, "requests,", w.OK, "ok,", w.BucketAttempts["1/eu-west-1/symmetric"].Attempts, "attempts in eu-west-1")
	// Output:
	// a1 requests per snapshot: 3 0
	// a2 requests per snapshot: 3 0
	// merged: 6 requests, 6 ok, 6 attempts in eu-west-1
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
