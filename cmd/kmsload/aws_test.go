package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// Fake credentials: the default chain's secret and the secrets the fake
// STS hands out. None of them may ever be printed or written.
const (
	defaultSecret = "default-secret-Zq81xWv3"
	roleSecret    = "role-secret-Hk27pLm9"
	roleToken     = "role-session-token-Yt55cRe1"
)

// fakeAWS is real AWS for the aws target tests: the emulator stands in for
// KMS and a fake STS answers AssumeRole and GetCallerIdentity. The
// caller account of a KMS request is its access key id (12 digits), and
// the fake STS hands out a role's account id as its access key id.
type fakeAWS struct {
	emu    *emulator.Server
	kmsURL string
	stsURL string

	mu          sync.Mutex
	assumed     map[string]int // role ARN -> AssumeRole calls
	stsCalls    int
	roleSigned  int // KMS requests of a role's account carrying its session token
	roleUnsig   int // KMS requests of a role's account without it
	roleAccount map[string]bool
}

func newFakeAWS(t *testing.T, quotaScale float64) *fakeAWS {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if quotaScale > 0 {
		cfg := quota.DefaultConfig()
		cfg.Scale = quotaScale
		m, err := quota.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		emu.SetQuota(m)
	}
	f := &fakeAWS{emu: emu, assumed: map[string]int{}, roleAccount: map[string]bool{}}
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if acct := accessKeyID(r); acct != "" {
			f.mu.Lock()
			if f.roleAccount[acct] {
				if r.Header.Get("X-Amz-Security-Token") == roleToken {
					f.roleSigned++
				} else {
					f.roleUnsig++
				}
			}
			f.mu.Unlock()
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(ks.Close)
	ss := httptest.NewServer(http.HandlerFunc(f.serveSTS))
	t.Cleanup(ss.Close)
	f.kmsURL, f.stsURL = ks.URL, ss.URL
	return f
}

var credRE = regexp.MustCompile(`Credential=([^/]+)/`)

// accessKeyID returns the access key id of a SigV4-signed request.
func accessKeyID(r *http.Request) string {
	m := credRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return ""
	}
	return m[1]
}

// serveSTS answers the query protocol's AssumeRole (the role's account id
// becomes the access key id) and GetCallerIdentity (the account is the
// signing access key id).
func (f *fakeAWS) serveSTS(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stsCalls++
	w.Header().Set("Content-Type", "text/xml")
	const ns = `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`
	switch r.Form.Get("Action") {
	case "AssumeRole":
		role := r.Form.Get("RoleArn")
		parts := strings.Split(role, ":")
		if len(parts) < 6 || accessKeyID(r) == "" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse %s><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>`, ns)
			return
		}
		acct := parts[4]
		f.assumed[role]++
		f.roleAccount[acct] = true
		fmt.Fprintf(w, `<AssumeRoleResponse %s><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/kmsload/%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			ns, acct, r.Form.Get("RoleSessionName"), r.Form.Get("RoleSessionName"), acct, roleSecret, roleToken,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	case "GetCallerIdentity":
		acct := accessKeyID(r)
		fmt.Fprintf(w, `<GetCallerIdentityResponse %s><GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/load</Arn><UserId>AIDAFAKE</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>3</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
			ns, acct, acct)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse %s><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>%s</Message></Error><RequestId>4</RequestId></ErrorResponse>`, ns, r.Form.Get("Action"))
	}
}

// env is the binary's environment: no real AWS configuration, the fake
// endpoints through the SDK's standard variables, fake default
// credentials of account defaultAccount.
func (f *fakeAWS) env(defaultAccount string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+defaultAccount,
		"AWS_SECRET_ACCESS_KEY="+defaultSecret,
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL_KMS="+f.kmsURL,
		"AWS_ENDPOINT_URL_STS="+f.stsURL,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// run runs the binary against the fakes, stdin not a terminal.
func (f *fakeAWS) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = f.env("111111111111")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// client is a KMS client of account on the fake.
func (f *fakeAWS) client(account string) *kms.Client {
	return kms.New(kms.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(f.kmsURL),
		Credentials: credentials.NewStaticCredentialsProvider(account, "x", ""),
	})
}

