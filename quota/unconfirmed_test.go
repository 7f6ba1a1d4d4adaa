package quota_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/quota"
)

// TestDataKeyPairBuckets: a data key pair is charged to the asymmetric
// bucket of its pair spec, then to the bucket of that spec, whatever the
// symmetric key that encrypts it.
func TestDataKeyPairBuckets(t *testing.T) {
	tests := []struct {
		op, spec    string
		first, pair quota.Class
	}{
		{"GenerateDataKeyPair", "RSA_2048", quota.RSA, quota.PairClass("RSA_2048")},
		{"GenerateDataKeyPairWithoutPlaintext", "ECC_NIST_P256", quota.ECC, quota.PairClass("ECC_NIST_P256")},
		{"GenerateDataKeyPair", "SM2", quota.ECC, quota.PairClass("SM2")},
	}
	for _, tt := range tests {
		r := quota.Request{Account: acctA, Region: "us-east-1", Operation: tt.op, KeySpec: "SYMMETRIC_DEFAULT", KeyPairSpec: tt.spec}
		first, second, has := quota.BucketsOf(r)
		if first.Class != tt.first || !has || second.Class != tt.pair || second.Account != acctA {
			t.Errorf("BucketsOf(%s %s) = %v, %v, %v; want %s then %s of the caller", tt.op, tt.spec, first, second, has, tt.first, tt.pair)
		}
		if spec, ok := second.Class.Pair(); !ok || spec != tt.spec {
			t.Errorf("%s.Pair() = %q, %v; want %q", second.Class, spec, ok, tt.spec)
		}
	}
}

// TestDataKeyPairQuota: the per-spec quota throttles a data key pair long
// before the RSA bucket, and refused pairs take nothing from the RSA bucket
// Sign shares.
func TestDataKeyPairQuota(t *testing.T) {
	m := newModel(t, func(c *quota.Config) { c.DataKeyPairs["RSA_2048"] = 3 })
	pair := quota.Request{Account: acctA, Region: "us-east-1", Operation: "GenerateDataKeyPair", KeySpec: "SYMMETRIC_DEFAULT", KeyPairSpec: "RSA_2048"}
	got, last := burst(t, m, pair, time.Millisecond, time.Millisecond, 10)
	if got != 3 || last == nil || last.Bucket.Class != quota.PairClass("RSA_2048") {
		t.Fatalf("GenerateDataKeyPair RSA_2048: allowed %d of 10, refused by %+v; want 3, the pair bucket", got, last)
	}
	next := t0.Add(time.Second)
	rsa := mustStats(t, m, next, acctA+"/us-east-1/rsa")
	if rsa.Allowed != 3 || rsa.Throttled != 0 || rsa.DemandPerS != 10 || rsa.QuotaPerS != 1000 {
		t.Errorf("rsa bucket = %+v; want allowed 3, throttled 0, demand 10, quota 1000", rsa)
	}
	pb := mustStats(t, m, next, acctA+"/us-east-1/pair:RSA_2048")
	if pb.Allowed != 3 || pb.Throttled != 7 || pb.QuotaPerS != 3 {
		t.Errorf("pair bucket = %+v; want allowed 3, throttled 7, quota 3", pb)
	}
	// Another spec has a bucket of its own.
	ecc := pair
	ecc.KeyPairSpec = "ECC_NIST_P256"
	if err := m.Allow(t0.Add(100*time.Millisecond), ecc); err != nil {
		t.Errorf("ECC pair after the RSA pairs throttled = %v; want nil", err)
	}
}

