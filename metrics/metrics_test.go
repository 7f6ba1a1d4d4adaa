package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kmsload/kmsload/metrics"
	"github.com/kmsload/kmsload/record"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

const (
	bucketA = "111111111111/us-east-1/symmetric"
	bucketB = "222222222222/us-east-1/rsa"
)

func workloads() []record.WorkloadInfo {
	return []record.WorkloadInfo{
		{Name: "a", Operation: "Decrypt", Bucket: bucketA, BucketQuotaPerS: 50},
		{Name: "b", Operation: "Sign", Bucket: bucketB, BucketQuotaPerS: 5},
	}
}

// flatten turns metric families into "name{label="value",...}" -> value,
// labels sorted; histograms give _count, _sum and _bucket{le} entries.
func flatten(fams []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			key := func(suffix string, extra ...string) string {
				all := append(append([]string(nil), ls...), extra...)
				sort.Strings(all)
				return f.GetName() + suffix + "{" + strings.Join(all, ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key("")] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key("")] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				out[key("_count")] = float64(h.GetSampleCount())
				out[key("_sum")] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					out[key("_bucket", fmt.Sprintf("le=%q", fmt.Sprint(b.GetUpperBound())))] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

func gather(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	return flatten(fams)
}

// only keeps the kmsload_ entries of got whose key contains every one of
// subs.
func only(got map[string]float64, subs ...string) map[string]float64 {
	out := map[string]float64{}
next:
	for k, v := range got {
		if !strings.HasPrefix(k, "kmsload_") {
			continue
		}
		for _, s := range subs {
			if !strings.Contains(k, s) {
				continue next
			}
		}
		out[k] = v
	}
	return out
}

func diff(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: %s = %v (present %v); want %v", what, k, g, ok, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected series %s = %v", what, k, g)
		}
	}
}

// observe gives rec a fixed mix of observations on workloads a (0) and b (1).
func observe(rec *record.Recorder) {
	rec.Sent(0, at(0.1))
	rec.Attempt(0, at(0.1), ms(2), record.Throttled, "ThrottlingException")
	rec.Attempt(0, at(0.2), ms(3), record.OK, "")
	rec.Done(0, at(0.1), at(0.203), 2, record.OK, "")
	rec.Sent(0, at(0.3))
	rec.Attempt(0, at(0.3), ms(1), record.Throttled, "")
	rec.Done(0, at(0.3), at(2.301), 1, record.Throttled, "")
	rec.Sent(1, at(1.5))
	rec.Attempt(1, at(1.5), ms(40), record.Failed, "DisabledException")
	rec.Done(1, at(1.5), at(1.54), 1, record.Failed, "DisabledException")
	rec.Sent(1, at(1.6))
	rec.Done(1, at(1.6), at(1.6), 0, record.Failed, "")
	rec.Dropped(1, at(2.8))
	rec.Dropped(1, at(2.9))
	rec.CacheHit(0, at(2.9))
}

