package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// variantRows parses the variants table of `kmsload study`: variant name
// -> column -> cell.
func variantRows(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	rows := map[string]map[string]string{}
	var header []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "variant":
			header = f
		case header != nil && len(f) == len(header):
			row := map[string]string{}
			for i, h := range header {
				row[h] = f[i]
			}
			rows[f[0]] = row
		case header != nil:
			header = nil
		}
	}
	return rows
}

func cell(t *testing.T, rows map[string]map[string]string, variant, col string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(rows[variant][col], 64)
	if err != nil {
		t.Fatalf("variant %s, column %s: %q is not a number (rows %v)", variant, col, rows[variant][col], rows)
	}
	return v
}

// TestStudyVariants runs the variants: block of testdata/retry.yaml
// (standard and adaptive retry mode, two workloads sharing one client at
// 150% of the quota) and reads the table.
func TestStudyVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("two 3 s runs")
	}
	stdout, stderr, code := kmsload(t, "study", "-q", "--slo", "p99<10s,throttled_attempts<10%", "testdata/retry.yaml")
	if code != 0 {
		t.Fatalf("kmsload study: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("\n%s", stdout)
	rows := variantRows(t, stdout)
	if len(rows) != 2 || rows["retry=standard"] == nil || rows["retry=adaptive"] == nil {
		t.Fatalf("variants table rows = %v; want retry=standard and retry=adaptive\n%s", rows, stdout)
	}
	// Measured: standard about 40% of attempts throttled, adaptive 2-3%.
	std, ada := cell(t, rows, "retry=standard", "thr-att%"), cell(t, rows, "retry=adaptive", "thr-att%")
	if std < 20 || ada > std/2 {
		t.Errorf("thr-att%%: standard %.1f, adaptive %.1f; want standard above 20 and adaptive below half of it", std, ada)
	}
	if n := cell(t, rows, "retry=standard", "quota-exh"); n <= 0 {
		t.Errorf("standard: quota-exh = %g; want the shared client's retry quota to run dry at 150%%", n)
	}
	// The retry bucket is scaled with the traffic (1 token at scale
	// 0.001, 500 at real size): as at real size, where one second's
	// 50,000 throttles find 500 tokens, 100 retries, the shared client
	// funds almost no retries and its throttled requests fail with
	// QuotaExceededError instead.
	if l := cell(t, rows, "retry=standard", "retry-load%"); l < 0 || l > 1 {
		t.Errorf("standard: retry-load%% = %g; want under 1%%, as at real size", l)
	}
	for _, want := range []string{"goodput/s", "p999ms", "slo"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks column %q", want)
		}
	}
	if !strings.Contains(stdout, `SLO "p99<10s,throttled_attempts<10%"`) {
		t.Errorf("output does not name the best variant for the SLO:\n%s", stdout)
	}
	if rows["retry=adaptive"]["slo"] == "meets" && !strings.Contains(stdout, `Best for SLO "p99<10s,throttled_attempts<10%": retry=adaptive`) {
		t.Errorf("adaptive meets the SLO and standard does not; want it named best:\n%s", stdout)
	}
}

func TestStudyVaryUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--vary", "client.retry=eager", "testdata/retry.yaml"}, `unknown retry mode`},
		{[]string{"--vary", "client.retries=standard", "testdata/retry.yaml"}, `unknown setting "client.retries"`},
		{[]string{"--vary", "client.retry", "testdata/retry.yaml"}, `want client.SETTING=V1,V2`},
		{[]string{"--vary", "client.retry=standard", "--slo", "p99 <<", "testdata/retry.yaml"}, `--slo`},
		{[]string{"--vary", "client.retry=standard", "testdata/retry.yaml", "testdata/small.yaml"}, `one scenario`},
		{[]string{"--slo", "p99<1s", "testdata/small.yaml"}, `--slo needs --vary or a variants: block`},
	}
	for _, tt := range tests {
		stdout, stderr, code := kmsload(t, append([]string{"study", "-q"}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("kmsload study %v: exit %d, stderr %q; want exit 2 and %q\n%s", tt.args, code, stderr, tt.want, stdout)
		}
	}
}

// TestRunRetryModeFromEnvironment runs a scenario that says nothing about
// retries with AWS_RETRY_MODE=adaptive: the run uses adaptive mode and the
// summary and results.json say the environment chose it.
func TestRunRetryModeFromEnvironment(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(bin, "run", "testdata/small.yaml", "--quiet", "--duration", "1s", "--out", out)
	cmd.Env = append(os.Environ(), "AWS_RETRY_MODE=adaptive", "AWS_CONFIG_FILE="+filepath.Join(out, "none"))
	stdout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kmsload run: %v\n%s", err, stdout)
	}
	if !strings.Contains(string(stdout), "adaptive (environment AWS_RETRY_MODE)") {
		t.Errorf("summary does not say the retry mode came from AWS_RETRY_MODE:\n%s", stdout)
	}
	res := readResults(t, out)
	c := res.Workloads[0].Client
	if c == nil || c.Retry.Value != "adaptive" || c.Retry.Source != "environment AWS_RETRY_MODE" || c.MaxAttempts.Source != "SDK default" {
		t.Errorf("results.json client = %+v; want retry adaptive from AWS_RETRY_MODE, max attempts from the SDK default", c)
	}

	// --retry wins over the environment, and says so.
	cmd = exec.Command(bin, "run", "testdata/small.yaml", "--quiet", "--duration", "1s", "--out", out, "--retry", "standard")
	cmd.Env = append(os.Environ(), "AWS_RETRY_MODE=adaptive", "AWS_CONFIG_FILE="+filepath.Join(out, "none"))
	if stdout, err = cmd.CombinedOutput(); err != nil {
		t.Fatalf("kmsload run --retry standard: %v\n%s", err, stdout)
	}
	if c := readResults(t, out).Workloads[0].Client; c == nil || c.Retry.Value != "sdk-standard" || c.Retry.Source != "--retry flag" {
		t.Errorf("with --retry standard: client = %+v; want sdk-standard from the --retry flag", c)
	}
}
