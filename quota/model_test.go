package quota_test

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsload/kmsload/quota"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

func newModel(t testing.TB, edit func(*quota.Config)) *quota.Model {
	t.Helper()
	c := quota.DefaultConfig()
	if edit != nil {
		edit(&c)
	}
	m, err := quota.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// stats returns the stats of bucket name, and whether it exists.
func stats(m *quota.Model, now time.Time, name string) (quota.BucketStats, bool) {
	for _, s := range m.Stats(now) {
		if s.Bucket == name {
			return s, true
		}
	}
	return quota.BucketStats{}, false
}

func mustStats(t *testing.T, m *quota.Model, now time.Time, name string) quota.BucketStats {
	t.Helper()
	s, ok := stats(m, now, name)
	if !ok {
		t.Fatalf("Stats(%v) has no bucket %s", now, name)
	}
	return s
}

// burst sends n copies of r at from, from+every, ... and returns how many
// were allowed; every refusal must be a *ThrottleError wrapping ErrThrottled.
func burst(t *testing.T, m *quota.Model, r quota.Request, from, every time.Duration, n int) (allowed int, last *quota.ThrottleError) {
	t.Helper()
	for i := range n {
		err := m.Allow(t0.Add(from+time.Duration(i)*every), r)
		if err == nil {
			allowed++
			continue
		}
		if !errors.Is(err, quota.ErrThrottled) {
			t.Fatalf("Allow = %v; want an error wrapping ErrThrottled", err)
		}
		if !errors.As(err, &last) {
			t.Fatalf("Allow = %T; want *quota.ThrottleError", err)
		}
	}
	return allowed, last
}

type step struct {
	from, every time.Duration
	n           int
	want        int           // allowed
	retry       time.Duration // RetryAfter of the last refusal, when want < n
}

func TestAllowAlgorithms(t *testing.T) {
	r := quota.Request{Account: acctA, Region: "us-east-1", Operation: "Decrypt", KeySpec: "SYMMETRIC_DEFAULT"}
	tests := []struct {
		name  string
		alg   quota.Algorithm
		burst float64
		steps []step
	}{
		{"fixed window", quota.FixedWindow, 1, []step{
			// 150 requests at 0, 5ms, ..., 745ms: the first 100 pass.
			{from: 0, every: 5 * time.Millisecond, n: 150, want: 100, retry: 255 * time.Millisecond},
			// Still the same second.
			{from: 999 * time.Millisecond, n: 1, want: 0, retry: time.Millisecond},
			// A new second allows again.
			{from: time.Second, every: time.Millisecond, n: 101, want: 100, retry: 900 * time.Millisecond},
			{from: 2500 * time.Millisecond, n: 150, want: 100, retry: 500 * time.Millisecond},
		}},
		{"token bucket all at once", quota.TokenBucket, 1, []step{
			// A full bucket holds one second of quota.
			{from: 0, n: 150, want: 100, retry: 10 * time.Millisecond},
			// Half a second refills 50.
			{from: 500 * time.Millisecond, n: 100, want: 50, retry: 10 * time.Millisecond},
			// 10ms refills one.
			{from: 510 * time.Millisecond, n: 2, want: 1, retry: 10 * time.Millisecond},
			// Idle for longer than the burst: capped at 100, not 200.
			{from: 2510 * time.Millisecond, n: 150, want: 100, retry: 10 * time.Millisecond},
		}},
		{"token bucket spread", quota.TokenBucket, 1, []step{
			// Unlike the fixed window, refill during the second lets all 150 pass.
			{from: 0, every: 5 * time.Millisecond, n: 150, want: 150},
		}},
		{"token bucket burst 2s", quota.TokenBucket, 2, []step{
			{from: 0, n: 250, want: 200, retry: 10 * time.Millisecond},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModel(t, func(c *quota.Config) {
				c.Algorithm = tt.alg
				c.BurstSeconds = tt.burst
				c.SymmetricByRegion["us-east-1"] = 100
			})
			var wantAllowed, wantThrottled int64
			for _, s := range tt.steps {
				got, last := burst(t, m, r, s.from, s.every, s.n)
				if got != s.want {
					t.Errorf("%d requests from %v every %v: allowed %d; want %d", s.n, s.from, s.every, got, s.want)
				}
				wantAllowed += int64(s.want)
				wantThrottled += int64(s.n - s.want)
				if s.want == s.n {
					continue
				}
				if last == nil {
					t.Fatalf("no ThrottleError from %v", s.from)
				}
				wantKey := quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.Symmetric}
				if last.Bucket != wantKey || last.Limit != 100 || last.Operation != "Decrypt" {
					t.Errorf("ThrottleError = %+v; want bucket %v, limit 100, operation Decrypt", *last, wantKey)
				}
				if d := last.RetryAfter - s.retry; d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("RetryAfter at %v = %v; want %v", s.from, last.RetryAfter, s.retry)
				}
			}
			st := mustStats(t, m, t0.Add(time.Hour), acctA+"/us-east-1/symmetric")
			if st.Allowed != wantAllowed || st.Throttled != wantThrottled {
				t.Errorf("Stats allowed/throttled = %d/%d; want %d/%d", st.Allowed, st.Throttled, wantAllowed, wantThrottled)
			}
		})
	}
}

