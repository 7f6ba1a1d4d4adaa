package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmsload/kmsload/quota"
)

// Defaults applied by New to empty Options fields.
const (
	DefaultAccount = "123456789012"
	DefaultRegion  = "us-east-1"
)

// Options configures a Server. The zero value is a quota-free emulator for
// account 123456789012 in us-east-1.
type Options struct {
	// DefaultAccount is the caller account when the SigV4 access key id is
	// not 12 digits; default "123456789012".
	DefaultAccount string
	// DefaultRegion is the Region of requests without a SigV4 credential
	// scope; default "us-east-1".
	DefaultRegion string
	// Quota is the request-quota model; nil means no throttling.
	Quota *quota.Model
	// Clock returns the current time; nil means time.Now. Quota decisions
	// and key-deletion windows use it plus the offset added by Advance.
	Clock func() time.Time
	// Delay, when set, is called per request after the quota decision and
	// the handler waits that long (or until the request context ends)
	// before answering: the service-time model and stall injection.
	Delay func(op string, now time.Time) time.Duration
	// Faults maps an operation name to the share (0..1) of its requests
	// that fail with KMSInternalException (HTTP 500).
	Faults map[string]float64
	// Upstream, when set, is the URL of a KMS endpoint: the server decides
	// quota locally, forwards allowed requests there with headers and body
	// unchanged (the Host header becomes the upstream's) and answers
	// throttled ones itself (a throttling proxy). Meant for emulators that
	// do not check signatures (LocalStack, moto, local-kms); requests are
	// not re-signed.
	Upstream string
	// VerifySigV4 makes the server check SigV4 signatures against
	// Credentials.
	VerifySigV4 bool
	// Credentials maps access key ids to secret access keys for VerifySigV4.
	Credentials map[string]string
	// Logf receives diagnostic messages; nil means silent.
	Logf func(format string, args ...any)
}

// Server is an AWS KMS emulator speaking the KMS JSON 1.1 protocol. It
// serves KMS at POST / and admin endpoints under /_kmsload/. It is safe for
// concurrent use.
type Server struct {
	opts   Options
	clock  func() time.Time
	offset atomic.Int64 // nanoseconds added to clock
	quota  atomic.Pointer[quota.Model]
	ids    *idGen
	proxy  *httputil.ReverseProxy

	mu sync.RWMutex // guards st and everything reachable from it
	st *store

	// stdJSON turns off the hot operations' own JSON codec (fastjson.go):
	// every request and answer goes through encoding/json. Tests set it
	// to compare the two.
	stdJSON bool

	// proxySpecs remembers KeySpecs seen in upstream responses (proxy mode):
	// key id or ARN -> spec.
	proxySpecs sync.Map
}

// New returns a Server configured by opts.
func New(opts Options) (*Server, error) {
	if opts.DefaultAccount == "" {
		opts.DefaultAccount = DefaultAccount
	}
	if !IsAccount(opts.DefaultAccount) {
		return nil, fmt.Errorf("emulator: default account %q is not 12 digits", opts.DefaultAccount)
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = DefaultRegion
	}
	for op, p := range opts.Faults {
		if p < 0 || p > 1 {
			return nil, fmt.Errorf("emulator: fault share of %s is %v, want 0..1", op, p)
		}
	}
	if opts.VerifySigV4 && len(opts.Credentials) == 0 {
		return nil, errors.New("emulator: signature verification needs credentials")
	}
	s := &Server{opts: opts, clock: opts.Clock, ids: newIDGen(), st: newStore()}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.quota.Store(opts.Quota)
	if opts.Upstream != "" {
		u, err := url.Parse(opts.Upstream)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("emulator: upstream %q is not an absolute URL", opts.Upstream)
		}
		s.proxy = s.newProxy(u)
	}
	return s, nil
}

// Now returns the emulator clock: Options.Clock plus the advanced offset.
func (s *Server) Now() time.Time {
	return s.clock().Add(time.Duration(s.offset.Load()))
}

// Advance moves the emulator clock forward by d (negative d is ignored) and
// applies what the new time makes due: keys whose deletion window ended are
// deleted and keys with automatic rotation due are rotated. (Both are also
// applied lazily: a key past its deletion date is never usable.)
func (s *Server) Advance(d time.Duration) {
	if d > 0 {
		now := time.Duration(s.offset.Add(int64(d)))
		s.mu.Lock()
		s.st.sweep(s.clock().Add(now))
		s.mu.Unlock()
	}
}

// SetQuota swaps the quota model atomically; nil turns throttling off.
func (s *Server) SetQuota(m *quota.Model) { s.quota.Store(m) }

// Quota returns the current quota model, nil when throttling is off.
func (s *Server) Quota() *quota.Model { return s.quota.Load() }

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// call is one KMS request being served.
type call struct {
	s        *Server
	op       string
	account  string // caller account
	region   string
	now      time.Time
	body     []byte
	charged  bool
	pairSpec string           // data key pair spec of GenerateDataKeyPair*, charged by it
	source   *quota.SourceKey // a ReEncrypt's source key, charged with the destination's
}

