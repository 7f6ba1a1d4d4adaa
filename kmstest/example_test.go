package kmstest_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/kmstest"
	"github.com/kmsload/kmsload/quota"
)

// The service under test: Envelope seals records with envelope encryption
// (one GenerateDataKey per record, AES-GCM locally) and opens them with
// Decrypt. It turns KMS throttling into its own ErrBusy so that its callers
// can shed load, and keeps the SDK's error in the chain.

// ErrBusy is returned when KMS throttles the service.
var ErrBusy = errors.New("envelope: KMS is throttling, try later")

// Envelope encrypts records under one KMS key.
type Envelope struct {
	KMS   *kms.Client
	KeyID string
}

// Sealed is an encrypted record.
type Sealed struct {
	EncryptedKey, Nonce, Ciphertext []byte
}

// Seal encrypts plaintext under a fresh data key.
func (e *Envelope) Seal(ctx context.Context, plaintext []byte) (Sealed, error) {
	dk, err := e.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(e.KeyID), NumberOfBytes: aws.Int32(32)})
	if err != nil {
		return Sealed{}, classify("seal", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return Sealed{EncryptedKey: dk.CiphertextBlob, Nonce: nonce, Ciphertext: gcm.Seal(nil, nonce, plaintext, nil)}, nil
}

// Open decrypts a record made by Seal.
func (e *Envelope) Open(ctx context.Context, s Sealed) ([]byte, error) {
	dk, err := e.KMS.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: s.EncryptedKey})
	if err != nil {
		return nil, classify("open", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, s.Nonce, s.Ciphertext, nil)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return cipher.NewGCM(b)
}

// classify wraps a KMS error, as ErrBusy when KMS throttled.
func classify(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException" {
		return fmt.Errorf("envelope: %s: %w: %w", what, ErrBusy, err)
	}
	return fmt.Errorf("envelope: %s: %w", what, err)
}

const (
	account = "111111111111"
	region  = "us-east-1"
)

// t0 is where the examples' frozen clocks stand.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// The service meets ThrottlingException: the symmetric quota is 5/s and
// the clock stands still, so exactly five records are sealed in the first
// second and the sixth is throttled; the client's retries are off, so the
// service sees the throttle at once. (Inside a test, use
// kmstest.NewServer(t, ...) instead of Start and Close.)
func Example() {
	srv, err := kmstest.Start(kmstest.WithSymmetricQuota(5), kmstest.WithFrozenClock(t0))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// Setup calls are free: not throttled, not counted.
	key, err := srv.SetupClient(account, region).CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		panic(err)
	}
	svc := &Envelope{KMS: srv.Client(account, region, kmstest.NoRetries), KeyID: *key.KeyMetadata.Arn}

	for i := 1; i <= 6; i++ {
		_, err := svc.Seal(ctx, []byte("record"))
		fmt.Printf("record %d: busy=%v err=%v\n", i, errors.Is(err, ErrBusy), err != nil)
	}
	srv.Advance(time.Second)
	_, err = svc.Seal(ctx, []byte("record"))
	fmt.Printf("next second: err=%v\n", err != nil)

	b := srv.Bucket(account, region, quota.Symmetric)
	fmt.Printf("%s: quota %g/s, allowed %d, throttled %d\n", b.Bucket, b.QuotaPerS, b.Allowed, b.Throttled)
	// Output:
	// record 1: busy=false err=false
	// record 2: busy=false err=false
	// record 3: busy=false err=false
	// record 4: busy=false err=false
	// record 5: busy=false err=false
	// record 6: busy=true err=true
	// next second: err=false
	// 111111111111/us-east-1/symmetric: quota 5/s, allowed 6, throttled 1
}