func TestObserverCountsExactly(t *testing.T) {
	m := metrics.New()
	rec := record.NewRecorder(t0, workloads())
	rec.SetObserver(m.Window(metrics.WindowCombined, workloads()))
	observe(rec)

	a := `window="combined",workload="a"`
	b := `window="combined",workload="b"`
	want := map[string]float64{
		"kmsload_sent_total{" + a + "}":                              2,
		"kmsload_sent_total{" + b + "}":                              2,
		`kmsload_requests_total{outcome="ok",` + a + "}":             1,
		`kmsload_requests_total{outcome="throttled",` + a + "}":      1,
		`kmsload_requests_total{outcome="failed",` + a + "}":         0,
		`kmsload_requests_total{outcome="ok",` + b + "}":             0,
		`kmsload_requests_total{outcome="throttled",` + b + "}":      0,
		`kmsload_requests_total{outcome="failed",` + b + "}":         2,
		`kmsload_errors_total{code="ThrottlingException",` + a + "}": 1,
		`kmsload_errors_total{code="DisabledException",` + b + "}":   1,
		`kmsload_errors_total{code="Unknown",` + b + "}":             1,
		"kmsload_dropped_total{" + a + "}":                           0,
		"kmsload_dropped_total{" + b + "}":                           2,
		"kmsload_cache_hits_total{" + a + "}":                        1,
		"kmsload_cache_hits_total{" + b + "}":                        0,
	}
	for _, w := range []struct{ wl, bucket string }{{a, bucketA}, {b, bucketB}} {
		for _, o := range []string{"ok", "throttled", "failed"} {
			want[fmt.Sprintf(`kmsload_attempts_total{bucket=%q,outcome=%q,%s}`, w.bucket, o, w.wl)] = 0
		}
	}
	want[`kmsload_attempts_total{bucket="`+bucketA+`",outcome="throttled",`+a+"}"] = 2
	want[`kmsload_attempts_total{bucket="`+bucketA+`",outcome="ok",`+a+"}"] = 1
	want[`kmsload_attempts_total{bucket="`+bucketB+`",outcome="failed",`+b+"}"] = 1
	want[`kmsload_bucket_quota_per_second{bucket="`+bucketA+`"}`] = 50
	want[`kmsload_bucket_quota_per_second{bucket="`+bucketB+`"}`] = 5
	want[`kmsload_run_info{phase="combined",scenario="",target=""}`] = 1

	got := gather(t, m)
	counters := map[string]float64{}
	for k, v := range only(got) {
		if !strings.Contains(k, "_seconds") {
			counters[k] = v
		}
	}
	diff(t, "counters", counters, want)

	// Histograms: latency from the intended time, service per attempt.
	hist := map[string]float64{
		"kmsload_request_latency_seconds_count{" + a + "}":              2,
		"kmsload_request_latency_seconds_count{" + b + "}":              2,
		"kmsload_attempt_service_seconds_count{" + a + "}":              3,
		"kmsload_attempt_service_seconds_count{" + b + "}":              1,
		`kmsload_request_latency_seconds_bucket{le="0.001",` + b + "}":  1, // 0 s
		`kmsload_request_latency_seconds_bucket{le="0.05",` + b + "}":   2, // 40 ms
		`kmsload_request_latency_seconds_bucket{le="0.1",` + a + "}":    0,
		`kmsload_request_latency_seconds_bucket{le="0.25",` + a + "}":   1, // 103 ms
		`kmsload_request_latency_seconds_bucket{le="2.5",` + a + "}":    2, // 2.001 s
		`kmsload_attempt_service_seconds_bucket{le="0.001",` + a + "}":  1,
		`kmsload_attempt_service_seconds_bucket{le="0.0025",` + a + "}": 2,
		`kmsload_attempt_service_seconds_bucket{le="0.005",` + a + "}":  3,
	}
	for k, w := range hist {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v); want %v", k, g, ok, w)
		}
	}
	if s := got["kmsload_request_latency_seconds_sum{"+a+"}"]; s < 2.1039 || s > 2.1041 {
		t.Errorf("latency sum of a = %v s; want 0.103 + 2.001", s)
	}

	// The counters equal the recorder's totals.
	res := rec.Finish(at(3))
	for _, w := range res {
		wl := `window="combined",workload="` + w.Name + `"`
		var attempts, requests float64
		for _, v := range only(got, wl, "kmsload_attempts_total") {
			attempts += v
		}
		for _, v := range only(got, wl, "kmsload_requests_total") {
			requests += v
		}
		if int64(attempts) != w.Attempts || int64(requests) != w.Requests {
			t.Errorf("%s: attempts %v, finished requests %v; recorder says %d, %d", w.Name, attempts, requests, w.Attempts, w.Requests)
		}
		errs := map[string]int64{}
		for k, v := range only(got, wl, "kmsload_errors_total") {
			code := strings.TrimSuffix(strings.SplitN(k, `code="`, 2)[1], `",`+wl+"}")
			errs[code] = int64(v)
		}
		if !reflect.DeepEqual(errs, w.Errors) {
			t.Errorf("%s: errors %v; recorder says %v", w.Name, errs, w.Errors)
		}
	}
}

