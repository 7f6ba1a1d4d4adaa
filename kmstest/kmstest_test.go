package kmstest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/kmstest"
	"github.com/kmsload/kmsload/quota"
)

// errCode returns the KMS error code of err, "" for nil, or err's text.
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

// random makes one GenerateRandom call: a symmetric-class request that
// needs no key.
func random(c *kms.Client) error {
	_, err := c.GenerateRandom(context.Background(), &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(8)})
	return err
}

func TestOptionsSetLimits(t *testing.T) {
	scaled := quota.DefaultConfig()
	scaled.Scale = 0.01
	sym := func(region string) quota.BucketKey {
		return quota.BucketKey{Account: account, Region: region, Class: quota.Symmetric}
	}
	api := func(op string) quota.BucketKey {
		return quota.BucketKey{Account: account, Region: region, Class: quota.APIClass(op)}
	}
	rsa := quota.BucketKey{Account: account, Region: region, Class: quota.RSA}
	tests := []struct {
		name string
		opts []kmstest.Option
		want map[quota.BucketKey]float64 // limit per bucket; 0 = quotas off
	}{
		{"AWS defaults", nil, map[quota.BucketKey]float64{
			sym("us-east-1"): 100_000, sym("eu-north-1"): 10_000, api("CreateKey"): 5, rsa: 1_000}},
		{"symmetric everywhere", []kmstest.Option{kmstest.WithSymmetricQuota(5)}, map[quota.BucketKey]float64{
			sym("us-east-1"): 5, sym("eu-north-1"): 5, api("CreateKey"): 5, rsa: 1_000}},
		{"fractional", []kmstest.Option{kmstest.WithSymmetricQuota(0.5)}, map[quota.BucketKey]float64{sym("us-east-1"): 0.5}},
		{"class", []kmstest.Option{kmstest.WithQuota("rsa", 7)}, map[quota.BucketKey]float64{
			rsa: 7, sym("us-east-1"): 100_000}},
		{"API", []kmstest.Option{kmstest.WithQuota("CreateKey", 1), kmstest.WithQuota("DescribeKey", 3)}, map[quota.BucketKey]float64{
			api("CreateKey"): 1, api("DescribeKey"): 3, api("ListKeys"): 500}},
		{"later wins", []kmstest.Option{kmstest.WithSymmetricQuota(5), kmstest.WithSymmetricQuota(9)}, map[quota.BucketKey]float64{
			sym("us-east-1"): 9}},
		{"off", []kmstest.Option{kmstest.WithSymmetricQuota(5), kmstest.WithoutQuotas()}, map[quota.BucketKey]float64{
			sym("us-east-1"): 0, api("CreateKey"): 0}},
		{"on again after off", []kmstest.Option{kmstest.WithoutQuotas(), kmstest.WithSymmetricQuota(3)}, map[quota.BucketKey]float64{
			sym("us-east-1"): 3, api("CreateKey"): 5}},
		{"config", []kmstest.Option{kmstest.WithQuotaConfig(scaled)}, map[quota.BucketKey]float64{
			sym("us-east-1"): 1_000, sym("eu-north-1"): 100, api("CreateKey"): 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kmstest.NewServer(t, tt.opts...)
			for k, want := range tt.want {
				if got := srv.Bucket(k.Account, k.Region, k.Class).QuotaPerS; got != want {
					t.Errorf("Bucket(%s).QuotaPerS = %g; want %g", k, got, want)
				}
			}
		})
	}
}

func TestOptionsRejected(t *testing.T) {
	tests := []struct {
		name    string
		opt     kmstest.Option
		wantErr string
		is      error
	}{
		{"crypto op", kmstest.WithQuota("GenerateDataKey", 5), "class bucket", nil},
		{"unknown API", kmstest.WithQuota("MakeCoffee", 5), "neither a class nor a KMS API", nil},
		{"zero quota", kmstest.WithSymmetricQuota(0), "want a finite number > 0", nil},
		{"negative quota", kmstest.WithQuota("CreateKey", -1), "want a finite number > 0", nil},
		{"fault share", kmstest.WithFault("Decrypt", 1.5), "want 0..1", nil},
		{"fault op", kmstest.WithFault("", 0.5), "needs an operation", nil},
		{"latency", kmstest.WithLatency("gamma:3ms"), "bad latency spec", emulator.ErrLatencySpec},
		{"account", kmstest.WithDefaultAccount("1234"), "not 12 digits", nil},
		{"clock", kmstest.WithClock(nil), "needs a clock", nil},
		{"bad config", kmstest.WithQuotaConfig(quota.Config{}), "quota:", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := kmstest.Start(tt.opt)
			if err == nil {
				srv.Close()
				t.Fatalf("Start(%s) = nil error; want one containing %q", tt.name, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "kmstest: ") && !strings.Contains(err.Error(), "quota:") {
				t.Errorf("Start(%s) = %v; want an error containing %q", tt.name, err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Start(%s) = %v; want errors.Is %v", tt.name, err, tt.is)
			}
		})
	}
}

// fatalTB records Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	mu    sync.Mutex
	fatal string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func TestNewServerFailsTestOnBadOption(t *testing.T) {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		kmstest.NewServer(tb, kmstest.WithSymmetricQuota(-5))
		t.Error("NewServer returned after an invalid option")
	}()
	<-done
	if !strings.Contains(tb.fatal, "kmstest.NewServer: kmstest: quota of symmetric is -5") {
		t.Errorf("Fatalf message = %q; want the option's error", tb.fatal)
	}
}

