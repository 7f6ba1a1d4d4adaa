package emulator_test

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

// wrap wraps material with the public key and algorithm of params, through
// testdata/wrap.py (Python's cryptography package, an implementation
// independent of the emulator's). It skips the test when that is missing.
func wrap(t *testing.T, params *kms.GetParametersForImportOutput, alg types.AlgorithmSpec, material []byte) []byte {
	t.Helper()
	if err := exec.Command("python3", "-c", "import cryptography.hazmat.primitives.keywrap").Run(); err != nil {
		t.Skip("python3 with the cryptography package is needed to wrap key material (apt-get install python3-cryptography)")
	}
	in, _ := json.Marshal(map[string]string{
		"public_key": base64.StdEncoding.EncodeToString(params.PublicKey),
		"algorithm":  string(alg),
		"material":   base64.StdEncoding.EncodeToString(material),
	})
	cmd := exec.Command("python3", "testdata/wrap.py")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wrap.py %s: %v", alg, err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importKey gets import parameters for key id with alg and spec, wraps
// material and imports it, valid to validTo (nil: does not expire).
func importKey(t *testing.T, c *kms.Client, id *string, alg types.AlgorithmSpec, spec types.WrappingKeySpec, material []byte, validTo *time.Time) error {
	t.Helper()
	p, err := c.GetParametersForImport(ctx(), &kms.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	if err != nil {
		t.Fatalf("GetParametersForImport %s %s: %v", alg, spec, err)
	}
	in := &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrap(t, p, alg, material)}
	if validTo != nil {
		in.ValidTo = validTo
	} else {
		in.ExpirationModel = types.ExpirationModelTypeKeyMaterialDoesNotExpire
	}
	_, err = c.ImportKeyMaterial(ctx(), in)
	return err
}

func state(t *testing.T, c *kms.Client, id *string) types.KeyState {
	t.Helper()
	out, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	return out.KeyMetadata.KeyState
}

// TestImportSymmetric: a symmetric key of origin EXTERNAL waits in
// PendingImport, takes material wrapped with each wrapping algorithm,
// encrypts and decrypts, expires at ValidTo on the injected clock, takes
// the same material back (old ciphertexts decrypt again), refuses other
// material, and loses it again to DeleteImportedKeyMaterial.
func TestImportSymmetric(t *testing.T) {
	clock := &fixedClock{now: t0}
	_, ts := start(t, emulator.Options{Clock: clock.Now})
	c := client(ts, acctA, "us-east-1")
	material := make([]byte, 32)
	rand.Read(material)
	for _, alg := range []types.AlgorithmSpec{types.AlgorithmSpecRsaesOaepSha1, types.AlgorithmSpecRsaesOaepSha256, types.AlgorithmSpecRsaAesKeyWrapSha1, types.AlgorithmSpecRsaAesKeyWrapSha256} {
		k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
		if k.KeyState != types.KeyStatePendingImport || k.Origin != types.OriginTypeExternal {
			t.Fatalf("CreateKey EXTERNAL: state %s origin %s; want PendingImport, EXTERNAL", k.KeyState, k.Origin)
		}
		_, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
		wantCode(t, "Encrypt before the import", err, "KMSInvalidStateException")
		validTo := t0.Add(time.Hour)
		if err := importKey(t, c, k.KeyId, alg, types.WrappingKeySpecRsa2048, material, &validTo); err != nil {
			t.Fatalf("ImportKeyMaterial %s: %v", alg, err)
		}
		if got := state(t, c, k.KeyId); got != types.KeyStateEnabled {
			t.Errorf("%s: state after import %s; want Enabled", alg, got)
		}
	}
	k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	validTo := t0.Add(time.Hour)
	if err := importKey(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa3072, material, &validTo); err != nil {
		t.Fatal(err)
	}
	md, _ := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: k.KeyId})
	if md.KeyMetadata.ExpirationModel != types.ExpirationModelTypeKeyMaterialExpires || !aws.ToTime(md.KeyMetadata.ValidTo).Equal(validTo) {
		t.Errorf("DescribeKey: ExpirationModel %s ValidTo %v; want KEY_MATERIAL_EXPIRES, %v", md.KeyMetadata.ExpirationModel, md.KeyMetadata.ValidTo, validTo)
	}
	enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(validTo.Add(time.Second))
	if got := state(t, c, k.KeyId); got != types.KeyStatePendingImport {
		t.Errorf("state after ValidTo: %s; want PendingImport", got)
	}
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantCode(t, "Decrypt after the material expired", err, "KMSInvalidStateException")
	if err := importKey(t, c, k.KeyId, types.AlgorithmSpecRsaAesKeyWrapSha256, types.WrappingKeySpecRsa4096, material, nil); err != nil {
		t.Fatalf("reimport: %v", err)
	}
	dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "secret" {
		t.Errorf("Decrypt after the reimport = %v; want the old ciphertext's plaintext", err)
	}
	other := make([]byte, 32)
	rand.Read(other)
	err = importKey(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048, other, nil)
	wantCode(t, "import of other material", err, "IncorrectKeyMaterialException")
	if _, err := c.DeleteImportedKeyMaterial(ctx(), &kms.DeleteImportedKeyMaterialInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if got := state(t, c, k.KeyId); got != types.KeyStatePendingImport {
		t.Errorf("state after DeleteImportedKeyMaterial: %s; want PendingImport", got)
	}
}