func TestWindowsKeepTheirOwnSeries(t *testing.T) {
	m := metrics.New()
	m.SetRun("quickstart", "embedded")
	if got := only(gather(t, m), "kmsload_run_info"); !reflect.DeepEqual(got, map[string]float64{
		`kmsload_run_info{phase="starting",scenario="quickstart",target="embedded"}`: 1}) {
		t.Errorf("run info before any window: %v", got)
	}
	wls := workloads()
	iso := m.Window(metrics.IsolatedWindow("a"), wls[:1])
	iso.Sent(0, at(0))
	iso.Sent(0, at(0.5))
	iso.Done(0, at(0), at(0.001), 1, record.OK, "")
	comb := m.Window(metrics.WindowCombined, wls)
	comb.Sent(0, at(10))
	comb.Sent(1, at(10))
	iso.Sent(0, at(0.9)) // a late call of the isolated window stays there

	got := gather(t, m)
	want := map[string]float64{
		`kmsload_sent_total{window="isolated:a",workload="a"}`: 3,
		`kmsload_sent_total{window="combined",workload="a"}`:   1,
		`kmsload_sent_total{window="combined",workload="b"}`:   1,
	}
	diff(t, "sent", only(got, "kmsload_sent_total"), want)
	if g := got[`kmsload_requests_total{outcome="ok",window="isolated:a",workload="a"}`]; g != 1 {
		t.Errorf("isolated ok requests = %v; want 1", g)
	}
	if g := got[`kmsload_requests_total{outcome="ok",window="combined",workload="a"}`]; g != 0 {
		t.Errorf("combined ok requests = %v; want 0", g)
	}
	diff(t, "run info", only(got, "kmsload_run_info"), map[string]float64{
		`kmsload_run_info{phase="combined",scenario="quickstart",target="embedded"}`: 1})
	m.SetPhase(metrics.PhaseDone)
	diff(t, "run info at the end", only(gather(t, m), "kmsload_run_info"), map[string]float64{
		`kmsload_run_info{phase="done",scenario="quickstart",target="embedded"}`: 1})
}

func TestObserverAllocatesNothing(t *testing.T) {
	m := metrics.New()
	o := m.Window(metrics.WindowCombined, workloads())
	o.Done(0, at(0), at(0.1), 1, record.Throttled, "ThrottlingException") // first use of the code
	for name, f := range map[string]func(){
		"Sent":     func() { o.Sent(0, at(0)) },
		"Dropped":  func() { o.Dropped(1, at(0)) },
		"CacheHit": func() { o.CacheHit(0, at(0)) },
		"Attempt":  func() { o.Attempt(1, at(0), ms(3), record.Throttled, "ThrottlingException") },
		"Done":     func() { o.Done(0, at(0), at(0.2), 2, record.OK, "") },
		"DoneErr":  func() { o.Done(0, at(0), at(0.2), 3, record.Throttled, "ThrottlingException") },
	} {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per call; want 0", name, n)
		}
	}
}

func TestMetricsHandlerServesText(t *testing.T) {
	m := metrics.New()
	o := m.Window(metrics.WindowCombined, workloads())
	o.Sent(1, at(0))
	o.Attempt(1, at(0), ms(1), record.OK, "")
	o.Done(1, at(0), at(0.001), 1, record.OK, "")
	ts := httptest.NewServer(m.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q; want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var list []*dto.MetricFamily
	for _, f := range fams {
		list = append(list, f)
	}
	got := flatten(list)
	want := gather(t, m)
	for _, k := range []string{
		`kmsload_sent_total{window="combined",workload="b"}`,
		`kmsload_requests_total{outcome="ok",window="combined",workload="b"}`,
		`kmsload_attempts_total{bucket="` + bucketB + `",outcome="ok",window="combined",workload="b"}`,
		`kmsload_request_latency_seconds_count{window="combined",workload="b"}`,
	} {
		if got[k] != 1 || want[k] != 1 {
			t.Errorf("scraped %s = %v, gathered %v; want 1", k, got[k], want[k])
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no go_goroutines: the Go collector is not registered")
	}
}

func TestObserverConcurrentWithScrapes(t *testing.T) {
	m := metrics.New()
	o := m.Window(metrics.WindowCombined, workloads())
	const goroutines, each = 8, 500
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			if _, err := m.Gatherer().Gather(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			code := fmt.Sprintf("Code%d", g%3)
			for range each {
				o.Sent(g%2, at(0))
				o.Attempt(g%2, at(0), ms(1), record.Failed, code)
				o.Done(g%2, at(0), at(0.01), 1, record.Failed, code)
			}
		})
	}
	wg.Wait()
	<-done
	got := gather(t, m)
	var sent, failed, errs float64
	for _, v := range only(got, "kmsload_sent_total") {
		sent += v
	}
	for _, v := range only(got, "kmsload_requests_total", `outcome="failed"`) {
		failed += v
	}
	for _, v := range only(got, "kmsload_errors_total") {
		errs += v
	}
	if want := float64(goroutines * each); sent != want || failed != want || errs != want {
		t.Errorf("sent %v, failed %v, errors %v; want %v each", sent, failed, errs, want)
	}
	if n := len(only(got, "kmsload_errors_total")); n != 6 {
		t.Errorf("%d error series; want 6 (3 codes x 2 workloads)", n)
	}
}
