package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/report"
)

// compareRun is a run of one workload, "enc", for seconds seconds at
// goodput requests per second, every request taking latencyMs.
func compareRun(seconds int, goodput int64, latencyMs float64) *report.Results {
	w := report.Workload{Name: "enc", Errors: map[string]int64{},
		LatencyMs: report.Percentiles{P50: latencyMs, P99: 2 * latencyMs, P999: 3 * latencyMs}}
	for i := range seconds {
		// A little second-to-second noise, the same in every run.
		ok := goodput + int64(i%3)
		w.Series = append(w.Series, report.Second{T: i, Sent: ok, OK: ok, Attempts: ok,
			P50Ms: latencyMs * (1 + 0.01*float64(i%4)), P99Ms: 2 * latencyMs * (1 + 0.01*float64(i%5))})
		w.Requests += ok
		w.OK += ok
		w.Attempts += ok
	}
	return &report.Results{Schema: report.Schema, Scenario: report.ScenarioInfo{Name: "compare", Scale: 1},
		DurationS: float64(seconds), Workloads: []report.Workload{w}}
}

// writeResults writes r as dir/name.json and returns its path.
func writeResults(t *testing.T, dir, name string, r *report.Results) string {
	t.Helper()
	path := filepath.Join(dir, name+".json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := report.WriteJSON(f, r); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompareExitCodes: compare exits 0 without a regression, 98 when it
// cannot tell, 99 on a regression, a collapse on a short run included.
func TestCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	steady := writeResults(t, dir, "steady", compareRun(10, 200, 1))
	tests := []struct {
		name      string
		base, new string
		code      int
		stdout    string
		stderr    string
	}{
		{"same runs", steady, writeResults(t, dir, "steady2", compareRun(10, 200, 1)), 0, "\n  no regression\n", ""},
		{"3 s runs, small change", writeResults(t, dir, "short", compareRun(3, 200, 1)),
			writeResults(t, dir, "short2", compareRun(3, 198, 1)), 98, "INCONCLUSIVE: enc (", "kmsload: inconclusive: enc ("},
		{"3 s runs, goodput -74%, p50 x6000", writeResults(t, dir, "short3", compareRun(3, 200, 0.84)),
			writeResults(t, dir, "collapse", compareRun(3, 52, 5040)), 99, "REGRESSION: enc (goodput/s", "kmsload: regression: enc ("},
		{"p50 up 10 ms", steady, writeResults(t, dir, "slow", compareRun(10, 200, 11)), 99,
			"REGRESSION: enc (p50 ms (per second) and p99 ms (per second))", "kmsload: regression: enc ("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := kmsload(t, "compare", tt.base, tt.new)
			if code != tt.code {
				t.Errorf("kmsload compare: exit %d; want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("kmsload compare: output lacks %q / %q\n%s%s", tt.stdout, tt.stderr, stdout, stderr)
			}
		})
	}
}