// principal is the caller's principal ARN: the account's root (IAM in
// the caller's account is modelled as allowing everything). It is made
// only where a policy or a message needs it.
func (c *call) principal() string { return "arn:aws:iam::" + c.account + ":root" }

// chargeKey charges the request by the key it uses (charge).
func (c *call) chargeKey(k *key) *apiError {
	return c.charge(k.spec, k.customKeyStore, storeTypeOf(k))
}

// storeTypeOf is the type of k's custom key store, by its origin.
func storeTypeOf(k *key) string {
	if k.origin == originXKS {
		return quota.StoreExternal
	}
	return quota.StoreCloudHSM
}

// charge counts the request against the quota model once, with the key
// spec, custom key store and store type of the key it uses ("" when none).
func (c *call) charge(keySpec, store, storeType string) *apiError {
	if c.charged {
		return nil
	}
	c.charged = true
	m := c.s.quota.Load()
	if m == nil {
		return nil
	}
	err := m.Allow(c.now, quota.Request{Account: c.account, Region: c.region, Operation: c.op, KeySpec: keySpec, KeyPairSpec: c.pairSpec, CustomKeyStore: store, CustomKeyStoreType: storeType, Source: c.source})
	if err != nil {
		if te, ok := errors.AsType[*quota.ThrottleError](err); ok {
			return throttled(te.Bucket.String())
		}
		c.s.logf("emulator: quota: %v", err)
		return errInternal()
	}
	return nil
}

// scratch is what one request borrows from scratchPool: its body
// buffer, the limited reader that fills it and its call, each of which
// would otherwise be allocated per request. Nothing keeps a reference to
// them after ServeHTTP returns.
type scratch struct {
	body bytes.Buffer
	lr   io.LimitedReader
	c    call
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch clears sc and returns it to the pool, unless its buffer grew
// past 64 KiB.
func putScratch(sc *scratch) {
	if sc.body.Cap() > 64<<10 {
		return
	}
	sc.body.Reset()
	sc.lr = io.LimitedReader{}
	sc.c = call{}
	scratchPool.Put(sc)
}

// refuseOversized answers a request whose body is over maxBodyBytes with
// ValidationException (HTTP 400, KMS's "Common Errors": the input fails
// the service's constraints), after reading and discarding the rest of the
// body up to maxDrainBytes so the client gets to read the answer.
func refuseOversized(w http.ResponseWriter, r *http.Request, reqID string) {
	n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, maxDrainBytes))
	if n == maxDrainBytes {
		w.Header().Set("Connection", "close")
	}
	writeError(w, reqID, kerr("ValidationException", "1 validation error detected: request body is larger than %d bytes", maxBodyBytes))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	reqID := s.ids.next()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logf("emulator: panic serving %s: %v\n%s", r.Header.Get("X-Amz-Target"), v, debug.Stack())
			writeError(w, reqID, errInternal())
		}
	}()
	if r.Method != http.MethodPost {
		writeError(w, reqID, kerr("UnknownOperationException", "KMS accepts POST requests only"))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	var fn opFunc
	if ok {
		fn = operations[op]
	}
	if fn == nil {
		writeError(w, reqID, kerr("UnknownOperationException", ""))
		return
	}

	sc := getScratch()
	defer putScratch(sc)
	sc.lr = io.LimitedReader{R: r.Body, N: maxBodyBytes + 1}
	if _, err := sc.body.ReadFrom(&sc.lr); err != nil {
		writeError(w, reqID, kerr("SerializationException", "could not read request body"))
		return
	}
	if sc.body.Len() > maxBodyBytes {
		refuseOversized(w, r, reqID)
		return
	}

	c := &sc.c
	*c = call{s: s, op: op, body: sc.body.Bytes(), now: s.Now()}
	akid, region, hasAuth := parseAuth(r)
	if s.opts.VerifySigV4 {
		if !hasAuth {
			writeError(w, reqID, kerr("MissingAuthenticationTokenException", "Request is missing Authentication Token"))
			return
		}
		secret, known := s.opts.Credentials[akid]
		if !known {
			writeError(w, reqID, kerr("UnrecognizedClientException", "The security token included in the request is invalid."))
			return
		}
		if err := verifySigV4(r, c.body, secret, c.now); err != nil {
			writeError(w, reqID, kerr("InvalidSignatureException", "The request signature we calculated does not match the signature you provided."))
			return
		}
	}
	c.account = s.opts.DefaultAccount
	if IsAccount(akid) {
		c.account = akid
	}
	c.region = s.opts.DefaultRegion
	if hasAuth && region != "" {
		c.region = region
	}

	if s.proxy != nil {
		s.serveProxy(w, r, c, reqID)
		return
	}
	c.ensureAWSManaged()

	var out any
	var aerr *apiError
	if quota.IsCryptographic(op) {
		// Cryptographic operations resolve their key first so the quota
		// class is known, then charge; a request that fails before that is
		// charged as symmetric.
		out, aerr = fn(c)
		if !c.charged {
			if e := c.charge("", "", ""); e != nil {
				out, aerr = nil, e
			}
		}
	} else if aerr = c.charge("", "", ""); aerr == nil {
		out, aerr = fn(c)
	}
	if aerr == nil {
		if p := s.opts.Faults[op]; p > 0 && rand.Float64() < p {
			aerr = errInternal()
		}
	}
	if !s.wait(r, op, c.now) {
		return
	}
	if aerr != nil {
		writeError(w, reqID, aerr)
		return
	}
	writeJSON(w, reqID, out, !s.stdJSON)
}