func TestFixedWindowTimeGoingBack(t *testing.T) {
	m := newModel(t, func(c *quota.Config) { c.SymmetricOtherRegions = 1 })
	r := quota.Request{Account: acctA, Region: "eu-north-1", Operation: "Encrypt"}
	if err := m.Allow(t0.Add(1500*time.Millisecond), r); err != nil {
		t.Fatalf("Allow(1.5s) = %v; want nil", err)
	}
	// An earlier instant counts as the bucket's latest: second 1 is full.
	err := m.Allow(t0.Add(200*time.Millisecond), r)
	var te *quota.ThrottleError
	if !errors.As(err, &te) {
		t.Fatalf("Allow(0.2s after 1.5s) = %v; want *ThrottleError", err)
	}
	if te.RetryAfter != 500*time.Millisecond {
		t.Errorf("RetryAfter = %v; want 500ms", te.RetryAfter)
	}
	if err := m.Allow(t0.Add(2*time.Second), r); err != nil {
		t.Errorf("Allow(2s) = %v; want nil", err)
	}
}

func TestAccountsDoNotShare(t *testing.T) {
	m := newModel(t, func(c *quota.Config) { c.SymmetricByRegion["us-east-1"] = 100 })
	ra := quota.Request{Account: acctA, Region: "us-east-1", Operation: "Encrypt", KeySpec: "SYMMETRIC_DEFAULT"}
	rb := ra
	rb.Account = acctB
	if got, _ := burst(t, m, ra, 0, time.Millisecond, 120); got != 100 {
		t.Errorf("account A: allowed %d of 120; want 100", got)
	}
	// A's full bucket does not touch B's.
	if got, _ := burst(t, m, rb, 200*time.Millisecond, time.Millisecond, 120); got != 100 {
		t.Errorf("account B after A filled its bucket: allowed %d of 120; want 100", got)
	}
	// Same Region, other Region: separate too.
	rc := ra
	rc.Region = "us-west-2"
	if got, _ := burst(t, m, rc, 400*time.Millisecond, 0, 10); got != 10 {
		t.Errorf("account A in us-west-2: allowed %d of 10; want 10", got)
	}
	now := t0.Add(time.Second)
	for _, w := range []struct {
		bucket             string
		allowed, throttled int64
	}{
		{acctA + "/us-east-1/symmetric", 100, 20},
		{acctB + "/us-east-1/symmetric", 100, 20},
		{acctA + "/us-west-2/symmetric", 10, 0},
	} {
		st := mustStats(t, m, now, w.bucket)
		if st.Allowed != w.allowed || st.Throttled != w.throttled {
			t.Errorf("%s allowed/throttled = %d/%d; want %d/%d", w.bucket, st.Allowed, st.Throttled, w.allowed, w.throttled)
		}
	}
}

