package report_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		expr   string
		metric string
		op     string
		limit  float64
		unit   string
	}{
		{"p99 < 50ms", "p99", "<", 50, "ms"},
		{"p999<200ms", "p999", "<", 200, "ms"},
		{"  P50 <= 800 us ", "p50", "<=", 800, "us"},
		{"p90 < 3µs", "p90", "<", 3, "us"},
		{"max >= 1.5s", "max", ">=", 1.5, "s"},
		{"throttled_attempts < 2%", "throttled_attempts", "<", 2, "%"},
		{"throttled_requests < 0.1%", "throttled_requests", "<", 0.1, "%"},
		{"errors < 0.001", "errors", "<", 0.001, ""},
		{"goodput > 900/s", "goodput", ">", 900, "/s"},
		{"sent >= 1e3/s", "sent", ">=", 1000, "/s"},
		{"goodput > 900", "goodput", ">", 900, "/s"},
		{"dropped < 10", "dropped", "<", 10, ""},
		{"dropped <= 1%", "dropped", "<=", 1, "%"},
		{"failures < 1%", "failures", "<", 1, "%"},
		{"goodput > 95%", "goodput", ">", 95, "%"},
		{"error:AccessDeniedException < 0.1%", "error", "<", 0.1, "%"},
		{"error:retry-quota<=0.05", "error", "<=", 0.05, ""},
		{"error:HTTP503 < 1%", "error", "<", 1, "%"},
	}
	for _, tt := range tests {
		c, err := report.ParseThreshold(tt.expr)
		if err != nil {
			t.Errorf("ParseThreshold(%q) error: %v", tt.expr, err)
			continue
		}
		if c.Metric != tt.metric || c.Op != tt.op || c.Limit != tt.limit || c.Unit != tt.unit || c.Expr != tt.expr {
			t.Errorf("ParseThreshold(%q) = %+v; want metric %s op %s limit %g unit %q", tt.expr, c, tt.metric, tt.op, tt.limit, tt.unit)
		}
	}
}

func TestParseThresholdErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // part of the message
	}{
		{"", "empty expression"},
		{"p95 < 50ms", `unknown metric "p95" (want p50, p90, p99`},
		{"p99 50ms", `no operator before "50ms"`},
		{"p99 == 50ms", `operator "=="`},
		{"p99 != 50ms", `operator "!="`},
		{"p99", "no operator and limit after p99"},
		{"p99 <", "no limit after <"},
		{"p99 < 50", "latency limit needs a unit: ms, s or us"},
		{"p99 < 50min", `latency unit "min"`},
		{"p99 < fast", `limit "fast": want a number`},
		{"p99 < -5ms", "negative"},
		{"errors < 2", "share 2 is over 1"},
		{"errors < 101%", "over 100%"},
		{"errors < 1ms", `share unit "ms"`},
		{"goodput > 900/min", `rate unit "/min"`},
		{"dropped < 2.5", "not a whole number"},
		{"dropped < 5/s", `unit "/s"`},
		{"< 50ms", "want METRIC OP LIMIT"},
		{"p99 < NaNms", "want a number"},
		{"error < 1%", "metric error needs a code or failure class"},
		{"error: < 1%", "want an error code such as AccessDeniedException or a failure class (throttled, retry-quota"},
		{"error:denied < 1%", "error:denied: want an error code"},
		{"error:AccessDeniedException < 1ms", `share unit "ms"`},
		{"goodput > 101%", "over 100%"},
	}
	for _, tt := range tests {
		_, err := report.ParseThreshold(tt.expr)
		if err == nil {
			t.Errorf("ParseThreshold(%q) = nil error; want %q", tt.expr, tt.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) || !strings.Contains(msg, fmt.Sprintf("%q", tt.expr)) || !strings.HasPrefix(msg, "report: ") {
			t.Errorf("ParseThreshold(%q) error %q; want it to quote the expression and contain %q", tt.expr, msg, tt.want)
		}
		if !errors.Is(err, report.ErrThreshold) {
			t.Errorf("ParseThreshold(%q) error does not wrap ErrThreshold", tt.expr)
		}
	}
}

