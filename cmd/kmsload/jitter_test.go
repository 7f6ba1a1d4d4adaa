package main_test

import (
	"testing"
)

// TestJitterSeed checks that run and simulate take --jitter-seed and
// record it in results.json (scenario.jitter_seed), and that a run
// without it records none: its backoff jitter is the SDK's own.
func TestJitterSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("two 2 s runs")
	}
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{[]string{"run", "testdata/small.yaml", "-q", "--jitter-seed", "5"}, 5},
		{[]string{"run", "testdata/small.yaml", "-q"}, 0},
		{[]string{"simulate", "testdata/small.yaml", "-q", "--jitter-seed", "5"}, 5},
		{[]string{"simulate", "testdata/small.yaml", "-q", "--seed", "9"}, 9},
	} {
		dir := t.TempDir()
		_, stderr, code := kmsload(t, append(tc.args, "--out", dir)...)
		if code != 0 {
			t.Fatalf("kmsload %v: exit %d\n%s", tc.args, code, stderr)
		}
		if got := readResults(t, dir).Scenario.JitterSeed; got != tc.want {
			t.Errorf("kmsload %v: results scenario.jitter_seed = %d; want %d", tc.args, got, tc.want)
		}
	}
}
