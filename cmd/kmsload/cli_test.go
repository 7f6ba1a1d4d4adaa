package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kmsload-cli")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "kmsload")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// kmsload runs the binary and returns stdout, stderr and the exit code.
func kmsload(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kmsload %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func TestValidateBrokenFiles(t *testing.T) {
	const bad = "../../scenario/testdata/bad/"
	tests := []struct {
		file string
		want []string // file:line:col prefixes that must all be reported
	}{
		{"unknown_field.yaml", []string{"unknown_field.yaml:2:1: ", "unknown_field.yaml:5:22: ", "unknown_field.yaml:11:5: "}},
		{"rates.yaml", []string{"rates.yaml:5:55: ", "rates.yaml:6:55: ", "rates.yaml:10:55: "}},
		{"durations.yaml", []string{"durations.yaml:2:11: ", "durations.yaml:11:31: ", "durations.yaml:13:10: "}},
		{"references.yaml", []string{"references.yaml:6:23: ", "references.yaml:8:55: ", "references.yaml:10:27: ", "references.yaml:11:16: "}},
		{"operations.yaml", []string{"operations.yaml:9:45: error: workloads.sign.operation"}},
		{"cross_account.yaml", []string{"cross_account.yaml:9:50: ", "cross_account.yaml:10:47: "}},
		{"wrong_types.yaml", []string{"wrong_types.yaml:1:7: ", "wrong_types.yaml:2:8: "}},
		{"syntax.yaml", []string{"syntax.yaml:2:1: error: invalid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, stderr, code := kmsload(t, "validate", bad+tt.file)
			if code != 2 {
				t.Errorf("kmsload validate %s: exit %d; want 2\n%s", tt.file, code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, bad+w) {
					t.Errorf("kmsload validate %s: stderr lacks %q:\n%s", tt.file, bad+w, stderr)
				}
			}
		})
	}
	// Several files at once: every one reported, exit 2.
	_, stderr, code := kmsload(t, "validate", bad+"rates.yaml", "../../scenarios/quickstart.yaml", bad+"regions.yaml")
	if code != 2 || !strings.Contains(stderr, "rates.yaml:") || !strings.Contains(stderr, "regions.yaml:") {
		t.Errorf("validate of three files: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestValidateGood(t *testing.T) {
	stdout, stderr, code := kmsload(t, "validate", "../../scenarios/quickstart.yaml")
	if code != 0 || !strings.Contains(stdout, "quickstart.yaml: ok") {
		t.Errorf("validate quickstart: exit %d; stdout %q stderr %q", code, stdout, stderr)
	}
}

// TestValidateLockout: a caller the key policy never admits is a warning
// at the workload's caller, with a fix; --strict makes it an error.
func TestValidateLockout(t *testing.T) {
	const file = "testdata/lockout.yaml"
	const finding = `workload "locked": caller other (222222222222) is never admitted to key k of account security`
	tests := []struct {
		args     []string
		code     int
		level    string
		okSuffix string // the summary line on stdout; "" = none
	}{
		{[]string{"validate", file}, 0, "warning", "1 warning)\n"},
		{[]string{"validate", "--strict", file}, 2, "error", ""},
	}
	for _, tt := range tests {
		stdout, stderr, code := kmsload(t, tt.args...)
		if code != tt.code {
			t.Errorf("kmsload %v: exit %d; want %d\n%s", tt.args, code, tt.code, stderr)
		}
		if want := file + ":13:20: " + tt.level + ": " + finding; !strings.Contains(stderr, want) {
			t.Errorf("kmsload %v: stderr lacks %q:\n%s", tt.args, want, stderr)
		}
		if want := "[caller-never-admitted]\n    fix: add other to keys.k.allow_accounts"; !strings.Contains(stderr, want) {
			t.Errorf("kmsload %v: stderr lacks the rule and fix %q:\n%s", tt.args, want, stderr)
		}
		summary := file + ": ok (3 accounts, 1 keys, 2 workloads, 0 events, " + tt.okSuffix
		if got := strings.Contains(stdout, summary); got != (tt.okSuffix != "") {
			t.Errorf("kmsload %v: stdout %q; summary %q shown %v, want %v", tt.args, stdout, summary, got, !got)
		}
	}
	// The library scenario passes --strict: a clean file is no worse off.
	if _, stderr, code := kmsload(t, "validate", "--strict", "../../scenarios/quickstart.yaml"); code != 0 || stderr != "" {
		t.Errorf("validate --strict quickstart: exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"run"},
		{"run", "../../scenarios/quickstart.yaml", "--target", "moon"},
		{"run", "../../scenarios/quickstart.yaml", "--retry", "sometimes"},
		{"run", "../../scenarios/quickstart.yaml", "--no-such-flag"},
		{"run", "../../scenarios/quickstart.yaml", "--target", "aws"},
		{"run", "no-such-file.yaml"},
		{"emulator", "--latency", "gaussian:3ms"},
		{"emulator", "--fault", "Decrypt=2"},
		{"validate"},
		{"report", "no-such-results.json"},
	}
	for _, args := range tests {
		_, stderr, code := kmsload(t, args...)
		if code != 2 {
			t.Errorf("kmsload %v: exit %d; want 2\n%s", args, code, stderr)
		}
		if !strings.HasPrefix(stderr, "kmsload") && !strings.Contains(stderr, ":") {
			t.Errorf("kmsload %v: unhelpful error %q", args, stderr)
		}
	}
}

func TestHTTPClientFlag(t *testing.T) {
	const qs = "../../scenarios/quickstart.yaml"
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"run", qs, "--http-client", "h2"}, `--http-client "h2": want std or fast`},
		{[]string{"study", qs, "--http-client", "h2"}, `--http-client "h2": want std or fast`},
		{[]string{"capacity", qs, "--workload", "orders-api", "--slo", "p99<50ms", "--http-client", "h2"}, `--http-client "h2": want std or fast`},
		{[]string{"agent", "--nsqd", "127.0.0.1:1", "--http-client", "h2"}, `--http-client "h2": want std or fast`},
		{[]string{"run", qs, "--http-client", "std", "--agents", "2", "--nsqd", "127.0.0.1:1"}, "give it to each kmsload agent"},
	}
	for _, tt := range tests {
		_, stderr, code := kmsload(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("kmsload %v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	for _, cmd := range []string{"run", "study", "capacity", "agent"} {
		if stdout, _, _ := kmsload(t, cmd, "--help"); !strings.Contains(stdout, "--http-client") || !strings.Contains(stdout, "Default fast") {
			t.Errorf("kmsload %s --help: no --http-client with its default", cmd)
		}
	}
}

func TestSchemaIsJSON(t *testing.T) {
	stdout, _, code := kmsload(t, "schema")
	var v map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v["$schema"] == nil {
		t.Errorf("kmsload schema: exit %d, not a JSON Schema: %.200s", code, stdout)
	}
}
