package emulator

import (
	"bytes"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"hash"
	"slices"
	"time"
)

// Imported key material (Origin EXTERNAL): GetParametersForImport hands
// out an RSA wrapping key and an import token valid for 24 hours,
// ImportKeyMaterial unwraps the material with it and makes the key usable
// until ValidTo, DeleteImportedKeyMaterial takes it away again.

// importValidity is how long an import token and its wrapping key last.
const importValidity = 24 * time.Hour

const statePendingImport = "PendingImport"

const originExternal = "EXTERNAL"

// Expiration models of imported key material.
const (
	materialExpires       = "KEY_MATERIAL_EXPIRES"
	materialDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE"
)

// wrappingAlgorithms are the WrappingAlgorithm values KMS accepts, with
// whether the emulator unwraps them.
var wrappingAlgorithms = map[string]bool{
	"RSAES_OAEP_SHA_1": true, "RSAES_OAEP_SHA_256": true,
	"RSA_AES_KEY_WRAP_SHA_1": true, "RSA_AES_KEY_WRAP_SHA_256": true,
	"RSAES_PKCS1_V1_5": false, "SM2PKE": false,
}

// wrappingKeyBits are the WrappingKeySpec values KMS accepts; SM2 is
// answered UnsupportedOperationException.
var wrappingKeyBits = map[string]int{"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096, "SM2": 0}

// importParams is one GetParametersForImport answer: the wrapping key, the
// algorithm material must be wrapped with, and until when they hold.
type importParams struct {
	priv      *rsa.PrivateKey
	algorithm string
	validTo   time.Time
}

// imported is the import state of a key of origin EXTERNAL.
type imported struct {
	tokens          map[string]importParams // import token -> parameters
	material        []byte                  // the material first imported (reimports must match it)
	validTo         time.Time               // zero: does not expire
	expirationModel string                  // "" until material is imported
}

// stateAt is k's key state at now: PendingImport once imported material
// has expired (sweep makes it so for good under the write lock).
func (k *key) stateAt(now time.Time) string {
	if im := k.imp; im != nil && !im.validTo.IsZero() && !now.Before(im.validTo) && k.state != statePendingDeletion {
		return statePendingImport
	}
	return k.state
}

// expire applies the expiry of k's imported material. The caller holds
// the write lock.
func (k *key) expire(now time.Time) {
	if k.stateAt(now) == statePendingImport && k.state != statePendingImport {
		k.state = statePendingImport
		k.imp.validTo = time.Time{}
	}
}

// importable rejects key-material operations on a key KMS cannot import
// into.
func (k *key) importable(op string) *apiError {
	switch {
	case k.origin != originExternal:
		return kerr("UnsupportedOperationException", "%s operation is not supported on %s: its origin is %s, not EXTERNAL", op, k.arn, k.origin)
	case k.state == statePendingDeletion:
		return kerr("KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	return nil
}

type paramsForImportIn struct {
	KeyId             string
	WrappingAlgorithm string
	WrappingKeySpec   string
}

type paramsForImportOut struct {
	KeyId             string
	ImportToken       []byte
	PublicKey         []byte
	ParametersValidTo epoch
}

func opGetParametersForImport(c *call, in *paramsForImportIn, k *key) (any, *apiError) {
	if e := k.importable(c.op); e != nil {
		return nil, e
	}
	supported, ok := wrappingAlgorithms[in.WrappingAlgorithm]
	switch {
	case in.WrappingAlgorithm == "":
		return nil, errNull("wrappingAlgorithm")
	case !ok:
		return nil, errEnum("wrappingAlgorithm", in.WrappingAlgorithm)
	case in.WrappingKeySpec == "":
		return nil, errNull("wrappingKeySpec")
	}
	bits, ok := wrappingKeyBits[in.WrappingKeySpec]
	switch {
	case !ok:
		return nil, errEnum("wrappingKeySpec", in.WrappingKeySpec)
	case !supported || bits == 0:
		return nil, kerr("UnsupportedOperationException", "this emulator does not support %s with %s", in.WrappingAlgorithm, in.WrappingKeySpec)
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, errInternal()
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, errInternal()
	}
	token := make([]byte, 64)
	if _, err := rand.Read(token); err != nil {
		return nil, errInternal()
	}
	if k.imp == nil {
		k.imp = &imported{}
	}
	if k.imp.tokens == nil {
		k.imp.tokens = map[string]importParams{}
	}
	for t, p := range k.imp.tokens { // drop what has lapsed
		if !c.now.Before(p.validTo) {
			delete(k.imp.tokens, t)
		}
	}
	validTo := c.now.Add(importValidity)
	k.imp.tokens[string(token)] = importParams{priv: priv, algorithm: in.WrappingAlgorithm, validTo: validTo}
	return paramsForImportOut{KeyId: k.arn, ImportToken: token, PublicKey: pub, ParametersValidTo: epoch(validTo)}, nil
}

type importIn struct {
	KeyId                string
	ImportToken          []byte
	EncryptedKeyMaterial []byte
	ValidTo              *float64
	ExpirationModel      string
	ImportType           string
}

func opImportKeyMaterial(c *call, in *importIn, k *key) (any, *apiError) {
	if e := k.importable(c.op); e != nil {
		return nil, e
	}
	if len(in.ImportToken) == 0 {
		return nil, errNull("importToken")
	}
	if len(in.EncryptedKeyMaterial) == 0 {
		return nil, errNull("encryptedKeyMaterial")
	}
	validTo, e := importExpiry(c.now, in)
	if e != nil {
		return nil, e
	}
	var p importParams
	ok := false
	if k.imp != nil {
		p, ok = k.imp.tokens[string(in.ImportToken)]
	}
	switch {
	case !ok:
		return nil, kerr("InvalidImportTokenException", "The import token is not valid for %s.", k.arn)
	case !c.now.Before(p.validTo):
		return nil, kerr("ExpiredImportTokenException", "The import token expired at %s.", p.validTo.UTC().Format(time.RFC3339))
	}
	material, ok := unwrapMaterial(p, in.EncryptedKeyMaterial)
	if !ok {
		return nil, kerr("InvalidCiphertextException", "The key material could not be decrypted with the wrapping key of this import token.")
	}
	if e := k.install(material); e != nil {
		return nil, e
	}
	model := materialExpires
	if validTo.IsZero() {
		model = materialDoesNotExpire
	}
	k.imp.validTo, k.imp.expirationModel = validTo, model
	if k.state == statePendingImport {
		k.state = stateEnabled
	}
	return keyIDOut{KeyId: k.arn}, nil
}

// importExpiry reads ExpirationModel and ValidTo: KEY_MATERIAL_EXPIRES
// (the default) needs a ValidTo in the future, KEY_MATERIAL_DOES_NOT_EXPIRE
// none (the zero time).
func importExpiry(now time.Time, in *importIn) (time.Time, *apiError) {
	switch in.ExpirationModel {
	case "", materialExpires:
		if in.ValidTo == nil {
			return time.Time{}, kerr("ValidationException", "A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
		}
		t := time.Unix(0, int64(*in.ValidTo*float64(time.Second)))
		if !t.After(now) {
			return time.Time{}, kerr("ValidationException", "ValidTo must be in the future")
		}
		return t, nil
	case materialDoesNotExpire:
		if in.ValidTo != nil {
			return time.Time{}, kerr("ValidationException", "A ValidTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
		}
		return time.Time{}, nil
	}
	return time.Time{}, errEnum("expirationModel", in.ExpirationModel)
}

// install makes material k's key material: the first import sets it, a
// reimport must bring the same material back.
func (k *key) install(material []byte) *apiError {
	if k.imp.material != nil {
		if !bytes.Equal(k.imp.material, material) {
			return kerr("IncorrectKeyMaterialException", "The key material does not match the key material previously imported into %s.", k.arn)
		}
		return nil
	}
	if e := k.mat.setImported(k.spec, material); e != nil {
		return e
	}
	k.imp.material = material
	return nil
}

// setImported checks material against spec and installs it: 32 bytes for
// SYMMETRIC_DEFAULT, a secret of the spec's length range for HMAC, a
// PKCS#8 private key of the spec for asymmetric keys.
func (m *material) setImported(spec string, material []byte) *apiError {
	info := specs[spec]
	bad := func(want string) *apiError {
		return kerr("IncorrectKeyMaterialException", "The key material is not %s for a %s key.", want, spec)
	}
	switch {
	case spec == specSymmetric:
		if len(material) != 32 {
			return bad("a 256-bit key")
		}
		if err := m.addVersion(material); err != nil {
			return errInternal()
		}
	case info.macHash != nil:
		maxLen := 64 // HMAC_224 and HMAC_256 take 28 or 32 to 64 bytes, HMAC_384 and HMAC_512 48 or 64 to 128
		if info.macLen > 32 {
			maxLen = 128
		}
		if len(material) < info.macLen || len(material) > maxLen {
			return bad("a secret of the right length")
		}
		m.mac = material
	default:
		priv, err := parsePKCS8(material)
		if err != nil || !matchesSpec(priv, info) {
			return bad("a PKCS#8 private key of its spec")
		}
		m.privDER = material
	}
	return nil
}

// matchesSpec reports whether private key priv is of the spec info
// describes.
func matchesSpec(priv any, info specInfo) bool {
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		return info.rsaBits > 0 && p.N.BitLen() == info.rsaBits
	case *ecdsa.PrivateKey:
		return info.curve != nil && p.Curve == info.curve()
	case k1Signer:
		return info.secp256k1
	}
	return false
}

type deleteImportedIn struct {
	KeyId string
}

func opDeleteImportedKeyMaterial(c *call, in *deleteImportedIn, k *key) (any, *apiError) {
	if e := k.importable(c.op); e != nil {
		return nil, e
	}
	k.state = statePendingImport
	if k.imp != nil {
		k.imp.validTo, k.imp.expirationModel = time.Time{}, ""
	}
	return nil, nil
}

// unwrapMaterial decrypts wrapped key material with the parameters of its
// import token: RSA-OAEP for RSAES_OAEP_*, and for RSA_AES_KEY_WRAP_* an
// RSA-OAEP-wrapped AES-256 key followed by the material wrapped with it
// (AES key wrap with padding, RFC 5649).
func unwrapMaterial(p importParams, wrapped []byte) ([]byte, bool) {
	var h hash.Hash
	switch p.algorithm {
	case "RSAES_OAEP_SHA_1", "RSA_AES_KEY_WRAP_SHA_1":
		h = sha1.New()
	default:
		h = sha256.New()
	}
	if p.algorithm == "RSAES_OAEP_SHA_1" || p.algorithm == "RSAES_OAEP_SHA_256" {
		out, err := rsa.DecryptOAEP(h, nil, p.priv, wrapped, nil)
		return out, err == nil
	}
	n := p.priv.Size()
	if len(wrapped) <= n {
		return nil, false
	}
	kek, err := rsa.DecryptOAEP(h, nil, p.priv, wrapped[:n], nil)
	if err != nil || len(kek) != 32 {
		return nil, false
	}
	return aesUnwrapPadded(kek, wrapped[n:])
}

// aesUnwrapPadded is RFC 5649's key unwrap with padding.
func aesUnwrapPadded(kek, c []byte) ([]byte, bool) {
	b, err := aes.NewCipher(kek)
	if err != nil || len(c) < 16 || len(c)%8 != 0 {
		return nil, false
	}
	n := len(c)/8 - 1
	var a [8]byte
	r := make([]byte, 8*n)
	var buf [16]byte
	if n == 1 {
		b.Decrypt(buf[:], c)
		copy(a[:], buf[:8])
		copy(r, buf[8:])
	} else {
		copy(a[:], c[:8])
		copy(r, c[8:])
		for j := 5; j >= 0; j-- {
			for i := n; i >= 1; i-- {
				t := uint64(n*j + i)
				binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a[:])^t)
				copy(buf[8:], r[8*(i-1):8*i])
				b.Decrypt(buf[:], buf[:])
				copy(a[:], buf[:8])
				copy(r[8*(i-1):8*i], buf[8:])
			}
		}
	}
	if !bytes.Equal(a[:4], []byte{0xA6, 0x59, 0x59, 0xA6}) {
		return nil, false
	}
	mli := int(binary.BigEndian.Uint32(a[4:]))
	if mli <= 8*(n-1) || mli > 8*n {
		return nil, false
	}
	if slices.ContainsFunc(r[mli:], func(x byte) bool { return x != 0 }) {
		return nil, false
	}
	return r[:mli], true
}
