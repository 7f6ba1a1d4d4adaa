package emulator_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// TestGenerateDataKeyPair: each generated spec gives a private key that
// decrypts from its ciphertext (under the encryption context), matches the
// public key, and is absent from the WithoutPlaintext answer; the errors
// are the API reference's.
func TestGenerateDataKeyPair(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	key := createKey(t, c, &kms.CreateKeyInput{})
	ec := map[string]string{"app": "pairs"}
	for _, spec := range []types.DataKeyPairSpec{types.DataKeyPairSpecRsa2048, types.DataKeyPairSpecEccNistP256, types.DataKeyPairSpecEccNistP384} {
		out, err := c.GenerateDataKeyPair(ctx(), &kms.GenerateDataKeyPairInput{KeyId: key.KeyId, KeyPairSpec: spec, EncryptionContext: ec})
		if err != nil {
			t.Fatalf("GenerateDataKeyPair %s: %v", spec, err)
		}
		if out.KeyPairSpec != spec || aws.ToString(out.KeyId) != aws.ToString(key.Arn) {
			t.Errorf("%s: KeyPairSpec %s, KeyId %s; want %s, %s", spec, out.KeyPairSpec, aws.ToString(out.KeyId), spec, aws.ToString(key.Arn))
		}
		priv, err := x509.ParsePKCS8PrivateKey(out.PrivateKeyPlaintext)
		if err != nil {
			t.Fatalf("%s: PrivateKeyPlaintext is not PKCS#8: %v", spec, err)
		}
		pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
		if err != nil {
			t.Fatalf("%s: PublicKey is not a SubjectPublicKeyInfo: %v", spec, err)
		}
		if !samePublic(priv, pub) {
			t.Errorf("%s: the public key is not the private key's", spec)
		}
		dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: ec})
		if err != nil || string(dec.Plaintext) != string(out.PrivateKeyPlaintext) {
			t.Errorf("%s: Decrypt of PrivateKeyCiphertextBlob = %v; want the private key", spec, err)
		}
		_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob})
		wantCode(t, string(spec)+": Decrypt without the context", err, "InvalidCiphertextException")
	}
	wo, err := c.GenerateDataKeyPairWithoutPlaintext(ctx(), &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: key.KeyId, KeyPairSpec: types.DataKeyPairSpecEccNistP521})
	if err != nil || len(wo.PublicKey) == 0 || len(wo.PrivateKeyCiphertextBlob) == 0 {
		t.Fatalf("GenerateDataKeyPairWithoutPlaintext = %+v, %v; want a public key and a ciphertext", wo, err)
	}
	if r := raw(t, ts, acctA, "us-east-1", "GenerateDataKeyPairWithoutPlaintext", `{"KeyId":"`+aws.ToString(key.KeyId)+`","KeyPairSpec":"RSA_2048"}`); r.status != 200 || strings.Contains(r.body, "PrivateKeyPlaintext") {
		t.Errorf("WithoutPlaintext answer = %d %s; want 200 without PrivateKeyPlaintext", r.status, r.body)
	}

	rsaKey := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	disabled := createKey(t, c, &kms.CreateKeyInput{})
	if _, err := c.DisableKey(ctx(), &kms.DisableKeyInput{KeyId: disabled.KeyId}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, body, want string
	}{
		{"no key pair spec", `{"KeyId":"` + aws.ToString(key.KeyId) + `"}`, "ValidationException"},
		{"unknown key pair spec", `{"KeyId":"` + aws.ToString(key.KeyId) + `","KeyPairSpec":"RSA_1024"}`, "ValidationException"},
		{"asymmetric key", `{"KeyId":"` + aws.ToString(rsaKey.KeyId) + `","KeyPairSpec":"RSA_2048"}`, "InvalidKeyUsageException"},
		{"disabled key", `{"KeyId":"` + aws.ToString(disabled.KeyId) + `","KeyPairSpec":"RSA_2048"}`, "DisabledException"},
		{"unknown key", `{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","KeyPairSpec":"RSA_2048"}`, "NotFoundException"},
		{"dry run", `{"KeyId":"` + aws.ToString(key.KeyId) + `","KeyPairSpec":"ECC_NIST_P256","DryRun":true}`, "DryRunOperationException"},
	} {
		r := raw(t, ts, acctA, "us-east-1", "GenerateDataKeyPair", tt.body)
		if r.status != 400 || !strings.Contains(r.body, `"__type":"`+tt.want+`"`) {
			t.Errorf("%s: %d %s; want 400 %s", tt.name, r.status, r.body, tt.want)
		}
	}
}

// TestDataKeyPairThrottling: data key pairs are throttled by the quota of
// their pair spec (scaled to 3/s here), in a bucket the emulator names.
func TestDataKeyPairThrottling(t *testing.T) {
	cfg := quota.DefaultConfig()
	cfg.DataKeyPairs["ECC_NIST_P256"] = 3
	m, err := quota.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, ts := start(t, emulator.Options{Quota: m})
	c := client(ts, acctA, "us-east-1")
	key := createKey(t, c, &kms.CreateKeyInput{})
	body := `{"KeyId":"` + aws.ToString(key.KeyId) + `","KeyPairSpec":"ECC_NIST_P256"}`
	ok, last := 0, rawResponse{}
	for range 5 {
		r := raw(t, ts, acctA, "us-east-1", "GenerateDataKeyPairWithoutPlaintext", body)
		if r.status == 200 {
			ok++
		} else {
			last = r
		}
	}
	if ok != 3 || last.header.Get(quota.HeaderThrottledBy) != acctA+"/us-east-1/pair:ECC_NIST_P256" || !strings.Contains(last.body, "ThrottlingException") {
		t.Errorf("5 pairs in one second: %d allowed, last refusal %d %s (%s); want 3, ThrottlingException by the pair bucket",
			ok, last.status, last.body, last.header.Get(quota.HeaderThrottledBy))
	}
	st := stats(t, ts.URL)
	if b := st[acctA+"/us-east-1/ecc"]; b.Allowed != 3 || b.Throttled != 0 {
		t.Errorf("ecc bucket = %+v; want the 3 allowed pairs and no throttle", b)
	}
}

func samePublic(priv any, pub any) bool {
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		q, ok := pub.(*rsa.PublicKey)
		return ok && p.PublicKey.Equal(q)
	case *ecdsa.PrivateKey:
		q, ok := pub.(*ecdsa.PublicKey)
		return ok && p.PublicKey.Equal(q)
	}
	return false
}
