package record_test

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
)

var t0 = reporttest.T0

var at = reporttest.At

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

var infos = reporttest.Infos

// within reports whether got is within rel (relative) of want.
func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func decodeHist(t *testing.T, s string) *hdr.Histogram {
	t.Helper()
	h, err := hdr.Decode([]byte(s))
	if err != nil {
		t.Fatalf("hdr.Decode(histogram) error: %v", err)
	}
	return h
}

func TestRecorderConcurrentTotals(t *testing.T) {
	const (
		goroutines = 8
		perG       = 2000
	)
	r := record.NewRecorder(t0, infos("a", "b"))
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				w := (g + i) % 2
				// Spread over 4 seconds, goroutines interleaving seconds.
				in := at(float64((i*7+g)%4000) / 1000)
				r.Sent(w, in)
				r.Attempt(w, in, ms(2), record.Throttled, "ThrottlingException")
				switch i % 10 {
				case 0:
					r.Dropped(w, in)
				case 1:
					r.CacheHit(w, in)
				}
				r.Attempt(w, in.Add(ms(5)), ms(3), record.OK, "")
				o, code := record.OK, ""
				switch i % 5 {
				case 3:
					o, code = record.Throttled, "ThrottlingException"
				case 4:
					o, code = record.Failed, "DisabledException"
				}
				r.Done(w, in, in.Add(ms(10)), 2, o, code)
				if i%500 == 0 {
					r.Progress(in)
				}
			}
		}(g)
	}
	wg.Wait()
	ws := r.Finish(at(5))
	if len(ws) != 2 {
		t.Fatalf("Finish returned %d workloads; want 2", len(ws))
	}
	per := int64(goroutines * perG / 2)
	for _, w := range ws {
		checks := []struct {
			name      string
			got, want int64
		}{
			{"Requests", w.Requests, per},
			{"Attempts", w.Attempts, 2 * per},
			{"ThrottledAttempts", w.ThrottledAttempts, per},
			{"OK", w.OK, per * 3 / 5},
			{"ThrottledRequests", w.ThrottledRequests, per / 5},
			{"Errors[ThrottlingException]", w.Errors["ThrottlingException"], per / 5},
			{"Errors[DisabledException]", w.Errors["DisabledException"], per / 5},
			{"Dropped", w.Dropped, per / 10},
			{"CacheHits", w.CacheHits, per / 10},
			{"histogram TotalCount", decodeHist(t, w.Histogram).TotalCount(), per},
		}
		var sum report.Second
		for _, s := range w.Series {
			sum.Sent += s.Sent
			sum.OK += s.OK
			sum.Throttled += s.Throttled
			sum.Failed += s.Failed
			sum.Attempts += s.Attempts
			sum.ThrottledAttempts += s.ThrottledAttempts
			sum.Dropped += s.Dropped
			sum.CacheHits += s.CacheHits
		}
		checks = append(checks, []struct {
			name      string
			got, want int64
		}{
			{"sum Series.Sent", sum.Sent, w.Requests},
			{"sum Series.OK", sum.OK, w.OK},
			{"sum Series.Throttled", sum.Throttled, w.ThrottledRequests},
			{"sum Series.Failed", sum.Failed, w.Errors["DisabledException"]},
			{"sum Series.Attempts", sum.Attempts, w.Attempts},
			{"sum Series.ThrottledAttempts", sum.ThrottledAttempts, w.ThrottledAttempts},
			{"sum Series.Dropped", sum.Dropped, w.Dropped},
			{"sum Series.CacheHits", sum.CacheHits, w.CacheHits},
		}...)
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("workload %s: %s = %d; want %d", w.Name, c.name, c.got, c.want)
			}
		}
		var buf bytes.Buffer
		if err := r.WriteHlog(map[string]int{"a": 0, "b": 1}[w.Name], &buf); err != nil {
			t.Fatalf("WriteHlog(%s) error: %v", w.Name, err)
		}
		if got := sumHlog(t, &buf); got != per {
			t.Errorf("workload %s: sum of hlog interval counts = %d; want %d", w.Name, got, per)
		}
	}
}

