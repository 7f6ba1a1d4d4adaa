package emulator_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/emulator"
)

// Accounts used by the tests; the access key id is the caller's account.
const (
	acctA = "111111111111"
	acctB = "222222222222"
)

// t0 is the fixed start of the injected clock.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// fixedClock is an injected clock tests move by hand.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// start runs an emulator with opts (and a fixed clock at t0 unless
// opts.Clock is set) on a loopback port.
func start(t *testing.T, opts emulator.Options) (*emulator.Server, *httptest.Server) {
	t.Helper()
	if opts.Clock == nil {
		c := &fixedClock{now: t0}
		opts.Clock = c.Now
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts
}

// client returns an SDK client calling ts as account in region, with
// retries off.
func client(ts *httptest.Server, account, region string) *kms.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(account, "secret", ""),
		HTTPClient:  ts.Client(),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(ts.URL) })
}

// code returns the KMS error code of err ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

// wantCode fails the test unless err carries the KMS error code want.
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Errorf("%s: error code = %q (%v); want %q", what, got, err, want)
	}
}

// rawResponse is a KMS answer read with a plain HTTP client.
type rawResponse struct {
	status int
	body   string
	header http.Header
}

// raw sends one KMS request with a plain HTTP client. The Authorization
// header carries account and region in its credential scope (unsigned).
func raw(t *testing.T, ts *httptest.Server, account, region, op, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, ts.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "TrentService."+op)
	}
	if account != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+account+"/20260101/"+region+"/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, body: string(b), header: resp.Header}
}

// reloaded saves srv's state and starts a new server from it.
func reloaded(t *testing.T, srv *emulator.Server) *httptest.Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := srv.SaveState(path); err != nil {
		t.Fatal(err)
	}
	srv2, ts2 := start(t, emulator.Options{})
	if err := srv2.LoadState(path); err != nil {
		t.Fatal(err)
	}
	return ts2
}

func ctx() context.Context { return context.Background() }

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
