// Package targettest starts other KMS servers for tests: moto_server and
// local-kms, each on a free loopback port, stopped when the test ends.
// When a server is not available here (moto_server not installed,
// local-kms not buildable without network) the test is skipped with a
// message that says so.
package targettest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// LocalKMSModule is the pinned local-kms version the tests build.
const LocalKMSModule = "github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6"

// freePort returns a loopback port nothing listens on right now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("targettest: %v", err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// start runs cmd in its own process group, stops the group when the test
// ends, and waits until GET url+path answers 2xx-4xx.
func start(t testing.TB, name string, cmd *exec.Cmd, url, path string) {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("targettest: start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // killed below
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(logs.String(), 4000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("targettest: %s exited early:\n%s", name, tail(logs.String(), 4000))
		default:
		}
		if resp, err := http.Get(url + path); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("targettest: %s did not answer at %s within 30s", name, url)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Moto starts moto_server on a free loopback port and returns its URL.
// It skips the test when moto_server is not installed.
func Moto(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not installed (pip install 'moto[server]'): skipping the moto target test")
	}
	port := freePort(t)
	url := "http://127.0.0.1:" + port
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.Env = withoutAWS(os.Environ())
	start(t, "moto_server", cmd, url, "/moto-api/")
	return url
}

var (
	localKMSOnce sync.Once
	localKMSBin  string
	localKMSErr  string
)

// localKMS builds local-kms once per test binary into a temporary
// directory (GOBIN=dir go install, from the module cache when it is
// there); it skips the test when the build fails.
func localKMS(t testing.TB) string {
	t.Helper()
	localKMSOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kmsload-local-kms")
		if err != nil {
			localKMSErr = err.Error()
			return
		}
		cmd := exec.Command("go", "install", LocalKMSModule)
		cmd.Dir = dir // outside any module: the pinned version, not this module's go.mod
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			localKMSErr = strings.TrimSpace(string(out))
			if localKMSErr == "" {
				localKMSErr = err.Error()
			}
			return
		}
		localKMSBin = filepath.Join(dir, "local-kms")
	})
	if localKMSBin == "" {
		t.Skipf("local-kms could not be built (go install %s needs the module cache or network): %s", LocalKMSModule, tail(localKMSErr, 600))
	}
	return localKMSBin
}

// LocalKMS starts local-kms for one account and Region on a free loopback
// port with an empty data directory and returns its URL. It skips the
// test when local-kms cannot be built.
func LocalKMS(t testing.TB, account, region string) string {
	t.Helper()
	bin := localKMS(t)
	port := freePort(t)
	url := "http://127.0.0.1:" + port
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(withoutAWS(os.Environ()), "PORT="+port, "KMS_ACCOUNT_ID="+account,
		"KMS_REGION="+region, "KMS_DATA_PATH="+filepath.Join(cmd.Dir, "data"))
	start(t, "local-kms", cmd, url, "/")
	return url
}

// withoutAWS drops AWS_* variables so that a developer's settings do not
// reach the servers.
func withoutAWS(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "AWS_") {
			out = append(out, e)
		}
	}
	return out
}