func TestCrossAccountChargesCaller(t *testing.T) {
	m := newModel(t, func(c *quota.Config) { c.SymmetricByRegion["us-east-1"] = 10 })
	const owner, caller = acctA, acctB
	// The caller uses the owner's key: the Request names the caller.
	cross := quota.Request{Account: caller, Region: "us-east-1", Operation: "Decrypt", KeySpec: "SYMMETRIC_DEFAULT"}
	if got, _ := burst(t, m, cross, 0, time.Millisecond, 15); got != 10 {
		t.Fatalf("cross-account: allowed %d of 15; want 10", got)
	}
	// The owner's own bucket is untouched: all 10 of its requests pass.
	own := cross
	own.Account = owner
	if got, _ := burst(t, m, own, 100*time.Millisecond, time.Millisecond, 10); got != 10 {
		t.Errorf("owner after cross-account burst: allowed %d of 10; want 10", got)
	}
	st := mustStats(t, m, t0.Add(time.Second), caller+"/us-east-1/symmetric")
	if st.Allowed != 10 || st.Throttled != 5 || st.Account != caller || st.DemandPerS != 15 {
		t.Errorf("caller's bucket = %+v; want allowed 10, throttled 5, demand 15", st)
	}
	st = mustStats(t, m, t0.Add(time.Second), owner+"/us-east-1/symmetric")
	if st.Allowed != 10 || st.Throttled != 0 {
		t.Errorf("owner's bucket = %+v; want allowed 10 (its own calls only), throttled 0", st)
	}
}

func TestCustomKeyStore(t *testing.T) {
	const store = "cks-1234567890abcdef0"
	storeBucket := "-/us-east-1/cks:" + store
	symBucket := acctA + "/us-east-1/symmetric"
	m := newModel(t, func(c *quota.Config) {
		c.SymmetricByRegion["us-east-1"] = 100
		c.CustomKeyStore = 30
	})
	gdk := quota.Request{Account: acctA, Region: "us-east-1", Operation: "GenerateDataKey", KeySpec: "SYMMETRIC_DEFAULT", CustomKeyStore: store}

	// One request counts in both buckets; GenerateDataKey weighs 3 in the store.
	if err := m.Allow(t0, gdk); err != nil {
		t.Fatalf("Allow = %v; want nil", err)
	}
	next := t0.Add(time.Second)
	if s := mustStats(t, m, next, symBucket); s.Allowed != 1 || s.DemandPerS != 1 {
		t.Errorf("symmetric bucket = %+v; want allowed 1, demand 1", s)
	}
	if s := mustStats(t, m, next, storeBucket); s.Allowed != 1 || s.DemandPerS != 3 || s.Account != "" || s.QuotaPerS != 30 {
		t.Errorf("store bucket = %+v; want allowed 1, demand 3, no account, quota 30", s)
	}

	// 30/3 = 10 GenerateDataKey per second; the 11th is refused by the store.
	got, last := burst(t, m, gdk, time.Millisecond, time.Millisecond, 59)
	if got != 9 {
		t.Errorf("GenerateDataKey in store: allowed %d of 59 more; want 9", got)
	}
	if last == nil || last.Bucket.Class != quota.StoreClass(store) || last.Bucket.Account != "" {
		t.Fatalf("last ThrottleError = %+v; want the store's bucket", last)
	}
	// All-or-nothing: the 50 refused requests took nothing from the symmetric
	// bucket, which has 90 left for Encrypt outside the store.
	enc := quota.Request{Account: acctA, Region: "us-east-1", Operation: "Encrypt", KeySpec: "SYMMETRIC_DEFAULT"}
	if got, last := burst(t, m, enc, 500*time.Millisecond, time.Millisecond, 91); got != 90 || last.Bucket.Class != quota.Symmetric {
		t.Errorf("Encrypt after store filled: allowed %d of 91, refused by %v; want 90, symmetric", got, last)
	}
	sym := mustStats(t, m, next, symBucket)
	if sym.Allowed != 100 || sym.Throttled != 1 || sym.DemandPerS != 60+91 {
		t.Errorf("symmetric bucket = %+v; want allowed 100, throttled 1, demand 151", sym)
	}
	st := mustStats(t, m, next, storeBucket)
	if st.Allowed != 10 || st.Throttled != 50 || st.DemandPerS != 180 {
		t.Errorf("store bucket = %+v; want allowed 10, throttled 50, demand 180", st)
	}
}

