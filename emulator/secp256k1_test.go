package emulator_test

import (
	"crypto/sha256"
	"encoding/asn1"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/kmsload/kmsload/emulator"
)

// TestSECGP256K1: an ECC_SECG_P256K1 key signs with ECDSA_SHA_256 what its
// public key (a SubjectPublicKeyInfo of curve secp256k1, 1.3.132.0.10)
// verifies outside the emulator, Verify accepts it and refuses a changed
// message, and data key pairs of the spec come with such a public key.
func TestSECGP256K1(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	k := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeSignVerify})
	if k.KeySpec != types.KeySpecEccSecgP256k1 || len(k.SigningAlgorithms) != 1 || k.SigningAlgorithms[0] != types.SigningAlgorithmSpecEcdsaSha256 {
		t.Fatalf("CreateKey: %s %v; want ECC_SECG_P256K1 with ECDSA_SHA_256", k.KeySpec, k.SigningAlgorithms)
	}
	msg := []byte("bitcoin-style signature")
	sig, err := c.Sign(ctx(), &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := c.GetPublicKey(ctx(), &kms.GetPublicKeyInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	pub := parseK1(t, pk.PublicKey)
	digest := sha256.Sum256(msg)
	s, err := k1ecdsa.ParseDERSignature(sig.Signature)
	if err != nil || !s.Verify(digest[:], pub) {
		t.Errorf("the signature does not verify with the public key outside the emulator (%v)", err)
	}
	v, err := c.Verify(ctx(), &kms.VerifyInput{KeyId: k.KeyId, Message: msg, Signature: sig.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil || !v.SignatureValid {
		t.Errorf("Verify = %v", err)
	}
	_, err = c.Verify(ctx(), &kms.VerifyInput{KeyId: k.KeyId, Message: []byte("other"), Signature: sig.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantCode(t, "Verify of a changed message", err, "KMSInvalidSignatureException")
	_, err = c.Sign(ctx(), &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha384})
	wantCode(t, "Sign with ECDSA_SHA_384", err, "InvalidKeyUsageException")

	sym := createKey(t, c, nil)
	pair, err := c.GenerateDataKeyPair(ctx(), &kms.GenerateDataKeyPairInput{KeyId: sym.KeyId, KeyPairSpec: types.DataKeyPairSpecEccSecgP256k1})
	if err != nil {
		t.Fatal(err)
	}
	parseK1(t, pair.PublicKey)
	if len(pair.PrivateKeyPlaintext) == 0 {
		t.Error("no PrivateKeyPlaintext")
	}
}

// parseK1 reads a secp256k1 SubjectPublicKeyInfo.
func parseK1(t *testing.T, der []byte) *secp256k1.PublicKey {
	t.Helper()
	var spki struct {
		Algorithm struct{ Algorithm, Parameters asn1.ObjectIdentifier }
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		t.Fatalf("public key is not a SubjectPublicKeyInfo: %v", err)
	}
	if !spki.Algorithm.Parameters.Equal(asn1.ObjectIdentifier{1, 3, 132, 0, 10}) {
		t.Fatalf("curve %v; want secp256k1 (1.3.132.0.10)", spki.Algorithm.Parameters)
	}
	pub, err := secp256k1.ParsePubKey(spki.PublicKey.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
