package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/cluster/nsqdtest"
	"github.com/kmsload/kmsload/report"
)

// TestClusterRunTwoAgents: two `kmsload agent` processes and a
// `kmsload run --agents 2` on an in-process nsqd: the merged results are
// complete, name both agents, and their counts add up.
func TestClusterRunTwoAgents(t *testing.T) {
	nsqd := nsqdtest.Start(t)
	var logs []*bytes.Buffer
	for _, name := range []string{"cli-a", "cli-b"} {
		cmd := exec.Command(bin, "agent", "--nsqd", nsqd.Addr(), "--name", name)
		var buf bytes.Buffer
		cmd.Stderr = &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, &buf)
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		})
	}
	out := t.TempDir()
	stdout, stderr, code := kmsload(t, "run", "testdata/small.yaml", "--agents", "2", "--nsqd", nsqd.Addr(), "--out", out, "-q")
	if code != 0 {
		for _, l := range logs {
			t.Log(l.String())
		}
		t.Fatalf("run --agents 2: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"agent cli-a", "agent cli-b", "share 1/2", "share 2/2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial || res.Cluster == nil || len(res.Cluster.Agents) != 2 {
		t.Fatalf("results: partial %v, cluster %+v; want complete with 2 agents", res.Partial, res.Cluster)
	}
	w := res.Workloads[0]
	// 20000/s at scale 0.01 for 2 s: 400 arrivals, 200 per agent.
	if w.Requests+w.Dropped != 400 || w.TargetPerS != 200 {
		t.Errorf("workload %s: %d arrivals at target %g/s; want 400 at 200/s", w.Name, w.Requests+w.Dropped, w.TargetPerS)
	}
	if _, err := os.Stat(filepath.Join(out, "enc.hlog")); err != nil {
		t.Errorf("merged hlog: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("report.html: %v", err)
	}
}

// TestAgentNeedsNSQD: the agent refuses to start without --nsqd (exit 2).
func TestAgentNeedsNSQD(t *testing.T) {
	_, stderr, code := kmsload(t, "agent")
	if code != 2 || !strings.Contains(stderr, "--nsqd") {
		t.Errorf("kmsload agent: exit %d, stderr %q; want 2 naming --nsqd", code, stderr)
	}
}
