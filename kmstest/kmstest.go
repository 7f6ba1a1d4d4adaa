package kmstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// Defaults of the account and Region a client calls as when
// [Server.Client] or [Server.Config] is given "".
const (
	DefaultAccount = emulator.DefaultAccount
	DefaultRegion  = emulator.DefaultRegion
)

// SecretAccessKey is the secret of every client's static credentials. The
// server does not check signatures; the access key id names the caller's
// account.
const SecretAccessKey = "kmstest-secret"

// ErrClosed is returned by requests made through [Server.SetupClient]
// after the server was closed.
var ErrClosed = errors.New("kmstest: server closed")

// Server is a KMS emulator with AWS's request quotas, listening on a
// loopback port for one test. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT, for SDKs and
	// tools that take an endpoint (AWS_ENDPOINT_URL_KMS).
	URL string

	emu     *emulator.Server
	ts      *httptest.Server
	account string // default account
	closed  atomic.Bool
	once    sync.Once

	// gate is held shared by every request served through the listener
	// and exclusively by each setup request, so that a setup request runs
	// alone with quotas off.
	gate sync.RWMutex
	// quotaMu serialises quota swaps: setup requests, SetQuota, Stats.
	quotaMu sync.Mutex
	inSetup atomic.Bool

	mu       sync.Mutex // guards the maps below
	faults   map[string]float64
	failNext map[string]int
	requests map[string]int
}

// NewServer starts a Server on 127.0.0.1 for the test t and closes it when
// the test and its subtests end (t.Cleanup). It fails the test when an
// option is invalid or the server cannot listen. The emulator's diagnostic
// messages go to t.Logf unless [WithLogf] says otherwise.
//
// Without options the server applies AWS's default request quotas
// ([quota.DefaultConfig]: 100,000/s symmetric in us-east-1, 5/s CreateKey,
// ...) with the real clock, so a test meets throttling only when it drives
// real volume; [WithQuota], [WithSymmetricQuota] and [WithFrozenClock]
// make it meet throttling at will, [WithoutQuotas] never.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithLogf(t.Logf)}, opts...)
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("kmstest.NewServer: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server on 127.0.0.1 outside a test's lifetime, as
// httptest.NewServer does: for examples, TestMain or a server shared by
// several tests. The caller must call [Server.Close]. Inside a test, use
// [NewServer].
func Start(opts ...Option) (*Server, error) {
	st := defaultSettings()
	for _, o := range opts {
		o(&st)
	}
	if err := errors.Join(st.errs...); err != nil {
		return nil, err
	}
	var m *quota.Model
	if st.quota != nil {
		var err error
		if m, err = quota.New(*st.quota); err != nil {
			return nil, fmt.Errorf("kmstest: %w", err)
		}
	}
	s := &Server{
		account:  st.account,
		faults:   st.faults,
		failNext: map[string]int{},
		requests: map[string]int{},
	}
	eo := emulator.Options{
		DefaultAccount: st.account,
		Quota:          m,
		Clock:          st.clock,
		Logf:           st.logf,
	}
	if d := st.delay; d != nil {
		eo.Delay = func(op string, now time.Time) time.Duration {
			if s.inSetup.Load() {
				return 0
			}
			return d(op, now)
		}
	}
	emu, err := emulator.New(eo)
	if err != nil {
		return nil, fmt.Errorf("kmstest: %w", err)
	}
	s.emu = emu
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kmstest: %w", err)
	}
	s.ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(s.serve)}}
	s.ts.Start()
	s.URL = s.ts.URL
	return s, nil
}

// Close shuts the server down, waiting for requests in flight. Requests
// made afterwards fail. Close may be called more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.closed.Store(true)
		s.ts.Close()
	})
}

// serve is the listener's handler: it counts the request, applies injected
// faults and passes it on to the emulator.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "TrentService."); ok && r.Method == http.MethodPost {
		if s.fault(op) {
			writeFault(w)
			return
		}
	}
	s.emu.ServeHTTP(w, r)
}

// caller resolves "" to the defaults and panics on an account that is not
// 12 digits, which would silently be charged to the default account.
func (s *Server) caller(account, region string) (string, string) {
	if account == "" {
		account = s.account
	}
	if !emulator.IsAccount(account) {
		panic(fmt.Sprintf("kmstest: account %q is not 12 digits", account))
	}
	if region == "" {
		region = DefaultRegion
	}
	return account, region
}