// Retry-quota exhaustion: 200 goroutines seal through one service, so they
// share one SDK client in standard retry mode, against a symmetric quota
// of 1/s on a frozen clock. One call gets through; every other attempt is
// throttled. Each throttled retry takes 5 tokens from the client's
// 500-token retry quota, so the SDK sends exactly 100 retries and then
// fails calls without sending them ("retry quota exceeded",
// ratelimit.QuotaExceededError). The same load through one client per
// goroutine never runs dry: every call makes its 3 attempts.
func Example_retryQuota() {
	srv, err := kmstest.Start(kmstest.WithSymmetricQuota(1), kmstest.WithFrozenClock(t0))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()
	key, err := srv.SetupClient(account, region).CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		panic(err)
	}

	// run seals one record per service, each in its own goroutine.
	run := func(services []*Envelope) {
		var wg sync.WaitGroup
		errs := make([]error, len(services))
		for i, svc := range services {
			wg.Go(func() { _, errs[i] = svc.Seal(ctx, []byte("record")) })
		}
		wg.Wait()
		var sealed, busy, exhausted int
		for _, err := range errs {
			var qe ratelimit.QuotaExceededError
			switch {
			case err == nil:
				sealed++
			case errors.As(err, &qe):
				exhausted++
				busy++
			case errors.Is(err, ErrBusy):
				busy++
			}
		}
		fmt.Printf("  sealed %d, busy %d, retry quota exhausted: %v\n", sealed, busy, exhausted > 0)
	}

	// NoBackoff: the SDK's standard retryer without its waits.
	shared := &Envelope{KMS: srv.Client(account, region, kmstest.NoBackoff), KeyID: *key.KeyMetadata.Arn}
	services := make([]*Envelope, 200)
	for i := range services {
		services[i] = shared
	}
	fmt.Println("one shared client:")
	run(services)
	fmt.Printf("  attempts %d\n", srv.Requests("GenerateDataKey"))

	srv.Advance(time.Second) // a fresh quota second
	before := srv.Requests("GenerateDataKey")
	for i := range services {
		services[i] = &Envelope{KMS: srv.Client(account, region, kmstest.NoBackoff), KeyID: *key.KeyMetadata.Arn}
	}
	fmt.Println("one client per goroutine:")
	run(services)
	fmt.Printf("  attempts %d\n", srv.Requests("GenerateDataKey")-before)
	// Output:
	// one shared client:
	//   sealed 1, busy 199, retry quota exhausted: true
	//   attempts 300
	// one client per goroutine:
	//   sealed 1, busy 199, retry quota exhausted: false
	//   attempts 598
}

// Fault injection: the next two GenerateDataKey requests fail with
// KMSInternalException, and the SDK's default retryer (3 attempts) hides
// that from the service; then every Decrypt fails, and the service sees the
// error after three attempts.
func Example_faults() {
	srv, err := kmstest.Start(kmstest.WithoutQuotas())
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()
	key, err := srv.SetupClient(account, region).CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		panic(err)
	}
	svc := &Envelope{KMS: srv.Client(account, region), KeyID: *key.KeyMetadata.Arn}

	srv.FailNext("GenerateDataKey", 2)
	sealed, err := svc.Seal(ctx, []byte("record"))
	fmt.Printf("seal: err=%v after %d attempts\n", err != nil, srv.Requests("GenerateDataKey"))

	if err := srv.SetFault("Decrypt", 1); err != nil {
		panic(err)
	}
	_, err = svc.Open(ctx, sealed)
	var ae smithy.APIError
	if errors.As(err, &ae) {
		fmt.Printf("open: %s after %d attempts\n", ae.ErrorCode(), srv.Requests("Decrypt"))
	}

	if err := srv.SetFault("Decrypt", 0); err != nil {
		panic(err)
	}
	plain, err := svc.Open(ctx, sealed)
	fmt.Printf("open: %q, err=%v\n", plain, err != nil)
	// Output:
	// seal: err=false after 3 attempts
	// open: KMSInternalException after 3 attempts
	// open: "record", err=false
}

// A test of the service as it is written in a project that imports
// kmstest: the server lives as long as the test.
func TestEnvelopeShedsLoadWhenThrottled(t *testing.T) {
	srv := kmstest.NewServer(t, kmstest.WithSymmetricQuota(2), kmstest.WithFrozenClock(t0))
	key := srv.CreateKey(t, account, region, nil)
	svc := &Envelope{KMS: srv.Client(account, region, kmstest.NoRetries), KeyID: key}
	ctx := context.Background()

	var sealed []Sealed
	for i := range 3 {
		s, err := svc.Seal(ctx, []byte("secret"))
		if wantBusy := i == 2; errors.Is(err, ErrBusy) != wantBusy || (!wantBusy && err != nil) {
			t.Fatalf("Seal #%d: err = %v; want busy = %v", i+1, err, wantBusy)
		}
		if err == nil {
			sealed = append(sealed, s)
		}
	}
	srv.Advance(time.Second) // the next quota second
	for i, s := range sealed {
		got, err := svc.Open(ctx, s)
		if err != nil || string(got) != "secret" {
			t.Fatalf("Open #%d = %q, %v; want \"secret\", nil", i+1, got, err)
		}
	}
	got := srv.Bucket(account, region, quota.Symmetric)
	if got.Allowed != 4 || got.Throttled != 1 {
		t.Errorf("bucket %s: allowed %d, throttled %d; want 4, 1", got.Bucket, got.Allowed, got.Throttled)
	}
}