// readHlog reads every interval histogram of an interval log.
func readHlog(t *testing.T, buf *bytes.Buffer) []*hdr.Histogram {
	t.Helper()
	rd := hdr.NewHistogramLogReader(buf)
	var hs []*hdr.Histogram
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("NextIntervalHistogram error: %v", err)
		}
		if h == nil {
			return hs
		}
		hs = append(hs, h)
	}
}

func sumHlog(t *testing.T, buf *bytes.Buffer) int64 {
	var n int64
	for _, h := range readHlog(t, buf) {
		n += h.TotalCount()
	}
	return n
}

func TestRecorderPercentiles(t *testing.T) {
	r := record.NewRecorder(t0, infos("w"))
	// 1..1000 ms of latency, all finishing in second 0 of a 1 s window,
	// and service times 1..1000 us.
	for i := 1; i <= 1000; i++ {
		r.Sent(0, t0)
		r.Attempt(0, t0, time.Duration(i)*time.Microsecond, record.OK, "")
		r.Done(0, at(-float64(i)/1000), at(0.5).Add(-ms(500)), 1, record.OK, "")
	}
	w := r.Finish(at(1))[0]
	tests := []struct {
		name      string
		got, want float64
	}{
		{"LatencyMs.P50", w.LatencyMs.P50, 500},
		{"LatencyMs.P90", w.LatencyMs.P90, 900},
		{"LatencyMs.P99", w.LatencyMs.P99, 990},
		{"LatencyMs.P999", w.LatencyMs.P999, 999},
		{"LatencyMs.Max", w.LatencyMs.Max, 1000},
		{"ServiceMs.P99", w.ServiceMs.P99, 0.990},
		{"ServiceMs.Max", w.ServiceMs.Max, 1.000},
		{"Series[0].P99Ms", w.Series[0].P99Ms, 990},
		{"Series[0].P50Ms", w.Series[0].P50Ms, 500},
	}
	for _, tt := range tests {
		// 3 significant figures: within 0.1%.
		if !within(tt.got, tt.want, 0.001) {
			t.Errorf("%s = %v; want %v within 0.1%%", tt.name, tt.got, tt.want)
		}
	}
}