// wait applies Options.Delay; it reports false when the request context
// ended first.
func (s *Server) wait(r *http.Request, op string, now time.Time) bool {
	if s.opts.Delay == nil {
		return true
	}
	d := s.opts.Delay(op, now)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// opFunc serves one KMS operation: it decodes c.body, charges quota through
// c.charge and returns the response value (nil for {}) or a KMS error.
type opFunc func(c *call) (any, *apiError)

// operations maps KMS operation names to their handlers, each built by
// decoded (or onKey, for an operation on the key its request names) with
// how it holds the store lock.
var operations map[string]opFunc

func init() {
	operations = map[string]opFunc{
		"CreateKey":                           decoded(unlocked, opCreateKey),
		"DescribeKey":                         onKey(shared, opDescribeKey),
		"ListKeys":                            decoded(shared, opListKeys),
		"UpdateKeyDescription":                onKey(exclusive, opUpdateKeyDescription),
		"ReplicateKey":                        onKey(exclusive, opReplicateKey),
		"Encrypt":                             decoded(shared, opEncrypt),
		"Decrypt":                             decoded(shared, opDecrypt),
		"ReEncrypt":                           decoded(shared, opReEncrypt),
		"GenerateDataKey":                     decoded(shared, opGenerateDataKey),
		"GenerateDataKeyWithoutPlaintext":     decoded(shared, opGenerateDataKeyWithoutPlaintext),
		"GenerateDataKeyPair":                 decoded(shared, opGenerateDataKeyPair),
		"GenerateDataKeyPairWithoutPlaintext": decoded(shared, opGenerateDataKeyPairWithoutPlaintext),
		"GenerateRandom":                      decoded(unlocked, opGenerateRandom),
		"GenerateMac":                         decoded(shared, opGenerateMac),
		"VerifyMac":                           decoded(shared, opVerifyMac),
		"Sign":                                decoded(shared, opSign),
		"Verify":                              decoded(shared, opVerify),
		"DeriveSharedSecret":                  decoded(shared, opDeriveSharedSecret),
		"GetPublicKey":                        onKey(shared, opGetPublicKey),
		"EnableKey":                           onKey(exclusive, opEnableKey),
		"DisableKey":                          onKey(exclusive, opDisableKey),
		"ScheduleKeyDeletion":                 onKey(exclusive, opScheduleKeyDeletion),
		"CancelKeyDeletion":                   onKey(exclusive, opCancelKeyDeletion),
		"EnableKeyRotation":                   onKey(exclusive, opEnableKeyRotation),
		"DisableKeyRotation":                  onKey(exclusive, opDisableKeyRotation),
		"GetKeyRotationStatus":                onKey(shared, opGetKeyRotationStatus),
		"RotateKeyOnDemand":                   onKey(exclusive, opRotateKeyOnDemand),
		"ListKeyRotations":                    onKey(shared, opListKeyRotations),
		"GetParametersForImport":              onKey(exclusive, opGetParametersForImport),
		"ImportKeyMaterial":                   onKey(exclusive, opImportKeyMaterial),
		"DeleteImportedKeyMaterial":           onKey(exclusive, opDeleteImportedKeyMaterial),
		"CreateAlias":                         decoded(unlocked, opCreateAlias),
		"UpdateAlias":                         decoded(unlocked, opUpdateAlias),
		"DeleteAlias":                         decoded(unlocked, opDeleteAlias),
		"ListAliases":                         decoded(shared, opListAliases),
		"TagResource":                         onKey(exclusive, opTagResource),
		"UntagResource":                       onKey(exclusive, opUntagResource),
		"ListResourceTags":                    onKey(shared, opListResourceTags),
		"GetKeyPolicy":                        onKey(shared, opGetKeyPolicy),
		"PutKeyPolicy":                        onKey(exclusive, opPutKeyPolicy),
		"ListKeyPolicies":                     onKey(shared, opListKeyPolicies),
		"CreateGrant":                         onKey(exclusive, opCreateGrant),
		"ListGrants":                          onKey(shared, opListGrants),
		"RetireGrant":                         decoded(exclusive, opRetireGrant),
		"RevokeGrant":                         onKey(exclusive, opRevokeGrant),
	}
}

// IsAccount reports whether s is a 12-digit AWS account id: the form an
// access key id must have to name the caller account (see the package doc).
func IsAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
