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

// importable rejects key-material operations on a key KMS cannot import
// into.
func (k *key) importable() *apiError {
	switch {
	case k.origin != originExternal:
		return kerr("UnsupportedOperationException", "%s origin is %s which is not valid for this operation.", k.arn, k.origin)
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
	if e := k.importable(); e != nil {
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
	im := k.importState()
	if im.tokens == nil {
		im.tokens = map[string]importParams{}
	}
	for t, p := range im.tokens { // drop what has lapsed
		if !c.now.Before(p.validTo) {
			delete(im.tokens, t)
		}
	}
	validTo := c.now.Add(importValidity)
	im.tokens[string(token)] = importParams{priv: priv, algorithm: in.WrappingAlgorithm, validTo: validTo}
	return paramsForImportOut{KeyId: k.arn, ImportToken: token, PublicKey: pub, ParametersValidTo: epoch(validTo)}, nil
}

type importIn struct {
	KeyId                  string
	ImportToken            []byte
	EncryptedKeyMaterial   []byte
	ValidTo                *float64
	ExpirationModel        string
	ImportType             string
	KeyMaterialId          string
	KeyMaterialDescription *string
}

type importOut struct {
	KeyId         string
	KeyMaterialId string `json:",omitempty"`
}

// maxValidity is how far ahead ImportKeyMaterial's ValidTo may lie.
const maxValidity = 365 * 24 * time.Hour

func opImportKeyMaterial(c *call, in *importIn, k *key) (any, *apiError) {
	if e := k.importable(); e != nil {
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
	kind, e := k.importKind(in)
	if e != nil {
		return nil, e
	}
	p, e := k.importToken(c.now, in.ImportToken)
	if e != nil {
		return nil, e
	}
	b, ok := unwrapMaterial(p, in.EncryptedKeyMaterial)
	if !ok {
		return nil, kerr("InvalidCiphertextException", "The key material could not be decrypted with the wrapping key of this import token.")
	}
	rec := keyMaterial{id: materialID(k.id, b), model: materialExpires, validTo: validTo}
	if validTo.IsZero() {
		rec.model = materialDoesNotExpire
	}
	if in.KeyMaterialDescription != nil {
		rec.description = *in.KeyMaterialDescription
	}
	if in.KeyMaterialId != "" && in.KeyMaterialId != rec.id {
		return nil, kerr("IncorrectKeyMaterialException", "The key material does not have key material id %s.", in.KeyMaterialId)
	}
	if kind == importNew {
		e = c.importNew(k, b, rec)
	} else {
		e = k.reimport(b, rec, in.KeyMaterialDescription != nil)
	}
	if e != nil {
		return nil, e
	}
	k.settle()
	out := importOut{KeyId: k.arn}
	if k.spec == specSymmetric {
		out.KeyMaterialId = rec.id
	}
	return out, nil
}

// importKind reads ImportType: symmetric keys take NEW_KEY_MATERIAL (the
// default until material was first imported) or EXISTING_KEY_MATERIAL
// (the default after); other keys and replicas only reimport.
func (k *key) importKind(in *importIn) (string, *apiError) {
	switch in.ImportType {
	case "", importNew, importExisting:
	default:
		return "", errEnum("importType", in.ImportType)
	}
	switch {
	case k.spec != specSymmetric && (in.ImportType != "" || in.KeyMaterialId != "" || in.KeyMaterialDescription != nil):
		return "", kerr("ValidationException", "ImportType, KeyMaterialId and KeyMaterialDescription are only valid for symmetric encryption keys; %s is %s", k.arn, k.spec)
	case in.ImportType == importNew && in.KeyMaterialId != "":
		return "", kerr("ValidationException", "KeyMaterialId cannot be specified when ImportType is NEW_KEY_MATERIAL")
	case in.ImportType == importNew && k.isReplica():
		return "", kerr("UnsupportedOperationException", "New key material cannot be imported into the multi-Region replica %s: import it into its primary key, then into each replica with ImportType EXISTING_KEY_MATERIAL.", k.arn)
	case in.ImportType != "":
		return in.ImportType, nil
	case k.isReplica() || len(k.mat.associated()) > 0:
		return importExisting, nil
	}
	return importNew, nil
}

// importToken returns the parameters of import token t of k, valid at now.
func (k *key) importToken(now time.Time, t []byte) (importParams, *apiError) {
	p, ok := k.importState().tokens[string(t)]
	switch {
	case !ok:
		return p, kerr("InvalidImportTokenException", "The import token is not valid for %s.", k.arn)
	case !now.Before(p.validTo):
		return p, kerr("ExpiredImportTokenException", "The import token expired at %s.", p.validTo.UTC().Format(time.RFC3339))
	}
	return p, nil
}

// importNew associates material b with k: as its first material, or (a
// symmetric key that has one) as the material of its next on-demand
// rotation, which replaces a next material not yet imported anywhere.
func (c *call) importNew(k *key, b []byte, rec keyMaterial) *apiError {
	m, im := k.mat, k.importState()
	if len(m.associated()) == 0 {
		if e := m.setImported(k.spec, b); e != nil {
			return e
		}
		if k.spec == specSymmetric {
			m.versions[0].ID = rec.id
		}
		im.mats = []keyMaterial{rec}
		return nil
	}
	switch {
	case m.indexOf(b) >= 0:
		return kerr("IncorrectKeyMaterialException", "The key material %s is already associated with %s: import it with ImportType EXISTING_KEY_MATERIAL.", rec.id, k.arn)
	case len(b) != 32:
		return kerr("IncorrectKeyMaterialException", "The key material is not a 256-bit key for a %s key.", k.spec)
	case im.next != nil && im.next.imported() && im.next.id != rec.id:
		return kerr("KMSInvalidStateException", "New key material (id: %s) cannot be imported into KMS key %s, because another key material (id: %s) is pending rotation.", rec.id, k.id, im.next.id)
	}
	if m.nextID != rec.id {
		c.dropNext(k)
	}
	m.next, m.nextID = b, rec.id
	im.next = &rec
	return nil
}

// reimport imports b into k again: one of the materials associated with
// it, or the material pending rotation (a replica takes its primary's).
// Without a description the last one given is kept.
func (k *key) reimport(b []byte, rec keyMaterial, described bool) *apiError {
	m, im := k.mat, k.importState()
	k.syncMaterials()
	var old *keyMaterial
	if i := m.indexOf(b); i >= 0 {
		old = &im.mats[i]
	} else if m.next != nil && bytes.Equal(m.next, b) {
		if im.next == nil {
			im.next = &keyMaterial{id: m.nextID}
		}
		old = im.next
	} else {
		return kerr("IncorrectKeyMaterialException", "The key material does not match the key material previously imported into %s.", k.arn)
	}
	if !described {
		rec.description = old.description
	}
	*old = rec
	return nil
}

// importExpiry reads ExpirationModel and ValidTo: KEY_MATERIAL_EXPIRES
// (the default) needs a ValidTo in the future, at most 365 days ahead;
// KEY_MATERIAL_DOES_NOT_EXPIRE none (the zero time).
func importExpiry(now time.Time, in *importIn) (time.Time, *apiError) {
	switch in.ExpirationModel {
	case "", materialExpires:
		if in.ValidTo == nil {
			return time.Time{}, kerr("ValidationException", "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
		}
		t := time.Unix(0, int64(*in.ValidTo*float64(time.Second)))
		switch {
		case !t.After(now):
			return time.Time{}, kerr("ValidationException", "ValidTo must be in the future")
		case t.After(now.Add(maxValidity)):
			return time.Time{}, kerr("ValidationException", "ValidTo must be no more than 365 days in the future")
		}
		return t, nil
	case materialDoesNotExpire:
		if in.ValidTo != nil {
			return time.Time{}, kerr("ValidationException", "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
		}
		return time.Time{}, nil
	}
	return time.Time{}, errEnum("expirationModel", in.ExpirationModel)
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
	KeyId         string
	KeyMaterialId string
}

type deleteImportedOut = importOut

// opDeleteImportedKeyMaterial deletes the current material or the one
// KeyMaterialId names. A key without one of its associated materials is
// PendingImport (unless pending deletion); deleting the material pending
// rotation leaves the state as it is, and in a primary deletes it from
// the replicas too.
func opDeleteImportedKeyMaterial(c *call, in *deleteImportedIn, k *key) (any, *apiError) {
	if e := k.importable(); e != nil {
		return nil, e
	}
	k.syncMaterials()
	im := k.imp
	id := in.KeyMaterialId
	if id == "" && len(im.mats) > 0 {
		id = im.mats[len(im.mats)-1].id
	}
	out := deleteImportedOut{KeyId: k.arn}
	if k.spec == specSymmetric {
		out.KeyMaterialId = id
	}
	switch {
	case im.next != nil && im.next.id == id && !k.isReplica():
		c.dropNext(k)
		return out, nil
	case im.next != nil && im.next.id == id:
		im.next.drop()
		return out, nil
	}
	i := slices.IndexFunc(im.mats, func(m keyMaterial) bool { return m.id == id })
	if i < 0 && id != "" {
		return nil, kerr("NotFoundException", "Key material %s is not associated with %s.", id, k.arn)
	}
	if i >= 0 {
		im.mats[i].drop()
	}
	if k.state != statePendingDeletion {
		k.state = statePendingImport
	}
	return out, nil
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