func TestCustomKeyStoreCallerFull(t *testing.T) {
	const store = "cks-1"
	m := newModel(t, func(c *quota.Config) {
		c.SymmetricByRegion["us-east-1"] = 5
		c.CustomKeyStore = 30
	})
	ra := quota.Request{Account: acctA, Region: "us-east-1", Operation: "Encrypt", CustomKeyStore: store}
	got, last := burst(t, m, ra, 0, time.Millisecond, 8)
	if got != 5 || last == nil || last.Bucket.Class != quota.Symmetric {
		t.Fatalf("account A: allowed %d, refused by %v; want 5, symmetric", got, last)
	}
	// The store was charged only for A's 5 allowed requests: 25 left for B,
	// whose own symmetric bucket is large enough.
	rb := ra
	rb.Account = acctB
	if got, _ := burst(t, m, rb, 10*time.Millisecond, 0, 3); got != 3 {
		t.Fatalf("account B: allowed %d of 3; want 3", got)
	}
	s := mustStats(t, m, t0.Add(time.Second), "-/us-east-1/cks:"+store)
	if s.Allowed != 8 || s.Throttled != 0 || s.DemandPerS != 11 {
		t.Errorf("store bucket = %+v; want allowed 8, throttled 0, demand 11", s)
	}
}

func TestHeavierThanCapacity(t *testing.T) {
	// Scale 0.001 leaves a store 1.8/s, less than GenerateDataKey's weight 3:
	// one request per empty window (or full token bucket) still passes.
	r := quota.Request{Account: acctA, Region: "us-east-1", Operation: "GenerateDataKey", CustomKeyStore: "cks-1"}
	tests := []struct {
		alg   quota.Algorithm
		steps []step
	}{
		{quota.FixedWindow, []step{
			{from: 0, every: 100 * time.Millisecond, n: 3, want: 1},
			{from: time.Second, n: 2, want: 1},
		}},
		{quota.TokenBucket, []step{
			{from: 0, n: 2, want: 1},
			{from: time.Second, n: 1, want: 0},             // 1.8 of 3 tokens back
			{from: 1500 * time.Millisecond, n: 1, want: 0}, // 2.7 tokens
			{from: 1700 * time.Millisecond, n: 2, want: 1}, // 3.06, capped at 3
		}},
	}
	for _, tt := range tests {
		m := newModel(t, func(c *quota.Config) { c.Scale = 0.001; c.Algorithm = tt.alg })
		for _, s := range tt.steps {
			if got, _ := burst(t, m, r, s.from, s.every, s.n); got != s.want {
				t.Errorf("%s: %d at %v: allowed %d; want %d", tt.alg, s.n, s.from, got, s.want)
			}
		}
	}
}

