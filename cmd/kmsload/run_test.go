package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/report"
)

func readResults(t *testing.T, dir string) *report.Results {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRunAgainstEmulatorProcess runs `kmsload emulator` as its own process
// and `kmsload run --target endpoint` against it (the endpoint taken from
// AWS_ENDPOINT_URL_KMS), then reads the emulator's stats: the run's
// requests were charged to the caller's symmetric bucket over there.
func TestRunAgainstEmulatorProcess(t *testing.T) {
	addr := freeAddr(t)
	state := filepath.Join(t.TempDir(), "state.json")
	emu := exec.Command(bin, "emulator", "--addr", addr, "--scale", "0.01", "--state", state)
	var emuErr bytes.Buffer
	emu.Stderr = &emuErr
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Process.Kill(); emu.Wait() })
	url := "http://" + addr
	waitHealthy(t, url)

	out := t.TempDir()
	cmd := exec.Command(bin, "run", "testdata/small.yaml", "--target", "endpoint", "--quiet", "--out", out)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_KMS="+url)
	stdout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kmsload run --target endpoint: %v\n%s", err, stdout)
	}
	res := readResults(t, out)
	if res.Target.Kind != "endpoint" || len(res.Workloads) != 1 {
		t.Fatalf("results: target %q, %d workloads", res.Target.Kind, len(res.Workloads))
	}
	if res.Target.HTTPClient != driver.DefaultHTTPClient {
		t.Errorf("results: target.http_client %q; want the default, %q (a plain http:// endpoint)", res.Target.HTTPClient, driver.DefaultHTTPClient)
	}
	w := res.Workloads[0]
	if w.Requests < 300 || w.OK != w.Requests {
		t.Errorf("workload enc: %d requests, %d ok; want about 400, all ok", w.Requests, w.OK)
	}
	if _, err := os.Stat(filepath.Join(out, "enc.hlog")); err != nil {
		t.Errorf("no interval log: %v", err)
	}

	resp, err := http.Get(url + "/_kmsload/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var stats []struct {
		Bucket  string `json:"bucket"`
		Allowed int64  `json:"allowed"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	var allowed int64
	for _, s := range stats {
		if s.Bucket == "111111111111/us-east-1/symmetric" {
			allowed = s.Allowed
		}
	}
	// Provisioning adds a few Encrypt calls of its own at most.
	if allowed < w.OK {
		t.Errorf("emulator symmetric bucket allowed %d; want at least the run's %d ok requests\nstats: %+v", allowed, w.OK, stats)
	}

	// SIGTERM: clean shutdown that writes the state file.
	if err := emu.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- emu.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("emulator exit after SIGTERM: %v\n%s", err, emuErr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop on SIGTERM")
	}
	if fi, err := os.Stat(state); err != nil || fi.Size() == 0 {
		t.Errorf("state file after shutdown: %v", err)
	}
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/_kmsload/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("emulator at %s never became healthy", url)
}

// TestRunInterrupted sends SIGINT to a long run: it must still write its
// results, marked partial, and exit 1.
func TestRunInterrupted(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(bin, "run", "testdata/small.yaml", "--duration", "60s", "--out", out)
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
	// The first progress line means the measured window has started.
	sc := bufio.NewScanner(stderr)
	started := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "sent") {
			started = true
			break
		}
	}
	if !started {
		t.Fatal("no progress line before the run ended")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("interrupted run: %v; want exit 1", err)
	}
	res := readResults(t, out)
	if !res.Partial {
		t.Error("results.json of an interrupted run: partial = false")
	}
	if res.DurationS >= 30 || len(res.Workloads) != 1 || res.Workloads[0].OK == 0 {
		t.Errorf("partial results: duration %.1fs, workloads %+v", res.DurationS, res.Workloads)
	}
	if !strings.Contains(stdout.String(), "kmsload results: small") {
		t.Errorf("no summary printed after interrupt:\n%s", stdout.String())
	}
}