func TestEvaluateThresholds(t *testing.T) {
	r := reporttest.Thresholds()
	got, err := report.EvaluateThresholds(map[string][]string{
		"all": {"errors < 1%"},
		"busy": {"p99 < 50ms", "p99 < 1s", "throttled_attempts < 25%", "throttled_requests <= 0.05", "goodput > 60000/s", "dropped < 10", "dropped < 20%", "max < 3s",
			"error:QuotaExceededError < 5%", "error:retry-quota <= 7.5%", "error:throttled < 0.06", "error:dropped < 25%", "failures < 30%", "goodput > 90%"},
		"idle": {"p50 < 1ms"},
	}, r)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		workload, expr string
		value          float64
		pass           bool
	}
	wants := []want{
		{"busy", "errors < 1%", 12.5, false}, // 1000 failed of 8000
		{"busy", "p99 < 50ms", 975.5, false},
		{"busy", "p99 < 1s", 0.9755, true},
		{"busy", "throttled_attempts < 25%", 24, true},
		{"busy", "throttled_requests <= 0.05", 0.05, true},
		{"busy", "goodput > 60000/s", 70000, true}, // 700/s at scale 0.01
		{"busy", "dropped < 10", 2000, false},
		{"busy", "dropped < 20%", 20, false}, // 2000 of 10000 arrivals
		{"busy", "max < 3s", 3, false},
		{"busy", "error:QuotaExceededError < 5%", 7.5, false}, // 600 of 8000 requests
		{"busy", "error:retry-quota <= 7.5%", 7.5, true},
		{"busy", "error:throttled < 0.06", 0.05, true}, // 400 of 8000
		{"busy", "error:dropped < 25%", 20, true},      // 2000 of 10000 arrivals
		{"busy", "failures < 30%", 26, true},           // 600 + 2000 dropped of 10000 arrivals
		{"busy", "goodput > 90%", 87.5, false},         // 700/s of 800/s target
		{"quiet", "errors < 1%", 0, true},
		{"idle", "errors < 1%", 0, false},
		{"idle", "p50 < 1ms", 0, false},
	}
	if len(got) != len(wants) {
		t.Fatalf("EvaluateThresholds: %d thresholds; want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		g := got[i]
		if g.Workload != w.workload || g.Expr != w.expr || math.Abs(g.Value-w.value) > 1e-9 || g.Pass != w.pass {
			t.Errorf("threshold %d = {%s %q %g pass=%v}; want {%s %q %g pass=%v}", i, g.Workload, g.Expr, g.Value, g.Pass, w.workload, w.expr, w.value, w.pass)
		}
	}
	if got[16].Note == "" || got[0].Note != "" {
		t.Errorf("notes: idle %q, busy %q; want a note only where nothing was measured", got[16].Note, got[0].Note)
	}
	if len(r.Thresholds) != len(got) {
		t.Errorf("r.Thresholds has %d entries; want %d", len(r.Thresholds), len(got))
	}
	if n := report.ThresholdsFailed(got); n != 9 {
		t.Errorf("ThresholdsFailed = %d; want 9", n)
	}
}

func TestEvaluateThresholdsErrors(t *testing.T) {
	tests := []struct {
		th   map[string][]string
		want []string
	}{
		{map[string][]string{"nope": {"p99 < 1ms"}}, []string{`unknown workload "nope"`}},
		{map[string][]string{"busy": {"p99 < 1ms", "p99 < 1"}, "all": {"p95 < 1ms"}},
			[]string{"thresholds.busy[1]: ", "thresholds.all[0]: ", `"p95 < 1ms"`}},
	}
	for _, tt := range tests {
		r := reporttest.Thresholds()
		_, err := report.EvaluateThresholds(tt.th, r)
		if err == nil {
			t.Errorf("EvaluateThresholds(%v) = nil error", tt.th)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("EvaluateThresholds(%v) error %q lacks %q", tt.th, err, w)
			}
		}
		if r.Thresholds != nil {
			t.Errorf("EvaluateThresholds(%v) with an error changed r.Thresholds: %+v", tt.th, r.Thresholds)
		}
	}
}

func TestThresholdsInText(t *testing.T) {
	r := reporttest.Thresholds()
	if _, err := report.EvaluateThresholds(map[string][]string{"busy": {"p99 < 50ms"}, "quiet": {"throttled_attempts < 2%"}}, r); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := render.WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(b.String(), "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, want := range []string{"FAIL busy p99 < 50ms 975.5ms", "pass quiet throttled_attempts < 2% 0%"} {
		if !lines[want] {
			t.Errorf("WriteText lacks the line %q:\n%s", want, b.String())
		}
	}
}

func ExampleParseThreshold() {
	for _, expr := range []string{"p99 < 50ms", "throttled_requests < 0.1%", "goodput > 900/s", "p99 < 50"} {
		c, err := report.ParseThreshold(expr)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s %g %s\n", c.Metric, c.Op, c.Limit, c.Unit)
	}
	// Output:
	// p99 < 50 ms
	// throttled_requests < 0.1 %
	// goodput > 900 /s
	// report: threshold "p99 < 50": latency limit needs a unit: ms, s or us (e.g. "p99 < 50ms"): invalid threshold
}