func TestAPIBuckets(t *testing.T) {
	tests := []struct {
		op   string
		want float64
	}{
		{"CreateKey", 5}, {"CreateAlias", 5}, {"CreateGrant", 50}, {"DescribeKey", 2000},
		{"ListKeys", 500}, {"ListAliases", 500}, {"PutKeyPolicy", 15}, {"ScheduleKeyDeletion", 15},
		{"EnableKey", 5}, {"DisableKey", 5}, {"CancelKeyDeletion", 5}, {"TagResource", 5},
		{"RetireGrant", 15}, {"RevokeGrant", 15}, {"ListGrants", 100}, {"ListResourceTags", 100},
		{"GetKeyPolicy", 30}, {"GetKeyRotationStatus", 30}, {"GetPublicKey", 2000},
		{"RotateKeyOnDemand", 5}, // not in the table: OtherAPIs
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			// The per-second quota, without the control plane's burst
			// (TestAPIBurst).
			m := newModel(t, func(c *quota.Config) { c.APIBurstSeconds = nil })
			r := quota.Request{Account: acctA, Region: "us-east-1", Operation: tt.op}
			n := int(tt.want) + 7
			got, last := burst(t, m, r, 0, time.Second/time.Duration(n), n)
			if got != int(tt.want) {
				t.Errorf("%d %s in one second: allowed %d; want %v", n, tt.op, got, tt.want)
			}
			wantKey := quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.APIClass(tt.op)}
			if last == nil || last.Bucket != wantKey || last.Limit != tt.want {
				t.Errorf("ThrottleError = %+v; want bucket %v limit %v", last, wantKey, tt.want)
			}
		})
	}
}

func TestCreateKeyIndependentOfSymmetric(t *testing.T) {
	m := newModel(t, func(c *quota.Config) {
		c.SymmetricByRegion["us-east-1"] = 10
		c.APIBurstSeconds = nil
	})
	enc := quota.Request{Account: acctA, Region: "us-east-1", Operation: "Encrypt"}
	ck := quota.Request{Account: acctA, Region: "us-east-1", Operation: "CreateKey"}
	if got, _ := burst(t, m, enc, 0, 0, 20); got != 10 {
		t.Fatalf("Encrypt: allowed %d of 20; want 10", got)
	}
	// Symmetric is full; CreateKey has its own 5/s.
	if got, _ := burst(t, m, ck, 0, 0, 6); got != 5 {
		t.Errorf("CreateKey with symmetric full: allowed %d of 6; want 5", got)
	}
	// And CreateKey being full leaves the symmetric bucket as it was.
	m.Reset()
	if got, _ := burst(t, m, ck, 0, 0, 6); got != 5 {
		t.Errorf("CreateKey after Reset: allowed %d of 6; want 5", got)
	}
	if got, _ := burst(t, m, enc, 0, 0, 10); got != 10 {
		t.Errorf("Encrypt with CreateKey full: allowed %d of 10; want 10", got)
	}
}

func TestKeyClassBuckets(t *testing.T) {
	tests := []struct {
		op, spec string
		want     quota.Class
		limit    float64
	}{
		{"Encrypt", "SYMMETRIC_DEFAULT", quota.Symmetric, 100000},
		{"GenerateMac", "HMAC_256", quota.Symmetric, 100000},
		{"GenerateRandom", "", quota.Symmetric, 100000},
		{"Sign", "RSA_2048", quota.RSA, 1000},
		{"Decrypt", "RSA_4096", quota.RSA, 1000},
		{"Sign", "ECC_NIST_P256", quota.ECC, 1000},
		{"Verify", "ECC_SECG_P256K1", quota.ECC, 1000},
		{"Sign", "SM2", quota.ECC, 1000},
		{"Sign", "ML_DSA_44", quota.MLDSA, 1000},
		{"DescribeKey", "RSA_2048", quota.APIClass("DescribeKey"), 2000},
		{"GetPublicKey", "ECC_NIST_P256", quota.APIClass("GetPublicKey"), 2000},
	}
	m := newModel(t, nil)
	for _, tt := range tests {
		r := quota.Request{Account: acctA, Region: "us-east-1", Operation: tt.op, KeySpec: tt.spec}
		cs := m.Buckets(r)
		want := quota.BucketKey{Account: acctA, Region: "us-east-1", Class: tt.want}
		if len(cs) != 1 || cs[0].Key != want || cs[0].Weight != 1 {
			t.Errorf("Buckets(%s %s) = %+v; want [{%v 1}]", tt.op, tt.spec, cs, want)
			continue
		}
		if got := m.Config().Limit(want); got != tt.limit {
			t.Errorf("Limit(%v) = %v; want %v", want, got, tt.limit)
		}
	}
	for spec, want := range map[string]quota.Class{
		"SYMMETRIC_DEFAULT": quota.Symmetric, "HMAC_224": quota.Symmetric, "HMAC_512": quota.Symmetric,
		"RSA_2048": quota.RSA, "RSA_3072": quota.RSA, "ECC_NIST_P384": quota.ECC, "ECC_NIST_EDWARDS25519": quota.ECC,
		"ECC_SECG_P256K1": quota.ECC, "SM2": quota.ECC, "ML_DSA_44": quota.MLDSA, "ML_DSA_87": quota.MLDSA, "": quota.Symmetric,
	} {
		if got := quota.KeyClass(spec); got != want {
			t.Errorf("KeyClass(%q) = %q; want %q", spec, got, want)
		}
	}
}

