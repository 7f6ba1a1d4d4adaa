package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"

	"github.com/kmsload/kmsload/quota"
)

// Limits of KMS cryptographic operations.
const (
	maxPlaintext  = 4096
	maxMessage    = 4096
	maxDataKey    = 1024
	maxRandom     = 1024
	maxContextLen = 8192
)

// cryptoKey resolves the key of a cryptographic operation, charges quota by
// its KeySpec and checks authorization and state. A key that cannot be
// found is charged as symmetric. The caller holds the read lock.
func (c *call) cryptoKey(ref, field, action string) (*key, *apiError) {
	k, e := c.resolve(ref, field)
	if e != nil {
		if ce := c.charge("", "", ""); ce != nil {
			return nil, ce
		}
		return nil, e
	}
	if ce := c.chargeKey(k); ce != nil {
		return nil, ce
	}
	if e := c.authorize(k, action); e != nil {
		return nil, e
	}
	if e := k.usable(c.now); e != nil {
		return nil, e
	}
	return k, nil
}

func checkContext(ctx map[string]string) *apiError {
	n := 0
	for k, v := range ctx {
		n += len(k) + len(v)
	}
	if n > maxContextLen {
		return kerr("ValidationException", "encryption context is larger than %d bytes", maxContextLen)
	}
	return nil
}

// errIncompatible rejects an algorithm that keys of spec do not support.
func errIncompatible(alg, spec string) *apiError {
	return kerr("InvalidKeyUsageException", "Algorithm %s is incompatible with key spec %s.", alg, spec)
}

func errUsage(k *key, op string) *apiError {
	return kerr("InvalidKeyUsageException", "%s key usage is %s which is not valid for %s.", k.arn, k.usage, op)
}

// encryptWith encrypts plaintext with k (symmetric or RSA).
func encryptWith(k *key, plaintext []byte, ctx map[string]string, alg string) ([]byte, string, *apiError) {
	if k.usage != usageEncrypt {
		return nil, "", errUsage(k, "Encrypt")
	}
	if k.spec == specSymmetric {
		if alg != "" && alg != "SYMMETRIC_DEFAULT" {
			return nil, "", errIncompatible(alg, k.spec)
		}
		ct, err := sealSymmetric(k, plaintext, ctx)
		if err != nil {
			return nil, "", errInternal()
		}
		return ct, "SYMMETRIC_DEFAULT", nil
	}
	h := oaepHash(alg)
	if h == nil {
		if alg == "" {
			return nil, "", kerr("ValidationException", "EncryptionAlgorithm is required for asymmetric keys")
		}
		return nil, "", errIncompatible(alg, k.spec)
	}
	if len(ctx) > 0 {
		return nil, "", kerr("ValidationException", "EncryptionContext is not supported with asymmetric keys")
	}
	priv, err := k.mat.signer()
	if err != nil {
		return nil, "", errInternal()
	}
	ct, err := rsa.EncryptOAEP(h, rand.Reader, priv.Public().(*rsa.PublicKey), plaintext, nil)
	if err != nil {
		return nil, "", kerr("ValidationException", "plaintext is too long for %s with %s", k.spec, alg)
	}
	return ct, alg, nil
}

type encryptIn struct {
	KeyId               string
	Plaintext           []byte
	EncryptionContext   map[string]string
	EncryptionAlgorithm string
	GrantTokens         []string
	DryRun              bool
}

type encryptOut struct {
	CiphertextBlob      []byte
	KeyId               string
	EncryptionAlgorithm string
}