func TestDataKeyPairConfig(t *testing.T) {
	c, err := quota.Parse("q.yaml", []byte("data_key_pairs:\n  RSA_4096: 0.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RawLimit(quota.BucketKey{Account: acctA, Region: "eu-west-3", Class: quota.PairClass("RSA_4096")}); got != 0.5 {
		t.Errorf("RSA_4096 pair limit = %v; want 0.5", got)
	}
	if got := c.RawLimit(quota.BucketKey{Account: acctA, Region: "eu-west-3", Class: quota.PairClass("ECC_NIST_P256")}); got != 25 {
		t.Errorf("ECC_NIST_P256 pair limit = %v; want the default 25", got)
	}
	_, err = quota.Parse("q.yaml", []byte("data_key_pairs:\n  RSA_1024: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "q.yaml:2:3") || !strings.Contains(err.Error(), "not a key pair spec") {
		t.Errorf("unknown pair spec: err = %v; want q.yaml:2:3 ... not a key pair spec", err)
	}
}

// TestReEncryptSource: a ReEncrypt from an RSA key into a key in a custom
// key store is charged to the
// destination's symmetric and store buckets and to the source's RSA
// bucket, all or nothing; the same key on both sides is charged once.
func TestReEncryptSource(t *testing.T) {
	const store = "cks-1234567890abcdef0"
	m := newModel(t, func(c *quota.Config) { c.Asymmetric[quota.RSA] = 2 })
	r := quota.Request{Account: acctA, Region: "us-east-1", Operation: "ReEncrypt", KeySpec: "SYMMETRIC_DEFAULT",
		CustomKeyStore: store, Source: &quota.SourceKey{KeySpec: "RSA_2048"}}
	got := m.Buckets(r)
	if len(got) != 3 || got[0].Key.Class != quota.Symmetric || got[1].Key.Class != quota.StoreClass(store) || got[2].Key.Class != quota.RSA {
		t.Fatalf("Buckets = %v; want symmetric, the store, rsa", got)
	}
	n, last := burst(t, m, r, 0, time.Millisecond, 4)
	if n != 2 || last == nil || last.Bucket.Class != quota.RSA {
		t.Errorf("4 ReEncrypts from RSA: allowed %d, refused by %+v; want 2, the RSA bucket", n, last)
	}
	sym := mustStats(t, m, t0.Add(time.Second), acctA+"/us-east-1/symmetric")
	if sym.Allowed != 2 {
		t.Errorf("symmetric bucket allowed %d; want 2 (refused requests take nothing)", sym.Allowed)
	}
	same := quota.Request{Account: acctA, Region: "us-east-1", Operation: "ReEncrypt", KeySpec: "SYMMETRIC_DEFAULT",
		Source: &quota.SourceKey{KeySpec: "SYMMETRIC_DEFAULT"}}
	if got := m.Buckets(same); len(got) != 1 {
		t.Errorf("ReEncrypt on one key: Buckets = %v; want the symmetric bucket once", got)
	}
	off := newModel(t, func(c *quota.Config) { c.ReEncryptChargesSource = false })
	if got := off.Buckets(r); len(got) != 2 {
		t.Errorf("ReEncryptChargesSource off: Buckets = %v; want the destination's two", got)
	}
}

// TestLockOrderConcurrent: requests charging the same buckets in opposite
// orders (a ReEncrypt from RSA into symmetric, and one from symmetric
// into RSA) run concurrently without deadlock.
func TestLockOrderConcurrent(t *testing.T) {
	m := newModel(t, nil)
	a := quota.Request{Account: acctA, Region: "us-east-1", Operation: "ReEncrypt", KeySpec: "SYMMETRIC_DEFAULT", Source: &quota.SourceKey{KeySpec: "RSA_2048"}}
	b := quota.Request{Account: acctA, Region: "us-east-1", Operation: "ReEncrypt", KeySpec: "RSA_2048", Source: &quota.SourceKey{KeySpec: "SYMMETRIC_DEFAULT"}}
	done := make(chan struct{})
	for _, r := range []quota.Request{a, b, a, b} {
		go func() {
			for i := range 2000 {
				_ = m.Allow(t0.Add(time.Duration(i)*time.Millisecond), r)
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Allow deadlocked on buckets locked in opposite orders")
		}
	}
}

// TestExternalStoreWeight: the 3x GenerateDataKey weight is CloudHSM
// key stores'; an external key store weighs it 1 unless
// external_store_weights says otherwise.
func TestExternalStoreWeight(t *testing.T) {
	const store = "cks-1234567890abcdef0"
	r := quota.Request{Account: acctA, Region: "us-east-1", Operation: "GenerateDataKey", KeySpec: "SYMMETRIC_DEFAULT", CustomKeyStore: store}
	for _, tt := range []struct {
		storeType string
		edit      func(*quota.Config)
		want      float64
	}{
		{"", nil, 3},
		{quota.StoreCloudHSM, nil, 3},
		{quota.StoreExternal, nil, 1},
		{quota.StoreExternal, func(c *quota.Config) { c.ExternalStoreWeights["GenerateDataKey"] = 2 }, 2},
	} {
		m := newModel(t, tt.edit)
		r.CustomKeyStoreType = tt.storeType
		if got := m.Buckets(r); len(got) != 2 || got[1].Weight != tt.want {
			t.Errorf("store type %q: Buckets = %v; want the store's bucket with weight %v", tt.storeType, got, tt.want)
		}
	}
}