// keys returns the state and run-id tag of every key of account.
func (f *fakeAWS) keys(t *testing.T, account string) map[string][2]string {
	t.Helper()
	ctx := context.Background()
	c := f.client(account)
	out, err := c.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, k := range out.Keys {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: k.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		run := ""
		for _, tg := range tags.Tags {
			if aws.ToString(tg.TagKey) == "kmsload:run-id" {
				run = aws.ToString(tg.TagValue)
			}
		}
		got[aws.ToString(k.KeyId)] = [2]string{string(d.KeyMetadata.KeyState), run}
	}
	return got
}

func (f *fakeAWS) bucketAllowed(t *testing.T, bucket string) int64 {
	t.Helper()
	for _, s := range f.emu.Quota().Stats(f.emu.Now()) {
		if s.Bucket == bucket {
			return s.Allowed
		}
	}
	return 0
}

func noSecrets(t *testing.T, where string, text string) {
	t.Helper()
	for _, s := range []string{defaultSecret, roleSecret, roleToken} {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q", where, s)
		}
	}
}

// TestAWSRefuses: the aws target refuses before touching anything.
func TestAWSRefuses(t *testing.T) {
	f := newFakeAWS(t, 1)
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"no allow-account", nil, []string{"--allow-account", "111111111111", "222222222222 (tenant: caller of workload cross)"}},
		{"an account missing", []string{"--allow-account", "111111111111"}, []string{"missing 222222222222"}},
		{"no --yes, stdin not a terminal", []string{"--allow-account", "111111111111,222222222222"}, []string{"predicted requests", "predicted cost", "pass --yes"}},
		{"provisioning over the request cap", []string{"--allow-account", "111111111111,222222222222", "--yes", "--max-requests", "2"}, []string{"provisioning alone"}},
		{"a bad kill switch", []string{"--allow-account", "111111111111,222222222222", "--yes", "--abort-on-throttle", "5%"}, []string{"SHARE/WINDOW"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "testdata/aws.yaml", "--target", "aws", "--quiet", "--out", t.TempDir()}, tt.args...)
			stdout, stderr, code := f.run(t, args...)
			if code != 2 {
				t.Fatalf("exit %d; want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			noSecrets(t, "stderr", stderr)
		})
	}
	if n := len(f.keys(t, "111111111111")); n != 0 {
		t.Errorf("refused runs created %d keys; want 0", n)
	}

	// The default credentials belong to another account than the scenario says.
	cmd := exec.Command(bin, "run", "testdata/aws.yaml", "--target", "aws", "--quiet", "--yes",
		"--allow-account", "111111111111,222222222222,333333333333", "--out", t.TempDir())
	cmd.Env = f.env("333333333333")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "belong to 333333333333") {
		t.Errorf("default credentials of another account: %v; want exit 2 naming 333333333333\n%s", err, out)
	}
}