func TestRecorderSeriesAttribution(t *testing.T) {
	r := record.NewRecorder(t0, infos("w"))
	r.Sent(0, at(0.5))
	r.Attempt(0, at(1.2), ms(30), record.Throttled, "ThrottlingException")
	r.Attempt(0, at(2.1), ms(20), record.OK, "")
	r.Done(0, at(0.5), at(2.3), 2, record.OK, "")
	r.Sent(0, at(1.5))
	r.Attempt(0, at(1.5), ms(5), record.Failed, "DisabledException")
	r.Done(0, at(1.5), at(2.5), 1, record.Failed, "DisabledException")
	r.Sent(0, at(1.7))
	r.Attempt(0, at(1.7), ms(5), record.Failed, "ThrottlingException")
	r.Done(0, at(1.7), at(3.2), 3, record.Throttled, "")
	r.Sent(0, at(2.9))
	r.Done(0, at(2.9), at(3.4), 3, record.Failed, failure.CodeQuotaExceeded)
	r.Dropped(0, at(3.1))
	r.CacheHit(0, at(4.9))
	w := r.Finish(at(5))[0]

	want := []report.Second{
		{T: 0, Sent: 1},
		{T: 1, Sent: 2, Attempts: 3, ThrottledAttempts: 1},
		{T: 2, Sent: 1, OK: 1, Failed: 1, Attempts: 1, P99Ms: 1800},
		{T: 3, Throttled: 1, Failed: 1, Dropped: 1, P99Ms: 1500},
		{T: 4, CacheHits: 1},
	}
	if len(w.Series) != len(want) {
		t.Fatalf("len(Series) = %d; want %d: %+v", len(w.Series), len(want), w.Series)
	}
	for i, g := range w.Series {
		wt := want[i]
		gp, wp := g.P99Ms, wt.P99Ms
		g.P50Ms, g.P99Ms, wt.P99Ms = 0, 0, 0
		if g != wt || !within(gp, wp, 0.001) {
			t.Errorf("Series[%d] = %+v (p99 %v); want %+v (p99 %v)", i, g, gp, wt, wp)
		}
	}
	wantFailed := []report.SecondCode{{T: 2, Code: "DisabledException", Count: 1}, {T: 3, Code: failure.CodeQuotaExceeded, Count: 1}}
	if !reflect.DeepEqual(w.FailedBySecond, wantFailed) {
		t.Errorf("FailedBySecond = %+v; want %+v", w.FailedBySecond, wantFailed)
	}
	if got, want := w.Errors, map[string]int64{"DisabledException": 1, "ThrottlingException": 1, failure.CodeQuotaExceeded: 1}; !equalCounts(got, want) {
		t.Errorf("Errors = %v; want %v", got, want)
	}
	if w.SentPerS != 4.0/5 || w.GoodputPerS != 2.0/5 {
		t.Errorf("SentPerS, GoodputPerS = %v, %v; want %v, %v", w.SentPerS, w.GoodputPerS, 4.0/5, 2.0/5)
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestRecorderLateCompletion(t *testing.T) {
	r := record.NewRecorder(t0, infos("w"))
	r.Done(0, at(2.49), at(2.5), 1, record.OK, "") // 10 ms, second 2
	r.Done(0, at(3.08), at(3.1), 1, record.OK, "") // 20 ms, closes second 2
	r.Done(0, at(2.4), at(2.9), 1, record.OK, "")  // 500 ms, late: second 2 already closed
	r.Done(0, at(3.7), at(3.75), 1, record.OK, "") // 50 ms, second 3
	w := r.Finish(at(4))[0]
	if got := w.Series[2].OK; got != 2 {
		t.Errorf("Series[2].OK = %d; want 2 (late completion counted in its own second)", got)
	}
	if got := w.Series[3].OK; got != 2 {
		t.Errorf("Series[3].OK = %d; want 2", got)
	}
	if got := w.Series[2].P99Ms; !within(got, 10, 0.001) {
		t.Errorf("Series[2].P99Ms = %v; want 10 (interval closed before the late completion)", got)
	}
	if got := w.Series[3].P99Ms; !within(got, 500, 0.001) {
		t.Errorf("Series[3].P99Ms = %v; want 500 (late completion lands in the open interval)", got)
	}
	var buf bytes.Buffer
	if err := r.WriteHlog(0, &buf); err != nil {
		t.Fatalf("WriteHlog error: %v", err)
	}
	hs := readHlog(t, &buf)
	wantCounts := []int64{0, 0, 1, 3}
	if len(hs) != len(wantCounts) {
		t.Fatalf("hlog has %d intervals; want %d", len(hs), len(wantCounts))
	}
	for i, h := range hs {
		if h.TotalCount() != wantCounts[i] {
			t.Errorf("hlog interval %d count = %d; want %d", i, h.TotalCount(), wantCounts[i])
		}
	}
}

func TestRecorderHlog(t *testing.T) {
	start := t0.Add(350 * time.Millisecond) // not on a whole second
	r := record.NewRecorder(start, infos("w"))
	perSec := []int{3, 0, 5, 1, 7}
	total := int64(0)
	for s, n := range perSec {
		for i := 0; i < n; i++ {
			d := start.Add(time.Duration(s)*time.Second + time.Duration(i+1)*10*time.Millisecond)
			r.Sent(0, d)
			r.Done(0, d.Add(-time.Duration(i+1)*time.Millisecond), d, 1, record.OK, "")
			total++
		}
	}
	w := r.Finish(start.Add(5 * time.Second))[0]
	var buf bytes.Buffer
	if err := r.WriteHlog(0, &buf); err != nil {
		t.Fatalf("WriteHlog error: %v", err)
	}
	text := buf.String()
	for _, want := range []string{"#[Histogram log format version", "#[StartTime: ", "#[BaseTime: ", `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`} {
		if !strings.Contains(text, want) {
			t.Errorf("hlog lacks %q:\n%s", want, text)
		}
	}
	hs := readHlog(t, &buf)
	if len(hs) != len(perSec) {
		t.Fatalf("hlog has %d intervals; want %d", len(hs), len(perSec))
	}
	var sum int64
	for i, h := range hs {
		sum += h.TotalCount()
		if h.TotalCount() != int64(perSec[i]) {
			t.Errorf("interval %d count = %d; want %d", i, h.TotalCount(), perSec[i])
		}
		wantStart := start.UnixMilli() + int64(i)*1000
		if d := h.StartTimeMs() - wantStart; d < -1 || d > 1 {
			t.Errorf("interval %d StartTimeMs = %d; want %d", i, h.StartTimeMs(), wantStart)
		}
	}
	if sum != total || sum != w.Requests {
		t.Errorf("sum of interval counts = %d; want %d (requests %d)", sum, total, w.Requests)
	}
}

func TestRecorderProgress(t *testing.T) {
	r := record.NewRecorder(t0, infos("a", "b"))
	for i := 0; i < 10; i++ {
		in := at(1 + float64(i)/10)
		w := i % 2
		r.Sent(w, in)
		o := record.OK
		if i < 3 {
			o = record.Throttled
		}
		r.Attempt(w, in, ms(1), o, "")
		if o == record.OK {
			r.Done(w, in, in.Add(ms(float64(i+1))), 1, record.OK, "")
		}
	}
	r.Dropped(0, at(0.1))
	r.Dropped(1, at(1.1))
	p := r.Progress(at(2.2))
	want := record.Progress{Elapsed: 2200 * time.Millisecond, SentPerS: 10, OKPerS: 7, ThrottledShare: 0.3, Dropped: 2}
	gotP99 := p.P99Ms
	p.P99Ms = 0
	if p != want {
		t.Errorf("Progress(2.2s) = %+v; want %+v", p, want)
	}
	// Workload b's latencies in second 1 are 2,4,...,10 ms, a's 5,7,9 ms.
	if !within(gotP99, 10, 0.001) {
		t.Errorf("Progress(2.2s).P99Ms = %v; want 10", gotP99)
	}
	if p := r.Progress(at(0.5)); p.SentPerS != 0 || p.Dropped != 2 {
		t.Errorf("Progress(0.5s) = %+v; want no complete second and Dropped 2", p)
	}
}

func TestRecorderFinishRates(t *testing.T) {
	r := record.NewRecorder(t0, infos("w"))
	for i := 0; i < 40; i++ {
		in := at(float64(i) / 10)
		r.Sent(0, in)
		r.Done(0, in, in.Add(ms(1)), 1, record.OK, "")
	}
	for i := 0; i < 20; i++ {
		r.CacheHit(0, at(float64(i)/10))
	}
	w := r.Finish(at(4))[0]
	if w.SentPerS != 10 || w.GoodputPerS != 15 {
		t.Errorf("SentPerS, GoodputPerS = %v, %v; want 10, 15", w.SentPerS, w.GoodputPerS)
	}
	if w.Attempts != 40 {
		t.Errorf("Attempts = %d; want 40 (from Done when no Attempt was recorded)", w.Attempts)
	}
	if len(w.Series) != 4 {
		t.Errorf("len(Series) = %d; want 4", len(w.Series))
	}
	if w.Name != "w" || w.Bucket != "111111111111/us-east-1/symmetric" || w.Key != "k-w" || w.TargetPerS != 100 {
		t.Errorf("Finish did not copy WorkloadInfo: %+v", w)
	}
	again := r.Finish(at(10))[0]
	if again.Requests != w.Requests || len(again.Series) != len(w.Series) {
		t.Errorf("second Finish = %d requests, %d seconds; want %d, %d", again.Requests, len(again.Series), w.Requests, len(w.Series))
	}
}

func TestRecorderNoAllocs(t *testing.T) {
	r := record.NewRecorder(t0, infos("w"))
	in := at(0.1)
	done := at(0.2)
	r.Sent(0, in)
	r.Done(0, in, done, 1, record.Failed, "DisabledException")
	allocs := testing.AllocsPerRun(1000, func() {
		r.Sent(0, in)
		r.Attempt(0, in, ms(3), record.OK, "")
		r.Done(0, in, done, 1, record.OK, "")
		r.Done(0, in, done, 1, record.Failed, "DisabledException")
	})
	if allocs != 0 {
		t.Errorf("Sent+Attempt+Done allocations per call = %v; want 0", allocs)
	}
}

func BenchmarkDone(b *testing.B) {
	r := record.NewRecorder(t0, infos("w"))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			// 10,000 completions per virtual second, so intervals rotate.
			in := t0.Add(time.Duration(i) * 100 * time.Microsecond)
			r.Done(0, in, in.Add(3*time.Millisecond), 1, record.OK, "")
			i++
		}
	})
}