func TestBucketsStoreWeights(t *testing.T) {
	m := newModel(t, func(c *quota.Config) { c.StoreWeights["Decrypt"] = 1.5 })
	tests := []struct {
		op   string
		want float64
	}{
		{"GenerateDataKey", 3}, {"GenerateDataKeyWithoutPlaintext", 3}, {"GenerateRandom", 3},
		{"Encrypt", 1}, {"ReEncrypt", 1}, {"Decrypt", 1.5},
	}
	for _, tt := range tests {
		r := quota.Request{Account: acctA, Region: "eu-west-1", Operation: tt.op, CustomKeyStore: "cks-9"}
		cs := m.Buckets(r)
		if len(cs) != 2 {
			t.Fatalf("Buckets(%+v) = %+v; want 2 charges", r, cs)
		}
		wantSym := quota.Charge{Key: quota.BucketKey{Account: acctA, Region: "eu-west-1", Class: quota.Symmetric}, Weight: 1}
		wantStore := quota.Charge{Key: quota.BucketKey{Region: "eu-west-1", Class: "cks:cks-9"}, Weight: tt.want}
		if cs[0] != wantSym || cs[1] != wantStore {
			t.Errorf("Buckets(%s in store) = %+v; want [%+v %+v]", tt.op, cs, wantSym, wantStore)
		}
	}
	// A management call on a store's key is not charged to the store.
	cs := m.Buckets(quota.Request{Account: acctA, Region: "eu-west-1", Operation: "DescribeKey", CustomKeyStore: "cks-9"})
	if len(cs) != 1 || cs[0].Key.Class != quota.APIClass("DescribeKey") {
		t.Errorf("Buckets(DescribeKey in store) = %+v; want only the DescribeKey bucket", cs)
	}
	// Fractional weights are exact in the token bucket too.
	tb := newModel(t, func(c *quota.Config) {
		c.Algorithm = quota.TokenBucket
		c.CustomKeyStore = 6
		c.StoreWeights["Decrypt"] = 1.5
	})
	r := quota.Request{Account: acctA, Region: "eu-west-1", Operation: "Decrypt", CustomKeyStore: "cks-9"}
	if got, _ := burst(t, tb, r, 0, 0, 5); got != 4 {
		t.Errorf("token bucket, store 6/s, weight 1.5: allowed %d of 5; want 4", got)
	}
}

func TestDemandLastCompleteSecond(t *testing.T) {
	m := newModel(t, func(c *quota.Config) { c.SymmetricOtherRegions = 100 })
	r := quota.Request{Account: acctA, Region: "sa-east-1", Operation: "Decrypt"}
	burst(t, m, r, 0, time.Millisecond, 150)
	burst(t, m, r, time.Second, time.Millisecond, 7)
	name := acctA + "/sa-east-1/symmetric"
	for _, tt := range []struct {
		at   time.Duration
		want float64
	}{
		{500 * time.Millisecond, 0}, // second -1: nothing
		{time.Second, 150},
		{1999 * time.Millisecond, 150},
		{2 * time.Second, 7},
		{3 * time.Second, 0},
	} {
		if got := mustStats(t, m, t0.Add(tt.at), name).DemandPerS; got != tt.want {
			t.Errorf("Stats(t0+%v).DemandPerS = %v; want %v", tt.at, got, tt.want)
		}
	}
}