func opEncrypt(c *call, in *encryptIn) (any, *apiError) {
	k, e := c.cryptoKey(in.KeyId, "keyId", "Encrypt")
	if e != nil {
		return nil, e
	}
	if e := checkBlob("plaintext", in.Plaintext, maxPlaintext); e != nil {
		return nil, e
	}
	if e := checkContext(in.EncryptionContext); e != nil {
		return nil, e
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	ct, alg, e := encryptWith(k, in.Plaintext, in.EncryptionContext, in.EncryptionAlgorithm)
	if e != nil {
		return nil, e
	}
	return encryptOut{CiphertextBlob: ct, KeyId: k.arn, EncryptionAlgorithm: alg}, nil
}

// decryptBlob finds the key of blob (keyRef optional for symmetric
// ciphertexts), charges quota, checks access and decrypts.
func (c *call) decryptBlob(blob []byte, keyRef string, ctx map[string]string, alg, action string) (*key, []byte, string, *apiError) {
	if e := checkBlob("ciphertextBlob", blob, maxCiphertext); e != nil {
		return nil, nil, "", e
	}
	if alg != "" && alg != "SYMMETRIC_DEFAULT" {
		// Asymmetric decryption needs the key named.
		if keyRef == "" {
			return nil, nil, "", kerr("ValidationException", "KeyId is required for asymmetric decryption")
		}
		k, e := c.cryptoKey(keyRef, "keyId", action)
		if e != nil {
			return nil, nil, "", e
		}
		if k.usage != usageEncrypt || k.spec == specSymmetric {
			return nil, nil, "", errIncompatible(alg, k.spec)
		}
		h := oaepHash(alg)
		if h == nil {
			return nil, nil, "", errEnum("encryptionAlgorithm", alg)
		}
		priv, err := k.mat.signer()
		if err != nil {
			return nil, nil, "", errInternal()
		}
		pt, err := rsa.DecryptOAEP(h, nil, priv.(*rsa.PrivateKey), blob, nil)
		if err != nil {
			return nil, nil, "", kerr("InvalidCiphertextException", "")
		}
		return k, pt, alg, nil
	}
	h, ok := parseBlob(blob)
	var k *key
	if keyRef != "" {
		var e *apiError
		k, e = c.cryptoKey(keyRef, "keyId", action)
		if e != nil {
			return nil, nil, "", e
		}
		if k.spec != specSymmetric {
			return nil, nil, "", errIncompatible(specSymmetric, k.spec)
		}
		if !ok {
			return nil, nil, "", kerr("InvalidCiphertextException", "")
		}
		if h.id != k.id || h.account != k.account {
			return nil, nil, "", kerr("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
		}
	} else {
		if !ok {
			if ce := c.charge("", "", ""); ce != nil {
				return nil, nil, "", ce
			}
			return nil, nil, "", kerr("InvalidCiphertextException", "")
		}
		k = c.s.st.lookup(keyLoc{h.account, c.region, h.id}, c.now)
		if k == nil {
			if ce := c.charge("", "", ""); ce != nil {
				return nil, nil, "", ce
			}
			return nil, nil, "", kerr("InvalidCiphertextException", "")
		}
		if ce := c.chargeKey(k); ce != nil {
			return nil, nil, "", ce
		}
		if e := c.authorize(k, action); e != nil {
			return nil, nil, "", e
		}
		if e := k.usable(c.now); e != nil {
			return nil, nil, "", e
		}
	}
	pt, good := openSymmetric(k, h, blob, ctx)
	if !good {
		return nil, nil, "", kerr("InvalidCiphertextException", "")
	}
	return k, pt, "SYMMETRIC_DEFAULT", nil
}

type decryptIn struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	KeyId               string
	EncryptionAlgorithm string
	GrantTokens         []string
	DryRun              bool
}

type decryptOut struct {
	KeyId               string
	Plaintext           []byte
	EncryptionAlgorithm string
}

func opDecrypt(c *call, in *decryptIn) (any, *apiError) {
	k, pt, alg, e := c.decryptBlob(in.CiphertextBlob, in.KeyId, in.EncryptionContext, in.EncryptionAlgorithm, "Decrypt")
	if e != nil {
		return nil, e
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	return decryptOut{KeyId: k.arn, Plaintext: pt, EncryptionAlgorithm: alg}, nil
}

type reEncryptIn struct {
	CiphertextBlob                 []byte
	SourceEncryptionContext        map[string]string
	SourceKeyId                    string
	DestinationKeyId               string
	DestinationEncryptionContext   map[string]string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
	GrantTokens                    []string
	DryRun                         bool
}

type reEncryptOut struct {
	CiphertextBlob                 []byte
	SourceKeyId                    string
	KeyId                          string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
}

func opReEncrypt(c *call, in *reEncryptIn) (any, *apiError) {
	// The request is charged by the destination key, and by the source key
	// it decrypts with (quota.Request.Source) when that key can be found.
	if src := c.peekSource(in); src != nil {
		c.source = &quota.SourceKey{KeySpec: src.spec, CustomKeyStore: src.customKeyStore, CustomKeyStoreType: storeTypeOf(src)}
	}
	dst, e := c.cryptoKey(in.DestinationKeyId, "destinationKeyId", "ReEncryptTo")
	if e != nil {
		return nil, e
	}
	src, pt, srcAlg, e := c.decryptBlob(in.CiphertextBlob, in.SourceKeyId, in.SourceEncryptionContext, in.SourceEncryptionAlgorithm, "ReEncryptFrom")
	if e != nil {
		return nil, e
	}
	if e := checkContext(in.DestinationEncryptionContext); e != nil {
		return nil, e
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	ct, alg, e := encryptWith(dst, pt, in.DestinationEncryptionContext, in.DestinationEncryptionAlgorithm)
	if e != nil {
		return nil, e
	}
	return reEncryptOut{CiphertextBlob: ct, SourceKeyId: src.arn, KeyId: dst.arn, SourceEncryptionAlgorithm: srcAlg, DestinationEncryptionAlgorithm: alg}, nil
}

// peekSource finds the source key of a ReEncrypt, for its quota charge
// only: SourceKeyId when given, else the key named in a symmetric
// ciphertext's header. It checks nothing and charges nothing; nil when no
// key is found (decryptBlob then answers the error).
func (c *call) peekSource(in *reEncryptIn) *key {
	if in.SourceKeyId != "" {
		k, e := c.resolve(in.SourceKeyId, "sourceKeyId")
		if e != nil {
			return nil
		}
		return k
	}
	h, ok := parseBlob(in.CiphertextBlob)
	if !ok {
		return nil
	}
	return c.s.st.lookup(keyLoc{h.account, c.region, h.id}, c.now)
}

type dataKeyIn struct {
	KeyId             string
	EncryptionContext map[string]string
	NumberOfBytes     *int
	KeySpec           string
	GrantTokens       []string
	DryRun            bool
}

type dataKeyOut struct {
	CiphertextBlob []byte
	Plaintext      []byte `json:",omitempty"`
	KeyId          string
}

// generateDataKey serves GenerateDataKey and, without the plaintext in the
// answer, GenerateDataKeyWithoutPlaintext.
func generateDataKey(c *call, in *dataKeyIn, withPlaintext bool) (any, *apiError) {
	k, e := c.cryptoKey(in.KeyId, "keyId", c.op)
	if e != nil {
		return nil, e
	}
	n := 0
	switch {
	case in.NumberOfBytes != nil && in.KeySpec != "":
		return nil, kerr("ValidationException", "Please specify either number of bytes or key spec.")
	case in.NumberOfBytes != nil:
		n = *in.NumberOfBytes
		if n < 1 || n > maxDataKey {
			return nil, errRange("numberOfBytes", n, 1, maxDataKey)
		}
	case in.KeySpec == "AES_256":
		n = 32
	case in.KeySpec == "AES_128":
		n = 16
	case in.KeySpec != "":
		return nil, errEnum("keySpec", in.KeySpec)
	default:
		return nil, kerr("ValidationException", "Please specify either number of bytes or key spec.")
	}
	if k.spec != specSymmetric || k.usage != usageEncrypt {
		return nil, errUsage(k, c.op)
	}
	if e := checkContext(in.EncryptionContext); e != nil {
		return nil, e
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	pt := make([]byte, n)
	if _, err := rand.Read(pt); err != nil {
		return nil, errInternal()
	}
	ct, err := sealSymmetric(k, pt, in.EncryptionContext)
	if err != nil {
		return nil, errInternal()
	}
	out := dataKeyOut{CiphertextBlob: ct, KeyId: k.arn}
	if withPlaintext {
		out.Plaintext = pt
	}
	return out, nil
}

func opGenerateDataKey(c *call, in *dataKeyIn) (any, *apiError) {
	return generateDataKey(c, in, true)
}

func opGenerateDataKeyWithoutPlaintext(c *call, in *dataKeyIn) (any, *apiError) {
	return generateDataKey(c, in, false)
}

type randomIn struct {
	NumberOfBytes    *int
	CustomKeyStoreId string
}

type randomOut struct {
	Plaintext []byte
}

func opGenerateRandom(c *call, in *randomIn) (any, *apiError) {
	if e := c.charge("", in.CustomKeyStoreId, ""); e != nil {
		return nil, e
	}
	if in.NumberOfBytes == nil {
		return nil, errNull("numberOfBytes")
	}
	n := *in.NumberOfBytes
	if n < 1 || n > maxRandom {
		return nil, errRange("numberOfBytes", n, 1, maxRandom)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, errInternal()
	}
	return randomOut{Plaintext: b}, nil
}

type macIn struct {
	KeyId        string
	Message      []byte
	MacAlgorithm string
	Mac          []byte
	GrantTokens  []string
	DryRun       bool
}

type macOut struct {
	Mac          []byte `json:",omitempty"`
	MacValid     bool   `json:",omitempty"`
	MacAlgorithm string
	KeyId        string
}

// messageKey resolves the key of a MAC or signing request (GenerateMac,
// VerifyMac, Sign, Verify) and checks its message and its algorithm alg,
// named in the field algField: the key must have usage and its spec must
// support alg.
func (c *call) messageKey(ref string, msg []byte, alg, algField, usage string) (*key, *apiError) {
	k, e := c.cryptoKey(ref, "keyId", c.op)
	if e != nil {
		return nil, e
	}
	if e := checkBlob("message", msg, maxMessage); e != nil {
		return nil, e
	}
	if alg == "" {
		return nil, errNull(algField)
	}
	if !knownAlgorithm(usage, alg) {
		return nil, errEnum(algField, alg)
	}
	if k.usage != usage {
		return nil, errUsage(k, c.op)
	}
	if !contains(specs[k.spec].algorithms(usage), alg) {
		return nil, errIncompatible(alg, k.spec)
	}
	return k, nil
}

// knownAlgorithms holds, per usage, the algorithms some key spec supports:
// those KMS knows at all, whose values satisfy the API's enum. It is built
// once, not per request.
var knownAlgorithms = func() map[[2]string]bool {
	m := map[[2]string]bool{}
	for _, info := range specs {
		for _, u := range info.usages {
			for _, alg := range info.algorithms(u) {
				m[[2]string{u, alg}] = true
			}
		}
	}
	return m
}()

// knownAlgorithm reports whether alg is an algorithm of usage for some key
// spec.
func knownAlgorithm(usage, alg string) bool { return knownAlgorithms[[2]string{usage, alg}] }

// macKey checks a GenerateMac or VerifyMac request and returns its key.
func (c *call) macKey(in *macIn) (*key, *apiError) {
	k, e := c.messageKey(in.KeyId, in.Message, in.MacAlgorithm, "macAlgorithm", usageMac)
	if e != nil {
		return nil, e
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	return k, nil
}

func opGenerateMac(c *call, in *macIn) (any, *apiError) {
	k, e := c.macKey(in)
	if e != nil {
		return nil, e
	}
	return macOut{Mac: computeMac(k, in.Message), MacAlgorithm: in.MacAlgorithm, KeyId: k.arn}, nil
}

func opVerifyMac(c *call, in *macIn) (any, *apiError) {
	k, e := c.macKey(in)
	if e != nil {
		return nil, e
	}
	if in.Mac == nil {
		return nil, errNull("mac")
	}
	if subtle.ConstantTimeCompare(computeMac(k, in.Message), in.Mac) != 1 {
		return nil, kerr("KMSInvalidMacException", "")
	}
	return macOut{MacValid: true, MacAlgorithm: in.MacAlgorithm, KeyId: k.arn}, nil
}

type signIn struct {
	KeyId            string
	Message          []byte
	MessageType      string
	SigningAlgorithm string
	Signature        []byte
	GrantTokens      []string
	DryRun           bool
}

type signOut struct {
	KeyId            string
	Signature        []byte `json:",omitempty"`
	SignatureValid   bool   `json:",omitempty"`
	SigningAlgorithm string
}

// signSetup validates a Sign or Verify request and returns the key and
// the digest to sign.
func (c *call) signSetup(in *signIn) (*key, []byte, *apiError) {
	k, e := c.messageKey(in.KeyId, in.Message, in.SigningAlgorithm, "signingAlgorithm", usageSign)
	if e != nil {
		return nil, nil, e
	}
	h := signHash(in.SigningAlgorithm)
	var digest []byte
	switch in.MessageType {
	case "", "RAW":
		hh := h.New()
		hh.Write(in.Message)
		digest = hh.Sum(nil)
	case "DIGEST":
		if len(in.Message) != h.Size() {
			return nil, nil, kerr("ValidationException", "Digest is invalid length for algorithm %s.", in.SigningAlgorithm)
		}
		digest = in.Message
	default:
		return nil, nil, errEnum("messageType", in.MessageType)
	}
	if in.DryRun {
		return nil, nil, errDryRun()
	}
	return k, digest, nil
}

func opSign(c *call, in *signIn) (any, *apiError) {
	k, digest, e := c.signSetup(in)
	if e != nil {
		return nil, e
	}
	priv, err := k.mat.signer()
	if err != nil {
		return nil, errInternal()
	}
	sig, err := signDigest(priv, in.SigningAlgorithm, digest)
	if err != nil {
		return nil, errInternal()
	}
	return signOut{KeyId: k.arn, Signature: sig, SigningAlgorithm: in.SigningAlgorithm}, nil
}

func opVerify(c *call, in *signIn) (any, *apiError) {
	k, digest, e := c.signSetup(in)
	if e != nil {
		return nil, e
	}
	if in.Signature == nil {
		return nil, errNull("signature")
	}
	priv, err := k.mat.signer()
	if err != nil {
		return nil, errInternal()
	}
	if !verifyDigest(priv, in.SigningAlgorithm, digest, in.Signature) {
		return nil, kerr("KMSInvalidSignatureException", "")
	}
	return signOut{KeyId: k.arn, SignatureValid: true, SigningAlgorithm: in.SigningAlgorithm}, nil
}

type publicKeyOut struct {
	KeyId                  string
	PublicKey              []byte
	CustomerMasterKeySpec  string
	KeySpec                string
	KeyUsage               string
	EncryptionAlgorithms   []string `json:",omitempty"`
	SigningAlgorithms      []string `json:",omitempty"`
	KeyAgreementAlgorithms []string `json:",omitempty"`
}

func opGetPublicKey(c *call, in *keyIDIn, k *key) (any, *apiError) {
	if e := k.usable(c.now); e != nil {
		return nil, e
	}
	info := specs[k.spec]
	if info.rsaBits == 0 && info.curve == nil && !info.secp256k1 {
		return nil, kerr("UnsupportedOperationException", "%s key spec %s has no public key", k.arn, k.spec)
	}
	priv, err := k.mat.signer()
	if err != nil {
		return nil, errInternal()
	}
	der, err := publicDER(priv.Public())
	if err != nil {
		return nil, errInternal()
	}
	out := publicKeyOut{KeyId: k.arn, PublicKey: der, CustomerMasterKeySpec: k.spec, KeySpec: k.spec, KeyUsage: k.usage}
	switch k.usage {
	case usageEncrypt:
		out.EncryptionAlgorithms = info.encAlgs
	case usageAgree:
		out.KeyAgreementAlgorithms = info.agreeAlgs
	default:
		out.SigningAlgorithms = info.signAlgs
	}
	return out, nil
}
