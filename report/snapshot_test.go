package report_test

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kmsload/kmsload/report"
)

// feed sends n random observations to rec (which passes them on to its
// observer), taking snapshots at random points and once at the end.
func feed(t *testing.T, rng *rand.Rand, rec *report.Recorder, snap *report.Snapshotter, start time.Time, n int) []report.Snapshot {
	t.Helper()
	var out []report.Snapshot
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
		var o report.Outcome
		for a := 0; a < attempts; a++ {
			svc := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
			o = report.Outcome(rng.IntN(3))
			code := ""
			if o == report.Throttled {
				code = "ThrottlingException"
			}
			rec.Attempt(w, sent, svc, o, code)
			sent = sent.Add(svc)
		}
		code := ""
		if o == report.Failed {
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
	s, err := snap.Snapshot(start.Add(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return append(out, s)
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
	infos := []report.WorkloadInfo{{Name: "a", Bucket: "1/r/symmetric", TargetPerS: 10}, {Name: "b", Bucket: "1/r/symmetric", TargetPerS: 5}}
	rng := rand.New(rand.NewPCG(1, 2))
	m := report.NewMerge()
	var own [][]report.Workload
	type tagged struct {
		src string
		s   report.Snapshot
	}
	var all []tagged
	for i, src := range []string{"x", "y", "z"} {
		rec := report.NewRecorder(start, infos)
		snap := report.NewSnapshotter(start, infos)
		rec.SetObserver(snap)
		for _, s := range feed(t, rng, rec, snap, start, 3000+1000*i) {
			all = append(all, tagged{src, s})
		}
		own = append(own, rec.Finish(start.Add(5*time.Second)))
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
		for _, o := range own {
			w := o[wi]
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
		if gh := counts(t, g.Histogram); !reflect.DeepEqual(gh, wantHist) {
			t.Errorf("workload %s: merged histogram differs from the recorders' (%d vs %d distinct values)", g.Name, len(gh), len(wantHist))
		}
		for i := range g.Series {
			gs := g.Series[i]
			gs.P99Ms = 0
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
	m := report.NewMerge()
	s := report.Snapshot{Workloads: []report.Delta{{Info: report.WorkloadInfo{Name: "a"}, Requests: 3,
		Intervals: []report.Interval{{T: 0, Histogram: "not base64!"}}}}}
	if err := m.Add("x", s); err == nil {
		t.Fatal("Add(corrupt) = nil; want an error")
	}
	if got := m.Workloads(1); len(got) != 0 {
		t.Errorf("after a refused Add: %d workloads; want 0", len(got))
	}
}