func TestStatsAndReset(t *testing.T) {
	m := newModel(t, func(c *quota.Config) { c.Scale = 0.001 })
	for _, r := range []quota.Request{
		{Account: acctB, Region: "us-east-1", Operation: "Sign", KeySpec: "RSA_2048"},
		{Account: acctA, Region: "us-east-1", Operation: "Encrypt"},
		{Account: acctA, Region: "us-east-1", Operation: "GenerateDataKey", CustomKeyStore: "cks-1"},
	} {
		if err := m.Allow(t0, r); err != nil {
			t.Fatalf("Allow(%+v) = %v", r, err)
		}
	}
	var names []string
	var quotas []float64
	for _, s := range m.Stats(t0) {
		names = append(names, s.Bucket)
		quotas = append(quotas, s.QuotaPerS)
	}
	want := []string{"-/us-east-1/cks:cks-1", acctA + "/us-east-1/symmetric", acctB + "/us-east-1/rsa"}
	wantQ := []float64{1.8, 100, 1}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("Stats buckets = %v; want %v", names, want)
	}
	for i := range min(len(quotas), len(wantQ)) {
		if math.Abs(quotas[i]-wantQ[i]) > 1e-9 {
			t.Errorf("Stats[%d].QuotaPerS = %v; want %v", i, quotas[i], wantQ[i])
		}
	}
	m.Reset()
	if got := m.Stats(t0); len(got) != 0 {
		t.Errorf("Stats after Reset = %+v; want none", got)
	}
}

func TestNilModelAllows(t *testing.T) {
	var m *quota.Model
	if err := m.Allow(t0, quota.Request{Operation: "CreateKey"}); err != nil {
		t.Errorf("nil Model Allow = %v; want nil", err)
	}
	if got := m.Stats(t0); got != nil {
		t.Errorf("nil Model Stats = %v; want nil", got)
	}
	m.Reset()
}

func TestThrottleErrorMessage(t *testing.T) {
	e := &quota.ThrottleError{
		Bucket:     quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.APIClass("CreateKey")},
		Limit:      5,
		RetryAfter: 250 * time.Millisecond,
		Operation:  "CreateKey",
	}
	want := "quota: CreateKey throttled by bucket 111111111111/us-east-1/api:CreateKey (limit 5/s, retry after 250ms)"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if k := (quota.BucketKey{Region: "r", Class: quota.StoreClass("s")}); k.String() != "-/r/cks:s" {
		t.Errorf("store BucketKey.String() = %q; want %q", k.String(), "-/r/cks:s")
	}
}