// TestImportAsymmetricAndHMAC: an RSA signing key's private key (too long
// for RSA-OAEP, so RSA_AES_KEY_WRAP) signs what the local public key
// verifies; an HMAC key's secret makes the MAC computed locally.
func TestImportAsymmetricAndHMAC(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	priv, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
	if err := importKey(t, c, k.KeyId, types.AlgorithmSpecRsaAesKeyWrapSha256, types.WrappingKeySpecRsa2048, der, nil); err != nil {
		t.Fatalf("import RSA key: %v", err)
	}
	msg := []byte("signed by imported material")
	sig, err := c.Sign(ctx(), &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig.Signature); err != nil {
		t.Errorf("the imported key's signature does not verify locally: %v", err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	h := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	if err := importKey(t, c, h.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048, secret, nil); err != nil {
		t.Fatalf("import HMAC key: %v", err)
	}
	mac, err := c.GenerateMac(ctx(), &kms.GenerateMacInput{KeyId: h.KeyId, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil {
		t.Fatal(err)
	}
	want := hmac.New(sha256.New, secret)
	want.Write(msg)
	if !hmac.Equal(mac.Mac, want.Sum(nil)) {
		t.Error("the imported HMAC key's MAC differs from the local one")
	}
	short := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	err = importKey(t, c, short.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048, secret[:16], nil)
	wantCode(t, "16-byte HMAC_256 secret", err, "IncorrectKeyMaterialException")
}

// TestImportErrors: the errors of the API reference for the import
// operations.
func TestImportErrors(t *testing.T) {
	clock := &fixedClock{now: t0}
	_, ts := start(t, emulator.Options{Clock: clock.Now})
	c := client(ts, acctA, "us-east-1")
	kmsKey := createKey(t, c, nil)
	_, err := c.GetParametersForImport(ctx(), &kms.GetParametersForImportInput{KeyId: kmsKey.KeyId, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	wantCode(t, "GetParametersForImport on an AWS_KMS key", err, "UnsupportedOperationException")
	_, err = c.DeleteImportedKeyMaterial(ctx(), &kms.DeleteImportedKeyMaterialInput{KeyId: kmsKey.KeyId})
	wantCode(t, "DeleteImportedKeyMaterial on an AWS_KMS key", err, "UnsupportedOperationException")
	ext := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	_, err = c.GetParametersForImport(ctx(), &kms.GetParametersForImportInput{KeyId: ext.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_512", WrappingKeySpec: types.WrappingKeySpecRsa2048})
	wantCode(t, "unknown wrapping algorithm", err, "ValidationException")
	p, err := c.GetParametersForImport(ctx(), &kms.GetParametersForImportInput{KeyId: ext.KeyId, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToTime(p.ParametersValidTo).Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("ParametersValidTo %v; want 24 h after now", p.ParametersValidTo)
	}
	material := make([]byte, 32)
	wrapped := wrap(t, p, types.AlgorithmSpecRsaesOaepSha256, material)
	imp := func(token, blob []byte, edit func(*kms.ImportKeyMaterialInput)) error {
		in := &kms.ImportKeyMaterialInput{KeyId: ext.KeyId, ImportToken: token, EncryptedKeyMaterial: blob, ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}
		if edit != nil {
			edit(in)
		}
		_, err := c.ImportKeyMaterial(ctx(), in)
		return err
	}
	wantCode(t, "a token of nothing", imp([]byte("not a token"), wrapped, nil), "InvalidImportTokenException")
	wantCode(t, "garbled material", imp(p.ImportToken, bytes.Repeat([]byte{1}, 256), nil), "InvalidCiphertextException")
	wantCode(t, "KEY_MATERIAL_EXPIRES without ValidTo", imp(p.ImportToken, wrapped, func(in *kms.ImportKeyMaterialInput) {
		in.ExpirationModel = types.ExpirationModelTypeKeyMaterialExpires
	}), "ValidationException")
	past := t0.Add(-time.Hour)
	wantCode(t, "ValidTo in the past", imp(p.ImportToken, wrapped, func(in *kms.ImportKeyMaterialInput) {
		in.ExpirationModel, in.ValidTo = types.ExpirationModelTypeKeyMaterialExpires, &past
	}), "ValidationException")
	other := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	_, err = c.ImportKeyMaterial(ctx(), &kms.ImportKeyMaterialInput{KeyId: other.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped,
		ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	wantCode(t, "another key's token", err, "InvalidImportTokenException")
	clock.Set(t0.Add(25 * time.Hour))
	wantCode(t, "a token after 24 h", imp(p.ImportToken, wrapped, nil), "ExpiredImportTokenException")
}

// TestImportSurvivesState: the saved state keeps imported material, its
// expiry and what a reimport must match.
func TestImportSurvivesState(t *testing.T) {
	srv, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	material := make([]byte, 32)
	rand.Read(material)
	k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	validTo := t0.Add(48 * time.Hour)
	if err := importKey(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048, material, &validTo); err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("kept")})
	if err != nil {
		t.Fatal(err)
	}
	ts2 := reloaded(t, srv)
	c2 := client(ts2, acctA, "us-east-1")
	md, err := c2.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: k.KeyId})
	if err != nil || md.KeyMetadata.Origin != types.OriginTypeExternal || !aws.ToTime(md.KeyMetadata.ValidTo).Equal(validTo) {
		t.Errorf("after LoadState: %+v, %v; want origin EXTERNAL, ValidTo %v", md, err, validTo)
	}
	if dec, err := c2.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "kept" {
		t.Errorf("Decrypt after LoadState = %v", err)
	}
	other := make([]byte, 32)
	rand.Read(other)
	err = importKey(t, c2, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048, other, nil)
	wantCode(t, "other material after LoadState", err, "IncorrectKeyMaterialException")
}
