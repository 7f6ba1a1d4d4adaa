package emulator

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// ECC_SECG_P256K1 keys: Go's crypto has no secp256k1, so the curve is
// github.com/decred/dcrd/dcrec/secp256k1 and the X.509 and PKCS#8
// encodings of its keys (which KMS uses for GetPublicKey, data key pairs
// and imported material) are written here.

const specSECG = "ECC_SECG_P256K1"

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

// k1Signer is a secp256k1 private key as a crypto.Signer: Sign makes a
// DER-encoded ECDSA signature of a digest.
type k1Signer struct{ priv *secp256k1.PrivateKey }

// k1Public is a secp256k1 public key.
type k1Public struct{ pub *secp256k1.PublicKey }

func (s k1Signer) Public() crypto.PublicKey { return k1Public{s.priv.PubKey()} }

// Sign signs digest (already hashed) deterministically (RFC 6979).
func (s k1Signer) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return k1ecdsa.Sign(s.priv, digest).Serialize(), nil
}

// verify reports whether sig (DER) is p's signature of digest.
func (p k1Public) verify(digest, sig []byte) bool {
	s, err := k1ecdsa.ParseDERSignature(sig)
	return err == nil && s.Verify(digest, p.pub)
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.ObjectIdentifier
}

type subjectPublicKeyInfo struct {
	Algorithm algorithmIdentifier
	PublicKey asn1.BitString
}

type pkcs8 struct {
	Version    int
	Algorithm  algorithmIdentifier
	PrivateKey []byte
}

// ecPrivateKey is RFC 5915's ECPrivateKey, as in PKCS#8 of an EC key.
type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	PublicKey  asn1.BitString `asn1:"optional,explicit,tag:1"`
}

var k1Algorithm = algorithmIdentifier{Algorithm: oidECPublicKey, Parameters: oidSecp256k1}

// generateK1 makes a secp256k1 key pair and its PKCS#8 encoding.
func generateK1() (crypto.Signer, []byte, error) {
	priv, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, nil, err
	}
	der, err := marshalK1PKCS8(priv)
	return k1Signer{priv}, der, err
}

func marshalK1PKCS8(priv *secp256k1.PrivateKey) ([]byte, error) {
	pub := priv.PubKey().SerializeUncompressed()
	inner, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: priv.Serialize(), PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pkcs8{Algorithm: k1Algorithm, PrivateKey: inner})
}

// parsePKCS8 is x509.ParsePKCS8PrivateKey that also reads secp256k1
// keys.
func parsePKCS8(der []byte) (crypto.Signer, error) {
	var p pkcs8
	if rest, err := asn1.Unmarshal(der, &p); err == nil && len(rest) == 0 &&
		p.Algorithm.Algorithm.Equal(oidECPublicKey) && p.Algorithm.Parameters.Equal(oidSecp256k1) {
		var ec ecPrivateKey
		if _, err := asn1.Unmarshal(p.PrivateKey, &ec); err != nil || len(ec.PrivateKey) != 32 {
			return nil, errors.New("emulator: malformed secp256k1 private key")
		}
		return k1Signer{secp256k1.PrivKeyFromBytes(ec.PrivateKey)}, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("emulator: private key is not a signer")
	}
	return s, nil
}

// publicDER is x509.MarshalPKIXPublicKey that also writes secp256k1 keys.
func publicDER(pub crypto.PublicKey) ([]byte, error) {
	if p, ok := pub.(k1Public); ok {
		b := p.pub.SerializeUncompressed()
		return asn1.Marshal(subjectPublicKeyInfo{Algorithm: k1Algorithm, PublicKey: asn1.BitString{Bytes: b, BitLength: 8 * len(b)}})
	}
	return x509.MarshalPKIXPublicKey(pub)
}