// TestConcurrentTotals drives the Model from many goroutines at once, one
// instant per phase so that the exact totals are known, while Stats is read.
func TestConcurrentTotals(t *testing.T) {
	for _, alg := range []quota.Algorithm{quota.FixedWindow, quota.TokenBucket} {
		t.Run(string(alg), func(t *testing.T) {
			const (
				workers = 8
				each    = 200 // per worker per account per phase
				limit   = 500
				phases  = 3
				store   = "cks-x"
			)
			m := newModel(t, func(c *quota.Config) {
				c.Algorithm = alg
				c.SymmetricByRegion["us-east-1"] = limit
				c.CustomKeyStore = 2 * limit
			})
			reqs := []quota.Request{
				{Account: acctA, Region: "us-east-1", Operation: "Encrypt", CustomKeyStore: store},
				{Account: acctB, Region: "us-east-1", Operation: "Decrypt", CustomKeyStore: store},
			}
			done := make(chan struct{})
			var readers sync.WaitGroup
			readers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
						m.Stats(t0)
					}
				}
			})
			var refused [2]int64
			var mu sync.Mutex
			for p := range phases {
				now := t0.Add(time.Duration(p) * time.Second)
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						var local [2]int64
						for i := range 2 * each {
							k := (i + w) % 2
							if err := m.Allow(now, reqs[k]); err != nil {
								if !errors.Is(err, quota.ErrThrottled) {
									t.Errorf("Allow = %v", err)
								}
								local[k]++
							}
						}
						mu.Lock()
						refused[0] += local[0]
						refused[1] += local[1]
						mu.Unlock()
					})
				}
				wg.Wait()
			}
			close(done)
			readers.Wait()

			sent := int64(phases * workers * each)
			wantAllowed := int64(phases * limit)
			for i, acct := range []string{acctA, acctB} {
				s := mustStats(t, m, t0, acct+"/us-east-1/symmetric")
				if s.Allowed != wantAllowed || s.Throttled != sent-wantAllowed || refused[i] != sent-wantAllowed {
					t.Errorf("%s: allowed %d, throttled %d, refused %d; want %d, %d, %d",
						acct, s.Allowed, s.Throttled, refused[i], wantAllowed, sent-wantAllowed, sent-wantAllowed)
				}
			}
			s := mustStats(t, m, t0, "-/us-east-1/cks:"+store)
			if s.Allowed != 2*wantAllowed || s.Throttled != 0 {
				t.Errorf("store: allowed %d, throttled %d; want %d, 0", s.Allowed, s.Throttled, 2*wantAllowed)
			}
		})
	}
}

// TestAPIBurst: a mutating control-plane API's bucket holds
// APIBurstSeconds of its quota, whatever the data plane's algorithm: a
// volley passes, then the quota rate; reads keep the fixed window; scale
// shrinks the burst with the quota.
func TestAPIBurst(t *testing.T) {
	for _, alg := range []quota.Algorithm{quota.FixedWindow, quota.TokenBucket} {
		m := newModel(t, func(c *quota.Config) { c.Algorithm = alg })
		ck := quota.Request{Account: acctA, Region: "us-east-1", Operation: "CreateKey"}
		if got, last := burst(t, m, ck, 0, time.Millisecond, 60); got != 50 || last == nil || last.Limit != 5 {
			t.Errorf("%s: 60 CreateKey at once: allowed %d, last refusal %+v; want 50 (10 s of 5/s), then throttled", alg, got, last)
		}
		// Refilled at the quota: 5 more a second later, not a new burst.
		if got, _ := burst(t, m, ck, time.Second+100*time.Millisecond, time.Millisecond, 10); got != 5 {
			t.Errorf("%s: a second after the volley: allowed %d of 10; want 5", alg, got)
		}
	}
	m := newModel(t, nil) // fixed window
	dk := quota.Request{Account: acctA, Region: "us-east-1", Operation: "DescribeKey"}
	if got, _ := burst(t, m, dk, 0, 0, 2100); got != 2000 {
		t.Errorf("DescribeKey: allowed %d of 2100 in one second; want 2000 (no burst for reads)", got)
	}
	scaled := newModel(t, func(c *quota.Config) { c.Scale = 0.5 })
	ck := quota.Request{Account: acctB, Region: "us-east-1", Operation: "CreateKey"}
	if got, _ := burst(t, scaled, ck, 0, 0, 40); got != 25 {
		t.Errorf("scale 0.5: CreateKey volley allowed %d; want 25 (10 s of 2.5/s)", got)
	}
	if _, err := quota.Parse("q.yaml", []byte("api_burst_seconds: {Encrypt: 2}\n")); err == nil || !strings.Contains(err.Error(), "q.yaml:1:21") {
		t.Errorf("api_burst_seconds of a cryptographic operation: err = %v; want q.yaml:1:21", err)
	}
}
