package emulator

import (
	"slices"

	"github.com/kmsload/kmsload/quota"
)

// pairSpecsGenerated are the data key pair specs the emulator generates;
// the others KMS accepts (quota.KeyPairSpecs) are answered
// UnsupportedOperationException.
var pairSpecsGenerated = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", specSECG}

type dataKeyPairIn struct {
	KeyId             string
	EncryptionContext map[string]string
	KeyPairSpec       string
	GrantTokens       []string
	DryRun            bool
}

type dataKeyPairOut struct {
	KeyId                    string
	KeyPairSpec              string
	PrivateKeyCiphertextBlob []byte
	PrivateKeyPlaintext      []byte `json:",omitempty"`
	PublicKey                []byte
}

func opGenerateDataKeyPair(c *call, in *dataKeyPairIn) (any, *apiError) {
	return generateDataKeyPair(c, in, true)
}

func opGenerateDataKeyPairWithoutPlaintext(c *call, in *dataKeyPairIn) (any, *apiError) {
	return generateDataKeyPair(c, in, false)
}

// generateDataKeyPair serves GenerateDataKeyPair and, without the private
// key's plaintext in the answer, GenerateDataKeyPairWithoutPlaintext: a
// fresh key pair of KeyPairSpec whose private key (PKCS#8) is encrypted
// under the symmetric encryption key KeyId, and whose public key is
// returned as a DER SubjectPublicKeyInfo. The request is charged by its
// pair spec (quota.BucketsOf).
func generateDataKeyPair(c *call, in *dataKeyPairIn, withPlaintext bool) (any, *apiError) {
	known := slices.Contains(quota.KeyPairSpecs, in.KeyPairSpec)
	if known {
		c.pairSpec = in.KeyPairSpec
	}
	k, e := c.cryptoKey(in.KeyId, "keyId", c.op)
	if e != nil {
		return nil, e
	}
	switch {
	case in.KeyPairSpec == "":
		return nil, errNull("keyPairSpec")
	case !known:
		return nil, errEnum("keyPairSpec", in.KeyPairSpec)
	case k.spec != specSymmetric || k.usage != usageEncrypt:
		return nil, errUsage(k, c.op)
	case k.customKeyStore != "":
		return nil, kerr("UnsupportedOperationException", "%s is in a custom key store; %s does not support keys in custom key stores", k.arn, c.op)
	}
	if e := checkContext(in.EncryptionContext); e != nil {
		return nil, e
	}
	if !slices.Contains(pairSpecsGenerated, in.KeyPairSpec) {
		return nil, kerr("UnsupportedOperationException", "this emulator does not generate %s key pairs", in.KeyPairSpec)
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	priv, privDER, err := generatePair(in.KeyPairSpec)
	if err != nil {
		return nil, errInternal()
	}
	pub, err := publicDER(priv.Public())
	if err != nil {
		return nil, errInternal()
	}
	ct, err := sealSymmetric(k, privDER, in.EncryptionContext)
	if err != nil {
		return nil, errInternal()
	}
	out := dataKeyPairOut{KeyId: k.arn, KeyPairSpec: in.KeyPairSpec, PrivateKeyCiphertextBlob: ct, PublicKey: pub}
	if withPlaintext {
		out.PrivateKeyPlaintext = privDER
	}
	return out, nil
}
