package emulator

import (
	"crypto/ecdsa"
	"crypto/x509"
)

type deriveIn struct {
	KeyId                 string
	KeyAgreementAlgorithm string
	PublicKey             []byte
	GrantTokens           []string
	DryRun                bool
}

type deriveOut struct {
	KeyId                 string
	SharedSecret          []byte
	KeyAgreementAlgorithm string
	KeyOrigin             string
}

// opDeriveSharedSecret derives the ECDH shared secret (the x-coordinate,
// as KMS returns it) of a KEY_AGREEMENT key's private key and the peer's
// public key (DER SubjectPublicKeyInfo on the same curve). It is charged
// as a cryptographic operation of the key's class.
func opDeriveSharedSecret(c *call, in *deriveIn) (any, *apiError) {
	k, e := c.cryptoKey(in.KeyId, "keyId", c.op)
	if e != nil {
		return nil, e
	}
	switch {
	case in.KeyAgreementAlgorithm == "":
		return nil, errNull("keyAgreementAlgorithm")
	case in.KeyAgreementAlgorithm != "ECDH":
		return nil, errEnum("keyAgreementAlgorithm", in.KeyAgreementAlgorithm)
	case len(in.PublicKey) == 0:
		return nil, errNull("publicKey")
	case k.usage != usageAgree:
		return nil, errUsage(k, c.op)
	}
	pub, err := x509.ParsePKIXPublicKey(in.PublicKey)
	peer, ok := pub.(*ecdsa.PublicKey)
	if err != nil || !ok || peer.Curve != specs[k.spec].curve() {
		return nil, kerr("ValidationException", "PublicKey is not a DER-encoded public key of curve %s", k.spec)
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	priv, err := k.mat.signer()
	if err != nil {
		return nil, errInternal()
	}
	mine, err1 := priv.(*ecdsa.PrivateKey).ECDH()
	theirs, err2 := peer.ECDH()
	if err1 != nil || err2 != nil {
		return nil, kerr("ValidationException", "PublicKey is not a point of curve %s", k.spec)
	}
	secret, err := mine.ECDH(theirs)
	if err != nil {
		return nil, kerr("ValidationException", "PublicKey is not a point of curve %s", k.spec)
	}
	return deriveOut{KeyId: k.arn, SharedSecret: secret, KeyAgreementAlgorithm: "ECDH", KeyOrigin: k.origin}, nil
}