// hlogSeconds is the length of the long interval-log tests: long enough
// for a workload's log to outgrow the 256 KB the recorder keeps in memory.
const hlogSeconds = 3600

// latencyAt returns the latency of request i of second s: spread from
// 100 us to 100 s, different every second, so that the interval log's
// lines are as varied as a real run's.
func latencyAt(s, i int) time.Duration {
	x := uint64(s*7919+i*104729) * 0x9e3779b97f4a7c15
	exp := float64(x>>40) / float64(1<<24) * 6 // 0..6 decades
	return time.Duration(100 * math.Pow(10, exp) * float64(time.Microsecond))
}

// recordLong records hlogSeconds seconds of workload 0 of r (started at
// start): perSec(s) requests in second s, and calls each(s) after each
// second's requests.
func recordLong(r *record.Recorder, start time.Time, perSec func(s int) int, each func(s int)) {
	for s := range hlogSeconds {
		for i := range perSec(s) {
			done := start.Add(time.Duration(s)*time.Second + time.Duration(i+1)*time.Millisecond)
			intended := done.Add(-latencyAt(s, i))
			r.Sent(0, intended)
			r.Attempt(0, intended, latencyAt(s, i)/2, record.OK, "")
			r.Done(0, intended, done, 1, record.OK, "")
		}
		if each != nil {
			each(s)
		}
	}
}