func TestClientsLandInTheirBuckets(t *testing.T) {
	srv := kmstest.NewServer(t, kmstest.WithFrozenClock(t0))
	calls := []struct {
		account, region string
		n               int
	}{
		{"111111111111", "us-east-1", 3},
		{"111111111111", "eu-west-1", 2},
		{"222222222222", "us-east-1", 1},
		{"", "", 4}, // the defaults
	}
	for _, c := range calls {
		cl := srv.Client(c.account, c.region)
		for range c.n {
			if err := random(cl); err != nil {
				t.Fatalf("GenerateRandom as %s in %s: %v", c.account, c.region, err)
			}
		}
	}
	var got []string
	for _, b := range srv.Stats() {
		got = append(got, fmt.Sprintf("%s=%d/%d", b.Bucket, b.Allowed, b.Throttled))
	}
	want := []string{
		"111111111111/eu-west-1/symmetric=2/0",
		"111111111111/us-east-1/symmetric=3/0",
		"123456789012/us-east-1/symmetric=4/0",
		"222222222222/us-east-1/symmetric=1/0",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Stats() = %v; want %v", got, want)
	}
	if got := srv.Requests("GenerateRandom"); got != 10 {
		t.Errorf("Requests(GenerateRandom) = %d; want 10", got)
	}
}

func TestDefaultAccountForOtherCredentials(t *testing.T) {
	const acct = "999999999999"
	srv := kmstest.NewServer(t, kmstest.WithDefaultAccount(acct))
	cfg := srv.Config("", "eu-west-1")
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")
	if err := random(kms.NewFromConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Bucket(acct, "eu-west-1", quota.Symmetric).Allowed; got != 1 {
		t.Errorf("allowed in %s/eu-west-1/symmetric = %d; want 1", acct, got)
	}
	if got := srv.Client("", "").Options().Region; got != kmstest.DefaultRegion {
		t.Errorf("Client(\"\", \"\") Region = %q; want %q", got, kmstest.DefaultRegion)
	}
}

func TestClientPanicsOnBadAccount(t *testing.T) {
	srv := kmstest.NewServer(t)
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "not 12 digits") {
			t.Errorf("Client(\"alice\", ...) panic = %v; want one naming the account", v)
		}
	}()
	srv.Client("alice", region)
}

func TestCleanupClosesServer(t *testing.T) {
	var (
		srv *kmstest.Server
		c   *kms.Client
	)
	t.Run("with server", func(t *testing.T) {
		srv = kmstest.NewServer(t)
		c = srv.Client(account, region, kmstest.NoRetries)
		if err := random(c); err != nil {
			t.Fatalf("GenerateRandom while the test runs: %v", err)
		}
	})
	if err := random(c); err == nil {
		t.Error("GenerateRandom after the subtest ended = nil error; want the connection to fail")
	}
	_, err := srv.SetupClient(account, region).ListKeys(context.Background(), &kms.ListKeysInput{})
	if !errors.Is(err, kmstest.ErrClosed) {
		t.Errorf("SetupClient after close: err = %v; want ErrClosed", err)
	}
	srv.Close() // a second Close is harmless
}

func TestFrozenClockAndRuntimeQuota(t *testing.T) {
	srv := kmstest.NewServer(t, kmstest.WithFrozenClock(t0))
	c := srv.Client(account, region, kmstest.NoRetries)
	if err := srv.SetQuota("symmetric", 2); err != nil {
		t.Fatal(err)
	}
	var got []string
	step := func() {
		for range 3 {
			got = append(got, errCode(random(c)))
		}
	}
	step()
	srv.Advance(time.Second)
	step()
	want := []string{"", "", "ThrottlingException", "", "", "ThrottlingException"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("answers = %q; want %q", got, want)
	}
	if got, want := srv.Now(), t0.Add(time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v; want %v", got, want)
	}
	b := srv.Bucket(account, region, quota.Symmetric)
	if b.Allowed != 4 || b.Throttled != 2 || b.QuotaPerS != 2 {
		t.Errorf("bucket = %+v; want allowed 4, throttled 2, quota 2", b)
	}

	if err := srv.SetQuota("Encrypt", 2); err == nil {
		t.Error("SetQuota(Encrypt) = nil; want an error: its bucket is its class's")
	}
	if err := srv.SetQuotaConfig(nil); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := random(c); err != nil {
			t.Fatalf("request %d with quotas off: %v", i, err)
		}
	}
	if st := srv.Stats(); st != nil {
		t.Errorf("Stats() with quotas off = %v; want nil", st)
	}
	// Turning one quota on again starts from AWS's defaults.
	if err := srv.SetQuota("CreateKey", 1); err != nil {
		t.Fatal(err)
	}
	if got := srv.Bucket(account, region, quota.Symmetric).QuotaPerS; got != 100_000 {
		t.Errorf("symmetric quota after SetQuota(CreateKey) = %g; want 100000", got)
	}
}

