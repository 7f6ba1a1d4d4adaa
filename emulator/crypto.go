package emulator

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"hash"
	"sort"
	"sync"
	"time"
)

// Key usages.
const (
	usageEncrypt = "ENCRYPT_DECRYPT"
	usageSign    = "SIGN_VERIFY"
	usageMac     = "GENERATE_VERIFY_MAC"
	usageAgree   = "KEY_AGREEMENT"
)

const specSymmetric = "SYMMETRIC_DEFAULT"

// specInfo describes a supported KeySpec.
type specInfo struct {
	usages    []string // first is the default
	encAlgs   []string
	signAlgs  []string
	macAlgs   []string
	agreeAlgs []string
	secp256k1 bool // ECC_SECG_P256K1 (secp256k1.go)
	rsaBits   int
	curve     func() elliptic.Curve
	macHash   func() hash.Hash
	macLen    int
}

var specs = map[string]specInfo{
	specSymmetric:   {usages: []string{usageEncrypt}, encAlgs: []string{"SYMMETRIC_DEFAULT"}},
	"RSA_2048":      rsaSpec(2048),
	"RSA_3072":      rsaSpec(3072),
	"RSA_4096":      rsaSpec(4096),
	"ECC_NIST_P256": eccSpec("ECDSA_SHA_256", elliptic.P256),
	"ECC_NIST_P384": eccSpec("ECDSA_SHA_384", elliptic.P384),
	"ECC_NIST_P521": eccSpec("ECDSA_SHA_512", elliptic.P521),
	specSECG:        {usages: []string{usageSign}, signAlgs: []string{"ECDSA_SHA_256"}, secp256k1: true},
	"HMAC_224":      {usages: []string{usageMac}, macAlgs: []string{"HMAC_SHA_224"}, macHash: sha256.New224, macLen: 28},
	"HMAC_256":      {usages: []string{usageMac}, macAlgs: []string{"HMAC_SHA_256"}, macHash: sha256.New, macLen: 32},
	"HMAC_384":      {usages: []string{usageMac}, macAlgs: []string{"HMAC_SHA_384"}, macHash: sha512.New384, macLen: 48},
	"HMAC_512":      {usages: []string{usageMac}, macAlgs: []string{"HMAC_SHA_512"}, macHash: sha512.New, macLen: 64},
}

// algorithms returns the algorithms keys of the spec support for usage.
func (info specInfo) algorithms(usage string) []string {
	switch usage {
	case usageEncrypt:
		return info.encAlgs
	case usageSign:
		return info.signAlgs
	case usageMac:
		return info.macAlgs
	case usageAgree:
		return info.agreeAlgs
	}
	return nil
}

// eccSpec is a NIST curve's spec: signing with alg, or key agreement
// (ECDH).
func eccSpec(alg string, curve func() elliptic.Curve) specInfo {
	return specInfo{usages: []string{usageSign, usageAgree}, signAlgs: []string{alg}, agreeAlgs: []string{"ECDH"}, curve: curve}
}