// openSpoolFiles lists this process's open files whose name starts with
// dir/kmsload-hlog- (Linux, from /proc/self/fd); ok is false elsewhere.
func openSpoolFiles(t *testing.T, dir string) (files []string, ok bool) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, false
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, filepath.Join(dir, "kmsload-hlog-")) {
			files = append(files, target)
		}
	}
	return files, true
}

// TestRecorderHlogLong checks that a long run's interval log, most of it
// kept in a temporary file, is byte for byte what hdrhistogram-go's log
// writer writes for the same 1-second intervals, and that Close releases
// the file.
func TestRecorderHlogLong(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir on unix
	start := t0.Add(1250 * time.Millisecond)
	perSec := func(s int) int {
		switch {
		case s%97 == 5:
			return 0 // an empty interval
		case s%613 == 7:
			return 400
		}
		return 1 + s%9
	}
	// The same intervals, built here and written by the library.
	var want bytes.Buffer
	lw := hdr.NewHistogramLogWriter(&want)
	lw.SetBaseTime(start.Truncate(time.Second).UnixMilli())
	for s := range hlogSeconds {
		h := hdr.New(record.HistLowestUs, record.HistHighestUs, record.HistSigFigs)
		for i := range perSec(s) {
			if err := h.RecordValue(latencyAt(s, i).Microseconds()); err != nil {
				t.Fatalf("RecordValue: %v", err)
			}
		}
		h.SetStartTimeMs(start.UnixMilli() + int64(s)*1000)
		h.SetEndTimeMs(start.UnixMilli() + int64(s+1)*1000)
		if err := lw.OutputIntervalHistogram(h); err != nil {
			t.Fatalf("OutputIntervalHistogram: %v", err)
		}
	}

	r := record.NewRecorder(start, infos("w"))
	recordLong(r, start, perSec, nil)
	r.Finish(start.Add(hlogSeconds * time.Second))
	if files, ok := openSpoolFiles(t, tmp); ok && len(files) != 1 {
		t.Errorf("open interval-log files in %s: %q; want 1", tmp, files)
	}
	var got bytes.Buffer
	if err := r.WriteHlog(0, &got); err != nil {
		t.Fatalf("WriteHlog: %v", err)
	}
	legend := `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"` + "\n"
	_, body, found := strings.Cut(got.String(), legend)
	if !found {
		t.Fatalf("hlog has no legend line:\n%.500s", got.String())
	}
	if len(body) < 300<<10 {
		t.Fatalf("hlog body is %d bytes; want over 300 KB, to outgrow the memory kept", len(body))
	}
	if body != want.String() {
		gl, wl := strings.Split(body, "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("hlog line %d after the legend:\n got %q\nwant %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("hlog has %d lines after the legend; want %d", len(gl), len(wl))
	}
	// Writing twice gives the same log.
	var again bytes.Buffer
	if err := r.WriteHlog(0, &again); err != nil || !bytes.Equal(again.Bytes(), got.Bytes()) {
		t.Errorf("second WriteHlog: %d bytes, error %v; want the same %d bytes", again.Len(), err, got.Len())
	}

	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v; want nil", err)
	}
	if files, ok := openSpoolFiles(t, tmp); ok && len(files) != 0 {
		t.Errorf("open interval-log files after Close: %q; want none", files)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Errorf("files in %s after Close: %v (error %v); want none", tmp, left, err)
	}
	if err := r.WriteHlog(0, io.Discard); err == nil {
		t.Errorf("WriteHlog after Close: nil error; want one")
	}
}