func TestSetupIsFreeAndExclusive(t *testing.T) {
	srv := kmstest.NewServer(t, kmstest.WithFrozenClock(t0), kmstest.WithQuota("CreateKey", 1),
		kmstest.WithSymmetricQuota(10), kmstest.WithFault("CreateKey", 1))
	// Setup: far over the CreateKey quota, through a fault on every
	// CreateKey, and none of it counted.
	var keys []string
	for range 5 {
		keys = append(keys, srv.CreateKey(t, account, region, nil))
	}
	for range 5 {
		keys = append(keys, srv.CreateKey(t, account, region, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}))
	}
	if n := srv.Requests("CreateKey"); n != 0 {
		t.Errorf("Requests(CreateKey) after setup = %d; want 0", n)
	}
	if st := srv.Stats(); len(st) != 0 {
		t.Errorf("Stats() after setup = %v; want no bucket", st)
	}

	// Load and setup at once: the symmetric bucket lets exactly 10 of the
	// 40 load requests through, and the setup requests never count.
	c := srv.Client(account, region, kmstest.NoRetries)
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]int{}
	for range 40 {
		wg.Go(func() {
			code := errCode(random(c))
			mu.Lock()
			answers[code]++
			mu.Unlock()
		})
	}
	setup := srv.SetupClient(account, region)
	for range 20 {
		wg.Go(func() {
			if err := random(setup); err != nil {
				t.Errorf("setup GenerateRandom: %v", err)
			}
		})
	}
	wg.Wait()
	if answers[""] != 10 || answers["ThrottlingException"] != 30 {
		t.Errorf("load answers = %v; want 10 ok and 30 ThrottlingException", answers)
	}
	if b := srv.Bucket(account, region, quota.Symmetric); b.Allowed != 10 || b.Throttled != 30 {
		t.Errorf("bucket allowed %d, throttled %d; want 10, 30", b.Allowed, b.Throttled)
	}

	// The code under test's own CreateKey meets both the fault and the quota.
	_, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if got := errCode(err); got != "KMSInternalException" {
		t.Errorf("CreateKey through the client = %q; want KMSInternalException", got)
	}
	if err := srv.SetFault("CreateKey", 0); err != nil {
		t.Fatal(err)
	}
	// CreateKey's bucket holds 10 s of its 1/s (quota.Config.APIBurstSeconds);
	// the faulted call above took none of it.
	var got []string
	for range 11 {
		_, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{})
		got = append(got, errCode(err))
	}
	if want := append(slices.Repeat([]string{""}, 10), "ThrottlingException"); !slices.Equal(got, want) {
		t.Errorf("eleven CreateKey calls = %q; want ten ok, then ThrottlingException", got)
	}
	// A key made in setup is usable by the code under test.
	if _, err := c.Sign(context.Background(), &kms.SignInput{KeyId: aws.String(keys[9]), Message: []byte("m"),
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
		t.Errorf("Sign with a setup key: %v", err)
	}
}

func TestFaults(t *testing.T) {
	srv := kmstest.NewServer(t, kmstest.WithFrozenClock(t0))
	c := srv.Client(account, region, kmstest.NoRetries)

	srv.FailNext("GenerateRandom", 2)
	var got []string
	for range 3 {
		got = append(got, errCode(random(c)))
	}
	if want := []string{"KMSInternalException", "KMSInternalException", ""}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("answers after FailNext(2) = %q; want %q", got, want)
	}
	// Faulted requests are counted as requests but charged to no bucket.
	if n, b := srv.Requests("GenerateRandom"), srv.Bucket(account, region, quota.Symmetric); n != 3 || b.Allowed != 1 {
		t.Errorf("Requests = %d, allowed = %d; want 3, 1", n, b.Allowed)
	}
	srv.FailNext("GenerateRandom", 5)
	srv.FailNext("GenerateRandom", 0) // cancels
	if err := random(c); err != nil {
		t.Errorf("after FailNext(0): %v", err)
	}

	// A share is drawn per request: 400 requests at 0.5 fail between 100
	// and 300 times (20 standard deviations from 200).
	if err := srv.SetFault("GenerateRandom", 0.5); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for range 400 {
		if random(c) != nil {
			failed++
		}
	}
	if failed < 100 || failed > 300 {
		t.Errorf("failures at share 0.5 = %d of 400; want 100..300", failed)
	}
	if err := srv.SetFault("GenerateRandom", 2); err == nil {
		t.Error("SetFault(share 2) = nil; want an error")
	}

	// The SDK's default retryer retries internal errors.
	if err := srv.SetFault("GenerateRandom", 0); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("GenerateRandom", 2)
	if err := random(srv.Client(account, region, kmstest.NoBackoff)); err != nil {
		t.Errorf("default retryer after 2 faults: %v", err)
	}
}