func rsaSpec(bits int) specInfo {
	return specInfo{
		usages:   []string{usageEncrypt, usageSign},
		encAlgs:  []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"},
		signAlgs: []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"},
		rsaBits:  bits,
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// material is a key's secret: symmetric versions (rotation appends one),
// an HMAC secret, or an asymmetric private key generated on first use.
// Multi-Region primaries and replicas share one material. Versions are
// appended under the server's write lock and read under its read lock.
type material struct {
	spec  string
	sym   [][]byte      // symmetric versions; index = version
	aeads []cipher.AEAD // one per version
	// versions describe the symmetric versions, index = version: the key
	// material id, and for each rotation when and how it happened.
	versions []materialVersion
	mac      []byte
	group    *mrkGroup // nil unless multi-Region
	// next is the symmetric material imported into an EXTERNAL key (its
	// primary) for the next on-demand rotation, nextID its key material
	// id; nil when there is none.
	next   []byte
	nextID string

	once    sync.Once
	priv    crypto.Signer
	privDER []byte // PKCS#8, set when generated or loaded
	privErr error
}

func newMaterial(spec string) (*material, error) {
	m := &material{spec: spec}
	switch {
	case spec == specSymmetric:
		if err := m.rotate(time.Time{}, ""); err != nil {
			return nil, err
		}
	case specs[spec].macHash != nil:
		m.mac = make([]byte, 64)
		if _, err := rand.Read(m.mac); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Rotation types (ListKeyRotations).
const (
	rotationAutomatic = "AUTOMATIC"
	rotationOnDemand  = "ON_DEMAND"
)

// materialVersion is one symmetric version's record: its key material id
// (64 hex digits) and, except for the first material, when it was rotated
// in and whether automatically or on demand.
type materialVersion struct {
	ID   string    `json:"id"`
	At   time.Time `json:"at,omitzero"`
	Kind string    `json:"kind,omitempty"`
}

// rotate adds a new symmetric version at now by rotation kind (""
// for the first material). Callers hold the write lock.
func (m *material) rotate(now time.Time, kind string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	if err := m.addVersion(b); err != nil {
		return err
	}
	m.versions[len(m.versions)-1].At, m.versions[len(m.versions)-1].Kind = now, kind
	return nil
}

// onDemandRotations counts the versions rotated in on demand.
func (m *material) onDemandRotations() int {
	n := 0
	for _, v := range m.versions {
		if v.Kind == rotationOnDemand {
			n++
		}
	}
	return n
}

// addVersion adds symmetric version b with a fresh key material id.
func (m *material) addVersion(b []byte) error {
	blk, err := aes.NewCipher(b)
	if err != nil {
		return err
	}
	a, err := cipher.NewGCM(blk)
	if err != nil {
		return err
	}
	m.sym = append(m.sym, b)
	m.aeads = append(m.aeads, a)
	m.versions = append(m.versions, materialVersion{ID: randomHex(32)}) // 64 hex digits
	return nil
}

// signer returns the private key, generating it on first use (RSA
// generation is slow, so CreateKey does not wait for it).
func (m *material) signer() (crypto.Signer, error) {
	m.once.Do(func() {
		if m.privDER != nil {
			m.priv, m.privErr = parsePKCS8(m.privDER)
			return
		}
		m.priv, m.privDER, m.privErr = generatePair(m.spec)
	})
	return m.priv, m.privErr
}

// generatePair generates a key pair of spec (an RSA or NIST ECC KeySpec,
// which are also the data key pair specs of those names) and returns the
// private key and its PKCS#8 encoding.
func generatePair(spec string) (crypto.Signer, []byte, error) {
	info := specs[spec]
	var priv crypto.Signer
	var err error
	switch {
	case info.rsaBits > 0:
		priv, err = rsa.GenerateKey(rand.Reader, info.rsaBits)
	case info.curve != nil:
		priv, err = ecdsa.GenerateKey(info.curve(), rand.Reader)
	case info.secp256k1:
		return generateK1()
	default:
		err = errors.New("emulator: key spec " + spec + " has no key pair")
	}
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	return priv, der, err
}

// Symmetric ciphertext blob layout (all integers big-endian):
//
//	0x01 | len(account) u8 | account | len(id) u8 | id | version u32 | nonce 12 | GCM sealed
//
// The header and the canonical encryption context are the GCM additional
// data, so a changed header or context fails authentication.
const blobFormat = 0x01

// maxCiphertext is KMS's CiphertextBlob limit.
const maxCiphertext = 6144

// blobHeader is the parsed header of a symmetric ciphertext.
type blobHeader struct {
	account, id string
	version     uint32
	headerLen   int
}

func parseBlob(b []byte) (blobHeader, bool) {
	var h blobHeader
	if len(b) < 2 || b[0] != blobFormat {
		return h, false
	}
	i := 1
	n := int(b[i])
	i++
	if len(b) < i+n+1 {
		return h, false
	}
	h.account = string(b[i : i+n])
	i += n
	n = int(b[i])
	i++
	if len(b) < i+n+4+12+16 {
		return h, false
	}
	h.id = string(b[i : i+n])
	i += n
	h.version = binary.BigEndian.Uint32(b[i:])
	i += 4
	h.headerLen = i
	return h, true
}

// canonicalContext appends the encryption context in a canonical form:
// keys sorted, each key and value length-prefixed.
func canonicalContext(dst []byte, ctx map[string]string) []byte {
	if len(ctx) == 0 {
		return dst
	}
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		v := ctx[k]
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// sealSymmetric encrypts plaintext under the newest version of k's material.
func sealSymmetric(k *key, plaintext []byte, ctx map[string]string) ([]byte, error) {
	m := k.mat
	ver := len(m.sym) - 1
	hlen := 1 + 1 + len(k.account) + 1 + len(k.id) + 4
	out := make([]byte, 0, hlen+12+len(plaintext)+16)
	out = append(out, blobFormat, byte(len(k.account)))
	out = append(out, k.account...)
	out = append(out, byte(len(k.id)))
	out = append(out, k.id...)
	out = binary.BigEndian.AppendUint32(out, uint32(ver))
	nonce := out[len(out) : len(out)+12]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = out[:len(out)+12]
	var aadBuf [256]byte
	aad := append(aadBuf[:0], out[:hlen]...)
	aad = canonicalContext(aad, ctx)
	return m.aeads[ver].Seal(out, nonce, plaintext, aad), nil
}

// openSymmetric decrypts a blob whose header h names k.
func openSymmetric(k *key, h blobHeader, blob []byte, ctx map[string]string) ([]byte, bool) {
	m := k.mat
	if int(h.version) >= len(m.aeads) {
		return nil, false
	}
	var aadBuf [256]byte
	aad := append(aadBuf[:0], blob[:h.headerLen]...)
	aad = canonicalContext(aad, ctx)
	nonce := blob[h.headerLen : h.headerLen+12]
	pt, err := m.aeads[h.version].Open(nil, nonce, blob[h.headerLen+12:], aad)
	return pt, err == nil
}

// oaepHash returns the hash of an RSAES_OAEP algorithm.
func oaepHash(alg string) hash.Hash {
	switch alg {
	case "RSAES_OAEP_SHA_1":
		return sha1.New()
	case "RSAES_OAEP_SHA_256":
		return sha256.New()
	}
	return nil
}

// signHash returns the digest algorithm of a signing algorithm.
func signHash(alg string) crypto.Hash {
	switch alg {
	case "RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256", "ECDSA_SHA_256":
		return crypto.SHA256
	case "RSASSA_PSS_SHA_384", "RSASSA_PKCS1_V1_5_SHA_384", "ECDSA_SHA_384":
		return crypto.SHA384
	case "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_512", "ECDSA_SHA_512":
		return crypto.SHA512
	}
	return 0
}

// signDigest signs digest with priv according to alg.
func signDigest(priv crypto.Signer, alg string, digest []byte) ([]byte, error) {
	h := signHash(alg)
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if len(alg) > 10 && alg[:10] == "RSASSA_PSS" {
			return rsa.SignPSS(rand.Reader, p, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, p, h, digest)
	case *ecdsa.PrivateKey:
		return ecdsa.SignASN1(rand.Reader, p, digest)
	case k1Signer:
		return p.Sign(nil, digest, nil)
	}
	return nil, errors.New("emulator: unsupported private key")
}

// verifyDigest checks sig over digest.
func verifyDigest(priv crypto.Signer, alg string, digest, sig []byte) bool {
	h := signHash(alg)
	switch p := priv.Public().(type) {
	case *rsa.PublicKey:
		if len(alg) > 10 && alg[:10] == "RSASSA_PSS" {
			return rsa.VerifyPSS(p, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		}
		return rsa.VerifyPKCS1v15(p, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(p, digest, sig)
	case k1Public:
		return p.verify(digest, sig)
	}
	return false
}

// computeMac returns the HMAC of msg under k's material.
func computeMac(k *key, msg []byte) []byte {
	mac := hmac.New(specs[k.spec].macHash, k.mat.mac[:specs[k.spec].macLen])
	mac.Write(msg)
	return mac.Sum(nil)
}
