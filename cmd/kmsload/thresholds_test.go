package main_test

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// junitReport is the part of JUnit XML that CI systems read.
type junitReport struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestRunThresholds runs a scenario whose thresholds hold (exit 0) and one
// whose thresholds fail (exit 99), and checks the JUnit XML and Markdown
// summary of each.
func TestRunThresholds(t *testing.T) {
	tests := []struct {
		file          string
		code          int
		cases, failed int      // JUnit testcases (thresholds, "run completed", an error budget per workload) and failures
		failures      []string // expressions that must fail
		line          string
	}{
		{"testdata/thresholds_pass.yaml", 0, 8, 0, nil, "thresholds: all 6 passed"},
		{"testdata/thresholds_fail.yaml", 99, 5, 2, []string{"p99 < 1us", "goodput > 100000/s"}, "thresholds: 2 of 3 FAILED"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			junit, md := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md")
			if err := os.WriteFile(md, []byte("earlier step\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := kmsload(t, "run", tt.file, "--quiet", "--out", filepath.Join(dir, "out"), "--junit", junit, "--summary-md", md)
			if code != tt.code {
				t.Fatalf("kmsload run %s: exit %d; want %d\n%s\n%s", tt.file, code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, "\nThresholds") || !strings.Contains(stdout, tt.line) {
				t.Errorf("stdout lacks the thresholds table or %q:\n%s", tt.line, stdout)
			}
			if tt.code == 99 && !strings.Contains(stderr, "2 of 3 thresholds failed") {
				t.Errorf("stderr %q; want the count of failed thresholds", stderr)
			}

			data, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			var rep junitReport
			if err := xml.Unmarshal(data, &rep); err != nil {
				t.Fatalf("JUnit XML does not parse: %v\n%s", err, data)
			}
			if len(rep.Suites) != 1 {
				t.Fatalf("%d testsuites; want 1", len(rep.Suites))
			}
			s := rep.Suites[0]
			if s.Tests != tt.cases || s.Failures != tt.failed || len(s.Cases) != tt.cases {
				t.Errorf("testsuite tests=%d failures=%d with %d testcases; want %d, %d", s.Tests, s.Failures, len(s.Cases), tt.cases, tt.failed)
			}
			var failed []string
			for _, c := range s.Cases {
				if c.Failure != nil {
					failed = append(failed, c.Name)
					if !strings.Contains(c.Failure.Message, "want") {
						t.Errorf("failure message %q does not state the limit", c.Failure.Message)
					}
				}
			}
			if strings.Join(failed, ";") != strings.Join(tt.failures, ";") {
				t.Errorf("failed testcases %q; want %q", failed, tt.failures)
			}

			summary, err := os.ReadFile(md)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(summary), "earlier step\n## kmsload: thresholds-") || !strings.Contains(string(summary), "### Thresholds") {
				t.Errorf("summary file not appended to with a Markdown summary:\n%s", summary)
			}

			res := readResults(t, filepath.Join(dir, "out"))
			if len(res.Thresholds) != tt.cases-2 {
				t.Errorf("results.json has %d thresholds; want %d", len(res.Thresholds), tt.cases-2)
			}
			if res.Verdict == nil || res.Verdict.Pass != (tt.code == 0) {
				t.Errorf("results.json verdict %+v; want pass = %v", res.Verdict, tt.code == 0)
			}
		})
	}
}

// TestBadThresholdExpression: validate and run both refuse a scenario with
// a threshold that does not parse, naming the file, workload and expression.
func TestBadThresholdExpression(t *testing.T) {
	for _, args := range [][]string{
		{"validate", "testdata/thresholds_bad.yaml"},
		{"run", "testdata/thresholds_bad.yaml", "--quiet", "--out", t.TempDir()},
	} {
		stdout, stderr, code := kmsload(t, args...)
		if code != 2 {
			t.Errorf("kmsload %v: exit %d; want 2\n%s%s", args, code, stdout, stderr)
		}
		for _, want := range []string{
			`testdata/thresholds_bad.yaml: thresholds.enc[0]: report: threshold "p99 < 50": latency limit needs a unit`,
			`testdata/thresholds_bad.yaml: thresholds.enc[1]: report: threshold "p95 < 50ms": unknown metric "p95"`,
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("kmsload %v: stderr lacks %q:\n%s", args, want, stderr)
			}
		}
		if strings.Contains(stdout, "kmsload results") {
			t.Errorf("kmsload %v ran despite a bad threshold", args)
		}
	}
}

