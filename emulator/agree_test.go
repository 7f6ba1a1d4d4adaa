package emulator_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

// TestDeriveSharedSecret: a KEY_AGREEMENT key derives the same ECDH secret
// as the peer computes from the key's public key; the errors are the API
// reference's.
func TestDeriveSharedSecret(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	k := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeKeyAgreement})
	if len(k.KeyAgreementAlgorithms) != 1 || k.KeyAgreementAlgorithms[0] != types.KeyAgreementAlgorithmSpecEcdh {
		t.Errorf("KeyAgreementAlgorithms = %v; want [ECDH]", k.KeyAgreementAlgorithms)
	}
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	peerDER, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	out, err := c.DeriveSharedSecret(ctx(), &kms.DeriveSharedSecretInput{KeyId: k.KeyId, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: peerDER})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := c.GetPublicKey(ctx(), &kms.GetPublicKeyInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	kmsPub, _ := x509.ParsePKIXPublicKey(pk.PublicKey)
	theirs, err := kmsPub.(interface {
		ECDH() (*ecdh.PublicKey, error)
	}).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := peer.ECDH(theirs)
	if !bytes.Equal(out.SharedSecret, want) || out.KeyOrigin != types.OriginTypeAwsKms {
		t.Errorf("SharedSecret differs from the peer's ECDH, or KeyOrigin %s", out.KeyOrigin)
	}
	other, _ := ecdh.P384().GenerateKey(rand.Reader)
	otherDER, _ := x509.MarshalPKIXPublicKey(other.PublicKey())
	_, err = c.DeriveSharedSecret(ctx(), &kms.DeriveSharedSecretInput{KeyId: k.KeyId, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: otherDER})
	wantCode(t, "a P-384 peer key for a P-256 key", err, "ValidationException")
	signer := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	_, err = c.DeriveSharedSecret(ctx(), &kms.DeriveSharedSecretInput{KeyId: signer.KeyId, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: peerDER})
	wantCode(t, "a SIGN_VERIFY key", err, "InvalidKeyUsageException")
	_, err = c.Sign(ctx(), &kms.SignInput{KeyId: k.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantCode(t, "Sign with a KEY_AGREEMENT key", err, "InvalidKeyUsageException")
}
