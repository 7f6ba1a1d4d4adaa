package main_test

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kmsload/kmsload/report"
)

// scrape reads url's metrics in the text format.
func scrape(t *testing.T, url string) scraped {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return fams
}

// scraped is one scrape's metric families by name.
type scraped map[string]*dto.MetricFamily

// sum adds up the series of name whose labels include every label of
// match (name=value pairs); for a histogram it adds the sample counts. It
// also reports whether any series matched.
func (s scraped) sum(name string, match ...string) (float64, bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
	var total float64
	found := false
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(match); i += 2 {
			if have[match[i]] != match[i+1] {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total, found
}

// phase returns the phase label of kmsload_run_info.
func (s scraped) phase() string {
	f := s["kmsload_run_info"]
	if f == nil || len(f.GetMetric()) != 1 {
		return ""
	}
	for _, l := range f.GetMetric()[0].GetLabel() {
		if l.GetName() == "phase" {
			return l.GetValue()
		}
	}
	return ""
}

// checkWindow compares the counters of one window with its results.
func checkWindow(t *testing.T, s scraped, window string, w report.Workload) {
	t.Helper()
	wl := []string{"window", window, "workload", w.Name}
	with := func(kv ...string) []string { return append(append([]string(nil), wl...), kv...) }
	for _, c := range []struct {
		what   string
		metric string
		match  []string
		want   int64
	}{
		{"requests (sent)", "kmsload_sent_total", wl, w.Requests},
		{"finished requests", "kmsload_requests_total", wl, w.Requests},
		{"ok", "kmsload_requests_total", with("outcome", "ok"), w.OK},
		{"throttled requests", "kmsload_requests_total", with("outcome", "throttled"), w.ThrottledRequests},
		{"failed requests", "kmsload_requests_total", with("outcome", "failed"), w.Requests - w.OK - w.ThrottledRequests},
		{"attempts", "kmsload_attempts_total", with("bucket", w.Bucket), w.Attempts},
		{"throttled attempts", "kmsload_attempts_total", with("bucket", w.Bucket, "outcome", "throttled"), w.ThrottledAttempts},
		{"dropped", "kmsload_dropped_total", wl, w.Dropped},
		{"cache hits", "kmsload_cache_hits_total", wl, w.CacheHits},
		{"latency count", "kmsload_request_latency_seconds", wl, w.Requests},
		{"service-time count", "kmsload_attempt_service_seconds", wl, w.Attempts},
	} {
		got, ok := s.sum(c.metric, c.match...)
		if !ok || int64(got) != c.want {
			t.Errorf("window %s, %s: %s%v = %v (found %v); results.json says %d", window, w.Name, c.metric, c.match, got, ok, c.want)
		}
	}
	errs, _ := s.sum("kmsload_errors_total", wl...)
	var want int64
	for code, n := range w.Errors {
		want += n
		if got, ok := s.sum("kmsload_errors_total", with("code", code)...); !ok || int64(got) != n {
			t.Errorf("window %s, %s: errors %s = %v (found %v); results.json says %d", window, w.Name, code, got, ok, n)
		}
	}
	if int64(errs) != want {
		t.Errorf("window %s, %s: %v errors in all; results.json says %d", window, w.Name, errs, want)
	}
}

// TestRunMetricsMatchResults runs a throttled scenario with --isolate and
// --metrics-addr, scrapes /metrics during the isolated window, and again
// while --metrics-linger keeps the server up after results.json is
// written: every counter of each window then equals results.json.
func TestRunMetricsMatchResults(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(bin, "run", "testdata/throttle.yaml", "--isolate", "--duration", "3s",
		"--metrics-addr", "127.0.0.1:0", "--metrics-linger", "2m", "--out", out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	watchdog := time.AfterFunc(90*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	urlRE := regexp.MustCompile(`^metrics: (http://127\.0\.0\.1:\d+/metrics)$`)
	sc := bufio.NewScanner(stderr)
	var url string
	var mid scraped
	var log []string
	lingering := false
	for sc.Scan() {
		line := sc.Text()
		log = append(log, line)
		if m := urlRE.FindStringSubmatch(line); m != nil {
			url = m[1]
		}
		// The first progress line: the isolated window is running.
		if mid == nil && url != "" && strings.HasPrefix(line, "[isolated") && strings.Contains(line, "sent") {
			mid = scrape(t, url)
		}
		if strings.HasPrefix(line, "metrics: final values at ") {
			lingering = true
			break
		}
	}
	if url == "" || mid == nil || !lingering {
		t.Fatalf("stderr: url %q, mid-run scrape %v, lingering %v:\n%s", url, mid != nil, lingering, strings.Join(log, "\n"))
	}
	final := scrape(t, url)
	go func() {
		for sc.Scan() {
		}
	}()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kmsload run after Ctrl-C while lingering: %v; want exit 0\n%s", err, stdout.String())
	}
	res := readResults(t, out)

	// During the run: live, partial counts of the running window.
	if p := mid.phase(); p != "isolated:hot" {
		t.Errorf("mid-run phase = %q; want isolated:hot", p)
	}
	if n, _ := mid.sum("kmsload_sent_total", "window", "isolated:hot"); n <= 0 {
		t.Errorf("mid-run kmsload_sent_total = %v; want > 0", n)
	}
	for _, name := range []string{"kmsload_sent_total", "kmsload_requests_total", "kmsload_attempts_total", "kmsload_request_latency_seconds"} {
		got, _ := mid.sum(name, "window", "isolated:hot")
		end, _ := final.sum(name, "window", "isolated:hot")
		if got > end {
			t.Errorf("%s went down: %v mid-run, %v at the end", name, got, end)
		}
	}

	// At the end: exactly results.json, window by window.
	if p := final.phase(); p != "done" {
		t.Errorf("final phase = %q; want done", p)
	}
	if len(res.Workloads) != 1 || len(res.Isolated) != 1 || len(res.Buckets) != 1 {
		t.Fatalf("results: %d workloads, %d isolated, %d buckets; want 1 each", len(res.Workloads), len(res.Isolated), len(res.Buckets))
	}
	w := res.Workloads[0]
	if w.ThrottledAttempts == 0 || w.OK == 0 {
		t.Errorf("combined window: %d ok, %d throttled attempts; the scenario offers 120%% of the quota", w.OK, w.ThrottledAttempts)
	}
	checkWindow(t, final, "isolated:hot", res.Isolated["hot"])
	checkWindow(t, final, "combined", w)
	b := res.Buckets[0]
	if got, ok := final.sum("kmsload_bucket_quota_per_second", "bucket", b.Name); !ok || got != b.QuotaPerS {
		t.Errorf("kmsload_bucket_quota_per_second{bucket=%q} = %v (found %v); results.json says %v", b.Name, got, ok, b.QuotaPerS)
	}
	all, _ := final.sum("kmsload_attempts_total", "window", "combined", "bucket", b.Name)
	throttled, _ := final.sum("kmsload_attempts_total", "window", "combined", "bucket", b.Name, "outcome", "throttled")
	if int64(all-throttled) != b.Allowed || int64(throttled) != b.Throttled {
		t.Errorf("bucket %s: %v attempts, %v throttled; results.json says allowed %d, throttled %d", b.Name, all, throttled, b.Allowed, b.Throttled)
	}
}

func TestRunMetricsFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-linger", "5s"}, "--metrics-linger needs --metrics-addr"},
		{[]string{"--metrics-addr", "9464"}, "want HOST:PORT"},
		{[]string{"--metrics-addr", "127.0.0.1:0", "--metrics-linger", "-1s"}, "must not be negative"},
	} {
		args := append([]string{"run", "testdata/small.yaml", "--quiet", "--out", t.TempDir()}, c.args...)
		_, stderr, code := kmsload(t, args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("kmsload %v: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