func TestReset(t *testing.T) {
	srv := kmstest.NewServer(t, kmstest.WithSymmetricQuota(1), kmstest.WithFrozenClock(t0))
	key := srv.CreateKey(t, account, region, nil)
	c := srv.Client(account, region, kmstest.NoRetries)
	if err := random(c); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("GenerateRandom", 3)
	srv.Reset()
	if n := srv.Requests("GenerateRandom"); n != 0 {
		t.Errorf("Requests after Reset = %d; want 0", n)
	}
	// Counters are gone (the frozen second's one slot is free again), the
	// pending faults too, and the quota is kept.
	if got := errCode(random(c)); got != "" {
		t.Errorf("first request after Reset = %q; want ok", got)
	}
	if got := errCode(random(c)); got != "ThrottlingException" {
		t.Errorf("second request after Reset = %q; want ThrottlingException", got)
	}
	_, err := srv.SetupClient(account, region).DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(key)})
	if got := errCode(err); got != "NotFoundException" {
		t.Errorf("DescribeKey of a key from before Reset = %q; want NotFoundException", got)
	}
}

func TestLatency(t *testing.T) {
	const d = 300 * time.Millisecond
	srv := kmstest.NewServer(t, kmstest.WithLatency("fixed:300ms"))
	start := time.Now()
	if err := random(srv.Client(account, region)); err != nil {
		t.Fatal(err)
	}
	if got := time.Since(start); got < d {
		t.Errorf("request took %v; want at least %v", got, d)
	}
	start = time.Now()
	srv.CreateKey(t, account, region, nil)
	if got := time.Since(start); got >= d {
		t.Errorf("setup request took %v; want no added latency (< %v)", got, d)
	}
}

func TestEmulatorAndURL(t *testing.T) {
	srv := kmstest.NewServer(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q; want http://127.0.0.1:PORT", srv.URL)
	}
	if got := aws.ToString(srv.Config(account, region).BaseEndpoint); got != srv.URL {
		t.Errorf("Config().BaseEndpoint = %q; want %q", got, srv.URL)
	}
	// A quota model set on the emulator directly is what Stats reports.
	c := quota.DefaultConfig()
	c.SymmetricOtherRegions = 42
	m, err := quota.New(c)
	if err != nil {
		t.Fatal(err)
	}
	srv.Emulator().SetQuota(m)
	if got := srv.Bucket(account, "sa-east-1", quota.Symmetric).QuotaPerS; got != 42 {
		t.Errorf("QuotaPerS after Emulator().SetQuota = %g; want 42", got)
	}
}

// TestSetupWaitsForRequestsInFlight checks that a setup request runs alone:
// it waits for a load request held up by service time.
func TestSetupWaitsForRequestsInFlight(t *testing.T) {
	const latency = 400 * time.Millisecond
	srv := kmstest.NewServer(t, kmstest.WithLatency("fixed:400ms"))
	done := make(chan error, 1)
	go func() { done <- random(srv.Client(account, region)) }()
	for srv.Requests("GenerateRandom") == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	srv.CreateKey(t, account, region, nil)
	// The load request entered the server before the setup request began,
	// so the setup request waited for most of its service time.
	if got := time.Since(start); got < latency/2 {
		t.Errorf("setup request took %v while a request was in flight; want at least %v", got, latency/2)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestEnvironmentIgnored checks that clients are hermetic: the SDK's
// environment settings change neither the endpoint nor the retryer.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_RETRY_MODE", "adaptive")
	srv := kmstest.NewServer(t)
	srv.FailNext("GenerateRandom", 2)
	if err := random(srv.Client(account, region)); err != nil {
		t.Errorf("GenerateRandom after 2 faults with AWS_MAX_ATTEMPTS=1 set: %v; want success on the 3rd attempt", err)
	}
	if n := srv.Requests("GenerateRandom"); n != 3 {
		t.Errorf("Requests = %d; want 3", n)
	}
}
