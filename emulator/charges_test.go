package emulator_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// TestReEncryptChargesSource: a ReEncrypt is charged to its source key's
// buckets as well as its destination's (a source key in a custom key
// store, an asymmetric source key), each bucket once; the setting turns
// it off.
func TestReEncryptChargesSource(t *testing.T) {
	const store = "cks-1234567890abcdef0"
	for _, chargeSource := range []bool{true, false} {
		srv, ts := start(t, emulator.Options{})
		c := client(ts, acctA, "us-east-1")
		dst := createKey(t, c, &kms.CreateKeyInput{})
		inStore := createKey(t, c, &kms.CreateKeyInput{CustomKeyStoreId: aws.String(store), Origin: types.OriginTypeAwsCloudhsm})
		rsaKey := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
		fromStore, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: inStore.KeyId, Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		fromRSA, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: rsaKey.KeyId, Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
		if err != nil {
			t.Fatal(err)
		}
		fromDst, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: dst.KeyId, Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		cfg := quota.DefaultConfig()
		cfg.ReEncryptChargesSource = chargeSource
		m, err := quota.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv.SetQuota(m)
		for _, in := range []*kms.ReEncryptInput{
			{CiphertextBlob: fromStore.CiphertextBlob, DestinationKeyId: dst.KeyId},
			{CiphertextBlob: fromRSA.CiphertextBlob, SourceKeyId: rsaKey.KeyId, SourceEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256, DestinationKeyId: dst.KeyId},
			{CiphertextBlob: fromDst.CiphertextBlob, DestinationKeyId: dst.KeyId}, // the same key: one charge
		} {
			if _, err := c.ReEncrypt(ctx(), in); err != nil {
				t.Fatalf("ReEncrypt: %v", err)
			}
		}
		st := stats(t, ts.URL)
		want := map[string]int64{acctA + "/us-east-1/symmetric": 3, "-/us-east-1/cks:" + store: 1, acctA + "/us-east-1/rsa": 1}
		if !chargeSource {
			want = map[string]int64{acctA + "/us-east-1/symmetric": 3, "-/us-east-1/cks:" + store: 0, acctA + "/us-east-1/rsa": 0}
		}
		for name, n := range want {
			if got := st[name].Allowed; got != n {
				t.Errorf("charge source %v: bucket %s allowed %d ReEncrypts; want %d", chargeSource, name, got, n)
			}
		}
	}
}

// TestExternalKeyStoreWeight: GenerateDataKey weighs 3 in a CloudHSM key
// store's bucket and 1 in an external key store's.
func TestExternalKeyStoreWeight(t *testing.T) {
	clock := &fixedClock{now: t0}
	srv, ts := start(t, emulator.Options{Clock: clock.Now})
	c := client(ts, acctA, "us-east-1")
	hsm := createKey(t, c, &kms.CreateKeyInput{CustomKeyStoreId: aws.String("cks-1111111111111111a"), Origin: types.OriginTypeAwsCloudhsm})
	xks := createKey(t, c, &kms.CreateKeyInput{CustomKeyStoreId: aws.String("cks-2222222222222222b"), Origin: types.OriginTypeExternalKeyStore, XksKeyId: aws.String("bb8562717f809024")})
	srv.SetQuota(scaledModel(t, 1))
	for _, k := range []*types.KeyMetadata{hsm, xks} {
		if _, err := c.GenerateDataKey(ctx(), &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256}); err != nil {
			t.Fatalf("GenerateDataKey in %s: %v", aws.ToString(k.CustomKeyStoreId), err)
		}
	}
	clock.Set(t0.Add(time.Second))
	st := stats(t, ts.URL)
	for store, want := range map[string]float64{"cks-1111111111111111a": 3, "cks-2222222222222222b": 1} {
		if b := st["-/us-east-1/cks:"+store]; b.Allowed != 1 || b.DemandPerS != want {
			t.Errorf("store %s bucket = %+v; want 1 allowed, demand %v", store, b, want)
		}
	}
}