// Config returns an aws.Config that calls the server as account in region:
// static credentials whose access key id is the account, BaseEndpoint set
// to [Server.URL] and the server's HTTP client. It sets no retryer, so
// clients built from it use the SDK's default (standard mode, 3 attempts,
// a 500-token retry quota per client). Nothing is read from the
// environment: AWS_RETRY_MODE, AWS_MAX_ATTEMPTS and shared config files do
// not apply. "" means [DefaultAccount] (or the [WithDefaultAccount] value)
// and [DefaultRegion]. Config panics when account is not 12 digits.
func (s *Server) Config(account, region string) aws.Config {
	account, region = s.caller(account, region)
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(account, SecretAccessKey, ""),
		HTTPClient:   s.ts.Client(),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Client returns a new KMS client calling the server as account in region
// (see [Server.Config]), with optFns applied after the defaults, for
// example [NoRetries] or [NoBackoff]. Each call returns a new client with a
// retry quota of its own, as two applications have; code that shares one
// client shares its retry quota. Client panics when account is not 12
// digits.
func (s *Server) Client(account, region string, optFns ...func(*kms.Options)) *kms.Client {
	return kms.NewFromConfig(s.Config(account, region), optFns...)
}

// SetupClient returns a KMS client for arranging a test: creating keys,
// aliases, grants and key policies as account in region. Its requests are
// served in-process, one at a time while no other request is being
// served; they are never throttled, faulted or delayed, not charged to any
// quota bucket and not counted by [Server.Requests]. Its retries are off.
// After [Server.Close] its requests fail with [ErrClosed].
func (s *Server) SetupClient(account, region string) *kms.Client {
	cfg := s.Config(account, region)
	cfg.HTTPClient = &http.Client{Transport: setupTransport{s}}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return kms.NewFromConfig(cfg)
}

// CreateKey creates a key as account in region through [Server.SetupClient]
// and returns its key ARN, which every KMS call accepts as KeyId, also from
// other accounts the key policy allows. A nil in creates a
// SYMMETRIC_DEFAULT encryption key. CreateKey fails the test on error.
func (s *Server) CreateKey(t testing.TB, account, region string, in *kms.CreateKeyInput) string {
	t.Helper()
	if in == nil {
		in = &kms.CreateKeyInput{}
	}
	out, err := s.SetupClient(account, region).CreateKey(context.Background(), in)
	if err != nil {
		t.Fatalf("kmstest: CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// setupTransport serves setup requests in-process with quotas off.
type setupTransport struct{ s *Server }

// RoundTrip implements http.RoundTripper.
func (tr setupTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	s := tr.s
	if r.Body != nil {
		defer r.Body.Close()
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	in := r.Clone(r.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	s.gate.Lock()
	defer s.gate.Unlock()
	m := s.emu.Quota()
	s.emu.SetQuota(nil)
	s.inSetup.Store(true)
	rec := httptest.NewRecorder()
	s.emu.ServeHTTP(rec, in)
	s.inSetup.Store(false)
	s.emu.SetQuota(m)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// Emulator returns the emulator behind the server, for what this package
// does not wrap. Quota models set on it directly are seen by
// [Server.Stats] and [Server.SetQuota].
func (s *Server) Emulator() *emulator.Server { return s.emu }

// Now returns the server's clock: the real or injected clock plus what
// [Server.Advance] added.
func (s *Server) Now() time.Time { return s.emu.Now() }

// Advance moves the server's clock forward by d: quota seconds pass, and
// keys whose deletion window ends are deleted. With [WithFrozenClock] this
// is the only way time passes.
func (s *Server) Advance(d time.Duration) { s.emu.Advance(d) }

// Reset forgets every key, alias and grant, every quota counter, the
// request counts and pending [Server.FailNext] faults. Quota limits, fault
// shares, latency and the clock stay as they are.
func (s *Server) Reset() {
	s.emu.Reset()
	s.mu.Lock()
	clear(s.requests)
	clear(s.failNext)
	s.mu.Unlock()
}

// SetQuota sets one bucket's limit at run time, as [WithQuota] does at
// start (same names), keeping the other limits. It installs a new quota
// model: every bucket's counters start again. When quotas are off it turns
// them on with AWS's defaults plus this limit.
func (s *Server) SetQuota(name string, perSecond float64) error {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	c := quota.DefaultConfig()
	if m := s.emu.Quota(); m != nil {
		c = m.Config()
	}
	if err := setLimit(&c, name, perSecond); err != nil {
		return err
	}
	m, err := quota.New(c)
	if err != nil {
		return fmt.Errorf("kmstest: %w", err)
	}
	s.emu.SetQuota(m)
	return nil
}

// SetQuotaConfig replaces the quotas at run time with c, or turns them off
// when c is nil. Every bucket's counters start again.
func (s *Server) SetQuotaConfig(c *quota.Config) error {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	if c == nil {
		s.emu.SetQuota(nil)
		return nil
	}
	m, err := quota.New(*c)
	if err != nil {
		return fmt.Errorf("kmstest: %w", err)
	}
	s.emu.SetQuota(m)
	return nil
}

// Stats returns the counters of every quota bucket that has seen a
// request, sorted by bucket ("account/region/class"): limit, allowed and
// throttled requests. It is nil when quotas are off.
func (s *Server) Stats() []quota.BucketStats {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	return s.emu.Quota().Stats(s.emu.Now())
}

// Bucket returns the counters of one quota bucket, for example
// Bucket("111111111111", "us-east-1", quota.Symmetric) or, for a
// management API, class quota.APIClass("CreateKey"). A bucket that has
// seen no request has zero counters and its limit in QuotaPerS (0 when
// quotas are off).
func (s *Server) Bucket(account, region string, class quota.Class) quota.BucketStats {
	key := quota.BucketKey{Account: account, Region: region, Class: class}
	want := key.String()
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	m := s.emu.Quota()
	for _, b := range m.Stats(s.emu.Now()) {
		if b.Bucket == want {
			return b
		}
	}
	st := quota.BucketStats{Bucket: want, Account: account, Region: region, Class: class}
	if m != nil {
		st.QuotaPerS = m.Config().Limit(key)
	}
	return st
}

// Requests returns how many requests of operation op (for example
// "GenerateDataKey") reached the server since it started or was Reset:
// every attempt the SDK sent, whatever the answer. Requests made through
// [Server.SetupClient] are not counted.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}