// TestCompareRuns runs one scenario three times at once, the third with
// the embedded emulator's service time raised to 20 ms: the first two
// compare without regression (exit 0), the third is flagged (exit 99).
func TestCompareRuns(t *testing.T) {
	dir := t.TempDir()
	runs := []struct {
		name  string
		extra []string
	}{{"a", nil}, {"b", nil}, {"slow", []string{"--latency", "fixed:20ms"}}}
	var wg sync.WaitGroup
	errs := make([]string, len(runs))
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"run", "testdata/compare.yaml", "--quiet", "--out", filepath.Join(dir, r.name)}, r.extra...)
			// Not kmsload(): t.Fatal must not be called from this goroutine.
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				errs[i] = err.Error() + "\n" + string(out)
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Fatalf("run %s failed:\n%s", runs[i].name, e)
		}
	}
	res := func(name string) string { return filepath.Join(dir, name, "results.json") }

	stdout, stderr, code := kmsload(t, "compare", res("a"), res("b"))
	if code != 0 || !strings.Contains(stdout, "\n  no regression") {
		t.Errorf("compare of two runs of the same scenario: exit %d; want 0, no regression\n%s%s", code, stdout, stderr)
	}

	html := filepath.Join(dir, "compare.html")
	stdout, stderr, code = kmsload(t, "compare", res("a"), res("slow"), "--html", html)
	if code != 99 {
		t.Errorf("compare with 20 ms service time: exit %d; want 99\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "REGRESSION: enc (") || !strings.Contains(stdout, "p99 ms (per second))") ||
		!strings.Contains(stderr, "regression: enc") {
		t.Errorf("compare with 20 ms service time: p99 regression not named\n%s%s", stdout, stderr)
	}
	page, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(page), `class="regression"`) {
		t.Errorf("compare --html: %v; page without the regression row", err)
	}

	for _, args := range [][]string{
		{"compare", res("a")},
		{"compare", res("a"), filepath.Join(dir, "missing.json")},
		{"compare", res("a"), res("b"), "--max-regression", "lots"},
	} {
		if _, stderr, code := kmsload(t, args...); code != 2 {
			t.Errorf("kmsload %v: exit %d; want 2\n%s", args, code, stderr)
		}
	}
}

// TestVerdictLockedOutCaller: a run and a simulation of a caller the key
// policy shuts out exit 99 although every threshold passes, the verdict
// naming the failure; declaring the failure expected, or a budget that
// covers it, makes them pass.
func TestVerdictLockedOutCaller(t *testing.T) {
	expected := filepath.Join(t.TempDir(), "expected.yaml")
	data := strings.Replace(string(mustRead(t, "testdata/lockout.yaml")),
		"rate: 20000/s}\nthresholds", "rate: 20000/s, expected_failures: [access-denied]}\nthresholds", 1)
	if err := os.WriteFile(expected, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"run", []string{"run", "testdata/lockout.yaml"}, 99},
		{"simulate", []string{"simulate", "testdata/lockout.yaml"}, 99},
		{"expected", []string{"simulate", expected}, 0},
		{"budget", []string{"simulate", "testdata/lockout.yaml", "--error-budget", "100%"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out")
			stdout, stderr, code := kmsload(t, append(tt.args, "--quiet", "--out", out)...)
			if code != tt.code {
				t.Fatalf("kmsload %v: exit %d; want %d\n%s\n%s", tt.args, code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, "thresholds: all 1 passed") {
				t.Errorf("stdout lacks the passing threshold:\n%s", stdout)
			}
			// The lockout is warned about before the run, unless expected.
			warned := strings.Contains(stderr, `.yaml:13:20: warning: workload "locked": caller other (222222222222) is never admitted`)
			if want := tt.name != "expected"; warned != want {
				t.Errorf("lockout warned about: %v; want %v\n%s", warned, want, stderr)
			}
			res := readResults(t, out)
			v := res.Verdict
			if v == nil || v.Pass != (tt.code == 0) || len(v.Failures) == 0 {
				t.Fatalf("verdict %+v; want pass = %v with failures", v, tt.code == 0)
			}
			f := v.Failures[0]
			if f.Workload != "locked" || f.Class != "access-denied" || f.Share != 1 || f.Codes["AccessDeniedException"] != f.Count {
				t.Errorf("worst failure %+v; want locked: all arrivals access denied", f)
			}
			if tt.code == 99 {
				for _, want := range []string{"verdict: FAIL: locked (100%, mostly access denied) failed more of its arrivals than the 1% error budget",
					"arrivals (100%) failed with AccessDeniedException (access denied): the key policy, a grant or IAM refused caller other (222222222222) on key k"} {
					if !strings.Contains(strings.Join(strings.Fields(stdout), " "), want) {
						t.Errorf("stdout lacks %q:\n%s", want, stdout)
					}
				}
				if !strings.Contains(stderr, "kmsload: verdict FAIL: locked") {
					t.Errorf("stderr %q; want the verdict", stderr)
				}
			}
		})
	}
}

// TestSimulateKeepsMeasuredResults: simulate refuses to overwrite a
// measured run's results.json unless --force, before it simulates.
func TestSimulateKeepsMeasuredResults(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if _, stderr, code := kmsload(t, "run", "testdata/thresholds_pass.yaml", "--quiet", "--out", out); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	before := mustRead(t, filepath.Join(out, "results.json"))
	stdout, stderr, code := kmsload(t, "simulate", "testdata/thresholds_pass.yaml", "--quiet", "--out", out)
	if code != 2 || !strings.Contains(stderr, "holds the results of a measured run (thresholds-pass") || strings.Contains(stdout, "kmsload results") {
		t.Errorf("simulate over a run: exit %d; want 2 before simulating\n%s\n%s", code, stdout, stderr)
	}
	if string(mustRead(t, filepath.Join(out, "results.json"))) != string(before) {
		t.Error("the measured results were changed")
	}
	if _, stderr, code := kmsload(t, "simulate", "testdata/thresholds_pass.yaml", "--quiet", "--out", out, "--force"); code != 0 {
		t.Errorf("simulate --force: exit %d\n%s", code, stderr)
	}
	if res := readResults(t, out); !res.Simulated {
		t.Error("simulate --force did not write its results")
	}
	if _, stderr, code := kmsload(t, "run", "testdata/thresholds_pass.yaml", "--quiet", "--out", out); code != 2 || !strings.Contains(stderr, "holds the results of a simulation") {
		t.Errorf("run over a simulation: exit %d; want 2\n%s", code, stderr)
	}
}
