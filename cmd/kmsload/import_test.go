package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/internal/trailgen"
)

// TestImportCloudTrail: import writes a scenario and trace that validate
// and simulate, prints what it read, refuses to overwrite without
// --force, and names bad usage with exit 2.
func TestImportCloudTrail(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if _, err := trailgen.Generate(logs, trailgen.Config{Duration: time.Minute, BurstAt: 20 * time.Second, BurstFor: 5 * time.Second, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(logs, "broken.json"), []byte(`{"Records":[{"eventTime":`), 0o644)
	out := filepath.Join(dir, "prod.yaml")
	stdout, stderr, code := kmsload(t, "import", "cloudtrail", logs, "-o", out)
	if code != 0 {
		t.Fatalf("import exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"bad records     1", "broken.json: record 0: malformed JSON", "second copies", "not replayed    CreateGrant",
		"throttled       ", "acct-3333-role-", "wrote " + out + " and " + filepath.Join(dir, "prod.trace")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("import output lacks %q:\n%s", want, stdout)
		}
	}
	if stdout, _, code := kmsload(t, "validate", out); code != 0 {
		t.Errorf("validate exit %d: %s", code, stdout)
	}
	// The replayed burst fails requests past the error budget: exit 99 is
	// the verdict, not a failure of the replay.
	if stdout, stderr, code := kmsload(t, "simulate", out, "--out", filepath.Join(dir, "sim")); (code != 0 && code != 99) || !strings.Contains(stdout, "111122223333/ca-central-1/rsa") {
		t.Errorf("simulate exit %d:\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := kmsload(t, "import", "cloudtrail", logs, "-o", out); code != 2 || !strings.Contains(stderr, "--force") {
		t.Errorf("import over an existing file: exit %d, %s; want 2 and a word on --force", code, stderr)
	}
	for _, args := range [][]string{
		{"import", "cloudtrail"},
		{"import", "cloudtrail", filepath.Join(dir, "missing"), "-o", filepath.Join(dir, "m.yaml")},
		{"import", "cloudtrail", logs, "-o", filepath.Join(dir, "g.yaml"), "--group", "team"},
		{"import", "cloudtrail", logs, "-o", filepath.Join(dir, "f.yaml"), "--from", "yesterday"},
	} {
		if _, stderr, code := kmsload(t, args...); code != 2 {
			t.Errorf("kmsload %v: exit %d (%s); want 2", args, code, stderr)
		}
	}
	if stdout, _, code := kmsload(t, "import", "cloudtrail", logs, "-o", filepath.Join(dir, "late.yaml"), "--from", "2030-01-01T00:00:00Z"); code != 1 || !strings.Contains(stdout, "KMS events") {
		t.Errorf("import of an empty window: exit %d\n%s; want 1 and what was read", code, stdout)
	}
}

// TestImportCheck: import --check calibrates after writing: the trail's
// throttling was AWS's rules at AWS's quotas, so the model agrees (exit
// 0); kmsload calibrate of a scenario that replays no trace is bad usage.
func TestImportCheck(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if _, err := trailgen.Generate(logs, trailgen.Config{Duration: 2 * time.Minute, BurstAt: 30 * time.Second, BurstFor: 10 * time.Second, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "chk.yaml")
	stdout, stderr, code := kmsload(t, "import", "cloudtrail", logs, "-o", out, "--check")
	if code != 0 || !strings.Contains(stdout, "111122223333/ca-central-1/rsa: agrees") || !strings.Contains(stdout, "AGREES") {
		t.Errorf("import --check: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, _, code := kmsload(t, "calibrate", out, "--quotas", "aws"); code != 0 || !strings.Contains(stdout, "Minutes with throttling") {
		t.Errorf("calibrate: exit %d\n%s", code, stdout)
	}
	if _, stderr, code := kmsload(t, "calibrate", "../../scenarios/quickstart.yaml"); code != 2 || !strings.Contains(stderr, "replays no trace") {
		t.Errorf("calibrate of a scenario without a trace: exit %d, %s; want 2", code, stderr)
	}
}

// TestStudyWhatIf: a what-if on imported traffic: the recorded signing
// burst throttles the license checks that share the account's RSA
// bucket; moved to an account of its own, the signer no longer does.
func TestStudyWhatIf(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if _, err := trailgen.Generate(logs, trailgen.Config{Duration: 3 * time.Minute, BurstAt: 70 * time.Second, BurstFor: 20 * time.Second, Seed: 6}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "prod.yaml")
	if stdout, stderr, code := kmsload(t, "import", "cloudtrail", logs, "-o", out, "--keep-identities"); code != 0 {
		t.Fatalf("import exit %d\n%s%s", code, stdout, stderr)
	}
	wi := filepath.Join(dir, "signing.yaml")
	os.WriteFile(wi, []byte("name: signing-account\naccounts: {signing: \"555566667777\"}\nsteps: [{move_workload: \"*-sign-*\", to_account: signing}]\n"), 0o644)
	stdout, stderr, code := kmsload(t, "study", out, "--what-if", wi, "--simulate", "-q")
	if code != 0 {
		t.Fatalf("study exit %d\n%s%s", code, stdout, stderr)
	}
	before, after, ok := strings.Cut(stdout, "prod / signing-account\n    claim:")
	if !ok {
		t.Fatalf("no verdict of the what-if:\n%s", stdout)
	}
	if !strings.Contains(before, "Throughput is coupled") || !strings.Contains(before, "Throttled only beside the others: acct-3333-role-license-check-verify-5f6e7d8c") {
		t.Errorf("the recorded layout's verdict does not find the license checks throttled beside the burst:\n%s", before)
	}
	if !strings.Contains(after, "Throughput is not coupled") || !strings.Contains(after, "555566667777/ca-central-1/rsa") {
		t.Errorf("the what-if's verdict:\n%s\nwant no coupling, the signer in the new account's RSA bucket", after)
	}
}

// TestImportCloudWatch: usage metrics become a scenario that validates;
// the account and Region are required.
func TestImportCloudWatch(t *testing.T) {
	dir := t.TempDir()
	usage := filepath.Join(dir, "usage.json")
	os.WriteFile(usage, []byte(`{"MetricDataResults": [{"Id": "d", "Label": "Decrypt", "Timestamps": ["2026-11-30T09:00:00Z"], "Values": [600], "StatusCode": "Complete"}]}`), 0o644)
	out := filepath.Join(dir, "cw.yaml")
	if stdout, stderr, code := kmsload(t, "import", "cloudwatch", usage+"=111122223333/eu-west-1", "-o", out); code != 0 || !strings.Contains(stdout, "1 files, 1 metric results, 1 data points") {
		t.Fatalf("import cloudwatch: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, _, code := kmsload(t, "validate", out); code != 0 {
		t.Errorf("validate: exit %d: %s", code, stdout)
	}
	if _, stderr, code := kmsload(t, "import", "cloudwatch", usage, "-o", filepath.Join(dir, "x.yaml")); code != 2 || !strings.Contains(stderr, "12-digit account id") {
		t.Errorf("no account: exit %d, %s; want 2", code, stderr)
	}
}

// TestRunTrace: kmsload run replays a trace on the embedded emulator:
// every workload sends its recorded requests, second by second.
func TestRunTrace(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "replay.trace"), []byte("kmsload-trace 1\nseries enc 20 0 35 10 5 40\nseries dec 7 7 30 1 0 12\nseries sig 3 0*2 9 2 4\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "replay.yaml"), []byte(`name: replay
accounts: {a: "111111111111"}
keys:
  k: {account: a}
  r: {account: a, spec: RSA_2048, usage: SIGN_VERIFY}
trace: replay.trace
workloads:
  enc: {caller: a, key: k, operation: Encrypt, arrival: trace}
  dec: {caller: a, key: k, operation: Decrypt, arrival: trace}
  sig: {caller: a, key: r, operation: Verify, arrival: trace}
`), 0o644)
	out := filepath.Join(dir, "out")
	if stdout, stderr, code := kmsload(t, "run", filepath.Join(dir, "replay.yaml"), "--out", out, "-q"); code != 0 {
		t.Fatalf("run exit %d\n%s%s", code, stdout, stderr)
	}
	res := readResults(t, out)
	want := map[string][]int64{"enc": {20, 0, 35, 10, 5, 40}, "dec": {7, 7, 30, 1, 0, 12}, "sig": {3, 0, 0, 9, 2, 4}}
	for _, w := range res.Workloads {
		var total int64
		for i, n := range want[w.Name] {
			total += n
			if i < len(w.Series) && w.Series[i].Sent+w.Series[i].Dropped != n {
				t.Errorf("%s second %d: %d sent; want %d", w.Name, i, w.Series[i].Sent, n)
			}
		}
		if w.Requests+w.Dropped != total || w.OK != total {
			t.Errorf("%s: %d requests, %d ok; want %d", w.Name, w.Requests, w.OK, total)
		}
	}
}
