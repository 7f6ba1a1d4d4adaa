package emulator_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"hash"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

// TestOfflineRSAEncryption: data encrypted outside KMS with an RSA key's
// public key (GetPublicKey), RSAES-OAEP with SHA-1 or SHA-256, decrypts
// with the algorithm named; under the other algorithm it is
// InvalidCiphertextException, as the Decrypt reference says.
func TestOfflineRSAEncryption(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	for _, spec := range []types.KeySpec{types.KeySpecRsa2048, types.KeySpecRsa3072, types.KeySpecRsa4096} {
		k := createKey(t, c, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
		pk, err := c.GetPublicKey(ctx(), &kms.GetPublicKeyInput{KeyId: k.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		for alg, h := range map[types.EncryptionAlgorithmSpec]func() hash.Hash{
			types.EncryptionAlgorithmSpecRsaesOaepSha1:   sha1.New,
			types.EncryptionAlgorithmSpecRsaesOaepSha256: sha256.New,
		} {
			msg := []byte("offline " + string(alg))
			ct, err := rsa.EncryptOAEP(h(), rand.Reader, pub.(*rsa.PublicKey), msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Decrypt(ctx(), &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: ct, EncryptionAlgorithm: alg})
			if err != nil || !bytes.Equal(out.Plaintext, msg) || out.EncryptionAlgorithm != alg {
				t.Fatalf("%s %s: Decrypt = %v, %v", spec, alg, out, err)
			}
			other := types.EncryptionAlgorithmSpecRsaesOaepSha256
			if alg == other {
				other = types.EncryptionAlgorithmSpecRsaesOaepSha1
			}
			_, err = c.Decrypt(ctx(), &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: ct, EncryptionAlgorithm: other})
			wantCode(t, string(spec)+" ciphertext of "+string(alg)+" decrypted as "+string(other), err, "InvalidCiphertextException")
		}
	}
}
