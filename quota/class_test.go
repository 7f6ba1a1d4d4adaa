package quota_test

import (
	"testing"

	"github.com/kmsload/kmsload/quota"
)

// TestParseBucketKey reads every kind of bucket name back into the key
// that made it, and refuses names that are not bucket names.
func TestParseBucketKey(t *testing.T) {
	keys := []quota.BucketKey{
		{Account: "111111111111", Region: "us-east-1", Class: quota.Symmetric},
		{Account: "111111111111", Region: "eu-west-1", Class: quota.APIClass("CreateKey")},
		{Region: "us-east-1", Class: quota.StoreClass("cks-1234567890")},
	}
	for _, k := range keys {
		got, ok := quota.ParseBucketKey(k.String())
		if !ok || got != k {
			t.Errorf("ParseBucketKey(%q) = %+v, %v; want %+v, true", k.String(), got, ok, k)
		}
	}
	for _, bad := range []string{"", "a", "a/b", "a/b/", "111111111111/us-east-1"} {
		if got, ok := quota.ParseBucketKey(bad); ok {
			t.Errorf("ParseBucketKey(%q) = %+v, true; want false", bad, got)
		}
	}
	cfg := quota.DefaultConfig()
	if got, want := cfg.LimitOf(keys[0].String()), cfg.Limit(keys[0]); got != want || got <= 0 {
		t.Errorf("LimitOf(%q) = %g; want %g > 0", keys[0].String(), got, want)
	}
	if got, want := cfg.LimitOf(keys[2].String()), cfg.Limit(keys[2]); got != want || got <= 0 {
		t.Errorf("LimitOf(%q) = %g; want %g > 0", keys[2].String(), got, want)
	}
	if got := cfg.LimitOf("not a bucket"); got != 0 {
		t.Errorf("LimitOf(not a bucket) = %g; want 0", got)
	}
}

// TestBucketsOfIsTheModels checks that BucketsOf names the buckets a Model
// charges, in its order, for every kind of request.
func TestBucketsOfIsTheModels(t *testing.T) {
	m, err := quota.New(quota.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []quota.Request{
		{Account: "111111111111", Region: "us-east-1", Operation: "Encrypt", KeySpec: "SYMMETRIC_DEFAULT"},
		{Account: "111111111111", Region: "us-east-1", Operation: "Sign", KeySpec: "RSA_2048"},
		{Account: "111111111111", Region: "eu-west-1", Operation: "GenerateRandom"},
		{Account: "111111111111", Region: "eu-west-1", Operation: "DescribeKey", CustomKeyStore: "cks-1"},
		{Account: "222222222222", Region: "us-east-1", Operation: "Decrypt", CustomKeyStore: "cks-1"},
		{Account: "222222222222", Region: "us-east-1", Operation: "GenerateDataKey", CustomKeyStore: "cks-2"},
	} {
		var got []quota.BucketKey
		first, store, ok := quota.BucketsOf(r)
		got = append(got, first)
		if ok {
			got = append(got, store)
		}
		cs := m.Buckets(r)
		if len(cs) != len(got) {
			t.Errorf("%+v: BucketsOf = %v; the model charges %+v", r, got, cs)
			continue
		}
		for i, c := range cs {
			if c.Key != got[i] {
				t.Errorf("%+v: BucketsOf[%d] = %v; the model charges %v", r, i, got[i], c.Key)
			}
		}
	}
}