// TestRecorderMemoryFlat checks that what a recorder keeps grows with the
// run's length by the per-second series only: an hour of a workload with
// 5 to 24 requests a second, of latencies spread over six decades (log
// lines of about 160 B), measured from the live heap after collections.
//
// The series holds one Second per second (unsafe.Sizeof, 80 B); its slice
// grows by steps (up to twice the length before 256 elements, about 1.25
// times after), so between minute 1 and hour 1 it adds at most about
// 1.3 Seconds per second. The budget is 2 Seconds per second (160 B): an
// interval log kept in memory adds its lines (here about 160 B a second,
// more in the buffer's growth steps) and fails it, as would any other
// per-second data of that size.
func TestRecorderMemoryFlat(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	budget := 2 * float64(unsafe.Sizeof(report.Second{}))
	const from = 60
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	r := record.NewRecorder(t0, infos("w"))
	var h0 uint64
	recordLong(r, t0, func(s int) int { return 5 + s%20 }, func(s int) {
		if s == from {
			r.Progress(at(float64(s + 1)))
			h0 = heap()
		}
	})
	r.Progress(at(hlogSeconds))
	h1 := heap()
	perS := (float64(h1) - float64(h0)) / (hlogSeconds - from)
	t.Logf("live heap: second %d %d KB, second %d %d KB: %.0f B per second (budget %.0f)", from, h0>>10, hlogSeconds, h1>>10, perS, budget)
	if perS > budget {
		t.Errorf("recorder's live heap grew by %.0f B per recorded second (%d KB at second %d, %d KB at second %d); want at most %.0f B (2 Seconds of series)",
			perS, h0>>10, from, h1>>10, hlogSeconds, budget)
	}
	w := r.Finish(at(hlogSeconds))[0]
	if len(w.Series) != hlogSeconds {
		t.Errorf("len(Series) = %d; want %d", len(w.Series), hlogSeconds)
	}
	var buf bytes.Buffer
	if err := r.WriteHlog(0, &buf); err != nil {
		t.Fatalf("WriteHlog: %v", err)
	}
	if got := sumHlog(t, &buf); got != w.Requests {
		t.Errorf("sum of hlog interval counts = %d; want %d", got, w.Requests)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