// TestAWSMaxRequests: the run stops at the request cap, writes partial
// results with the reason, cleans up, assumes the role through STS for the
// tenant's calls, and prints no secret.
func TestAWSMaxRequests(t *testing.T) {
	f := newFakeAWS(t, 1)
	out := t.TempDir()
	stdout, stderr, code := f.run(t, "run", "testdata/aws.yaml", "--target", "aws", "--yes", "--quiet",
		"--allow-account", "111111111111", "--allow-account", "222222222222",
		"--duration", "20s", "--max-requests", "200", "--out", out)
	if code != 1 {
		t.Fatalf("capped run: exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "max-requests") {
		t.Errorf("stderr does not name the cap:\n%s", stderr)
	}
	res := readResults(t, out)
	if !res.Partial || res.StopReason != "max-requests" || res.Spend == nil {
		t.Fatalf("results: partial %v, stop_reason %q, spend %+v; want partial, max-requests, spend", res.Partial, res.StopReason, res.Spend)
	}
	if res.DurationS > 15 {
		t.Errorf("capped run lasted %.1fs of 20s; want it stopped at the cap (~1.5s)", res.DurationS)
	}
	sent := res.Spend.Requests - res.Spend.CleanupRequests
	if sent != 200 {
		t.Errorf("spend: %d requests before clean-up; want exactly the cap, 200", sent)
	}
	var attempts int64
	for _, w := range res.Workloads {
		attempts += w.Attempts
	}
	if attempts == 0 || attempts > 200-3 { // CreateKey, PutKeyPolicy, CreateAlias came first
		t.Errorf("measured attempts %d; want 1..197", attempts)
	}
	if res.RunID == "" || !strings.Contains(stderr, res.RunID) {
		t.Errorf("run id %q not printed before the run:\n%s", res.RunID, stderr)
	}

	// Every created key is pending deletion, tagged with the run id, and
	// its alias carries the kmsload- prefix.
	keys := f.keys(t, "111111111111")
	if len(keys) != 1 {
		t.Fatalf("keys of 111111111111: %v; want the run's one key", keys)
	}
	for id, st := range keys {
		if st != [2]string{"PendingDeletion", res.RunID} {
			t.Errorf("key %s: state %s, run %q; want PendingDeletion, %q", id, st[0], st[1], res.RunID)
		}
	}
	al, err := f.client("111111111111").ListAliases(context.Background(), &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range al.Aliases {
		names = append(names, aws.ToString(a.AliasName))
	}
	if !contains(names, "alias/kmsload-prod") || contains(names, "alias/prod") {
		t.Errorf("aliases %v; want alias/kmsload-prod and no alias/prod", names)
	}

	// The tenant's requests were signed with the assumed role's
	// credentials and charged to the tenant's account.
	f.mu.Lock()
	assumed, signed, unsigned := f.assumed["arn:aws:iam::222222222222:role/kmsload"], f.roleSigned, f.roleUnsig
	f.mu.Unlock()
	if assumed == 0 || signed == 0 || unsigned != 0 {
		t.Errorf("role: %d AssumeRole calls, %d KMS requests with its session token, %d without; want >0, >0, 0", assumed, signed, unsigned)
	}
	if n := f.bucketAllowed(t, "222222222222/us-east-1/symmetric"); n == 0 {
		t.Errorf("emulator bucket 222222222222/us-east-1/symmetric allowed %d; want the tenant's requests", n)
	}

	noSecrets(t, "stdout", stdout)
	noSecrets(t, "stderr", stderr)
	for _, name := range []string{"results.json", "summary.txt", "report.html"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		noSecrets(t, name, string(b))
	}
}

// TestAWSAbortOnThrottle: a quota too small for the workload trips the
// kill switch; the run stops early with partial results and cleans up.
func TestAWSAbortOnThrottle(t *testing.T) {
	f := newFakeAWS(t, 0.0005) // symmetric 50/s; the own workload offers 100/s
	out := t.TempDir()
	stdout, stderr, code := f.run(t, "run", "testdata/aws.yaml", "--target", "aws", "--yes", "--quiet",
		"--allow-account", "111111111111,222222222222", "--duration", "30s", "--abort-on-throttle", "5%/2s", "--out", out)
	if code != 1 {
		t.Fatalf("exit %d; want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	res := readResults(t, out)
	if !res.Partial || res.StopReason != "abort-on-throttle" || !strings.Contains(res.StopDetail, "111111111111/us-east-1/symmetric") {
		t.Fatalf("results: partial %v, stop %q (%s); want abort-on-throttle naming 111111111111/us-east-1/symmetric", res.Partial, res.StopReason, res.StopDetail)
	}
	if res.DurationS > 20 {
		t.Errorf("run lasted %.1fs of 30s; want an early stop", res.DurationS)
	}
	for id, st := range f.keys(t, "111111111111") {
		if st[0] != "PendingDeletion" {
			t.Errorf("key %s is %s after the run; want PendingDeletion", id, st[0])
		}
	}
}

// TestAWSInterrupted: Ctrl-C mid-run stops, writes partial results and
// schedules every created key for deletion.
func TestAWSInterrupted(t *testing.T) {
	f := newFakeAWS(t, 1)
	out := t.TempDir()
	cmd := exec.Command(bin, "run", "testdata/aws.yaml", "--target", "aws", "--yes",
		"--allow-account", "111111111111,222222222222", "--duration", "60s", "--out", out)
	cmd.Env = f.env("111111111111")
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
	var errText strings.Builder
	sc := bufio.NewScanner(stderr)
	started := false
	for sc.Scan() {
		errText.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "sent") && strings.Contains(sc.Text(), "/s") {
			started = true
			break
		}
	}
	if !started {
		t.Fatalf("no progress line before the run ended:\n%s", errText.String())
	}
	rest := make(chan struct{})
	go func() {
		io.Copy(&errText, stderr)
		close(rest)
	}()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	<-rest
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("interrupted run: %v; want exit 1\n%s", err, errText.String())
	}
	res := readResults(t, out)
	if !res.Partial || res.StopReason != "interrupted" || res.DurationS > 30 {
		t.Errorf("results: partial %v, stop %q, %.1fs; want partial, interrupted, well under 60s", res.Partial, res.StopReason, res.DurationS)
	}
	keys := f.keys(t, "111111111111")
	if len(keys) == 0 {
		t.Fatal("no key was created")
	}
	for id, st := range keys {
		if st != [2]string{"PendingDeletion", res.RunID} {
			t.Errorf("key %s after Ctrl-C: state %s, run %q; want PendingDeletion, %q", id, st[0], st[1], res.RunID)
		}
	}
	if !strings.Contains(errText.String(), "scheduled for deletion") {
		t.Errorf("stderr does not report the clean-up:\n%s", errText.String())
	}
	noSecrets(t, "stderr", errText.String())
	noSecrets(t, "stdout", stdout.String())
}

// TestAWSCleanup: `kmsload cleanup` lists leftovers by run id and
// schedules the keys of one run, in both accounts (the tenant's through
// its role), leaving every other key alone.
func TestAWSCleanup(t *testing.T) {
	f := newFakeAWS(t, 0)
	ctx := context.Background()
	mk := func(account, run string) string {
		in := &kms.CreateKeyInput{}
		if run != "" {
			in.Tags = []types.Tag{{TagKey: aws.String("kmsload:run-id"), TagValue: aws.String(run)}}
		}
		out, err := f.client(account).CreateKey(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.KeyId)
	}
	left1, left2 := mk("111111111111", "run-left"), mk("222222222222", "run-left")
	other, untagged := mk("111111111111", "run-other"), mk("111111111111", "")

	stdout, stderr, code := f.run(t, "cleanup", "--list", "--scenario", "testdata/aws.yaml")
	if code != 0 {
		t.Fatalf("cleanup --list: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"run-left", "run-other", left1, left2, other} {
		if !strings.Contains(stdout, want) {
			t.Errorf("cleanup --list lacks %s:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, untagged) {
		t.Errorf("cleanup --list shows the untagged key %s:\n%s", untagged, stdout)
	}

	if _, stderr, code := f.run(t, "cleanup", "--run-id", "run-left", "--scenario", "testdata/aws.yaml"); code != 2 || !strings.Contains(stderr, "--yes") {
		t.Errorf("cleanup without --yes, stdin not a terminal: exit %d; want 2 asking for --yes\n%s", code, stderr)
	}
	stdout, stderr, code = f.run(t, "cleanup", "--run-id", "run-left", "--scenario", "testdata/aws.yaml", "--yes")
	if code != 0 || !strings.Contains(stdout, "scheduled 2 keys") {
		t.Fatalf("cleanup --run-id: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := map[string]string{left1: "PendingDeletion", other: "Enabled", untagged: "Enabled"}
	for id, st := range f.keys(t, "111111111111") {
		if st[0] != want[id] {
			t.Errorf("account 111111111111 key %s (run %q): %s; want %s", id, st[1], st[0], want[id])
		}
	}
	if st := f.keys(t, "222222222222")[left2]; st[0] != "PendingDeletion" {
		t.Errorf("tenant key %s: %s; want PendingDeletion", left2, st[0])
	}
	noSecrets(t, "cleanup output", stdout+stderr)
}

// TestAWSExistingKey: --use-existing-key uses a key the run neither
// creates, changes nor deletes.
func TestAWSExistingKey(t *testing.T) {
	f := newFakeAWS(t, 0)
	ctx := context.Background()
	c := f.client("111111111111")
	ck, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := aws.ToString(ck.KeyMetadata.KeyId), aws.ToString(ck.KeyMetadata.Arn)
	before, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	stdout, stderr, code := f.run(t, "run", "testdata/aws_one.yaml", "--target", "aws", "--yes", "--quiet",
		"--allow-account", "111111111111", "--use-existing-key", "k="+arn, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	res := readResults(t, out)
	if len(res.Workloads) != 1 || res.Workloads[0].OK == 0 {
		t.Fatalf("workloads %+v; want requests on the existing key", res.Workloads)
	}
	keys := f.keys(t, "111111111111")
	if len(keys) != 1 || keys[id][0] != "Enabled" {
		t.Errorf("keys after the run: %v; want only the existing key %s, Enabled", keys, id)
	}
	after, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(after.Policy) != aws.ToString(before.Policy) {
		t.Errorf("the existing key's policy changed:\nbefore %s\nafter  %s", aws.ToString(before.Policy), aws.ToString(after.Policy))
	}
	var js map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if err := json.Unmarshal(b, &js); err != nil || js["spend"] == nil {
		t.Errorf("results.json has no spend: %v", err)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
