package quota

import "strings"

// Class names the kind of bucket a request counts against: one of the
// cryptographic classes below, a management API's own bucket ([APIClass]) or
// a custom key store's bucket ([StoreClass]).
type Class string

// Cryptographic bucket classes. Each is a separate bucket per caller account
// per Region.
const (
	// Symmetric is the shared bucket of Encrypt, Decrypt, ReEncrypt,
	// GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom,
	// GenerateMac and VerifyMac on symmetric and HMAC keys.
	Symmetric Class = "symmetric"
	// RSA is the shared bucket of cryptographic operations with RSA keys.
	RSA Class = "rsa"
	// ECC is the shared bucket of cryptographic operations with ECC and SM2 keys.
	ECC Class = "ecc"
	// MLDSA is the shared bucket of cryptographic operations with ML-DSA keys.
	MLDSA Class = "ml-dsa"
)

const (
	apiPrefix   = "api:"
	storePrefix = "cks:"
	pairPrefix  = "pair:"
	keyPrefix   = "key:"
)

// APIClass returns the class of a management API's own bucket:
// Class("api:" + op).
func APIClass(op string) Class { return Class(apiPrefix + op) }

// StoreClass returns the class of a custom key store's bucket:
// Class("cks:" + storeID).
func StoreClass(storeID string) Class { return Class(storePrefix + storeID) }

// PairClass returns the class of the bucket of the data key pairs of one
// key pair spec (GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext
// share it): Class("pair:" + spec).
func PairClass(spec string) Class { return Class(pairPrefix + spec) }

// Pair returns the key pair spec of a [PairClass] class and whether c is one.
func (c Class) Pair() (string, bool) { return strings.CutPrefix(string(c), pairPrefix) }

// KeyChangeClass returns the class of one key's bucket of state changes
// ([Model.AllowKeyChange]): Class("key:" + keyID).
func KeyChangeClass(keyID string) Class { return Class(keyPrefix + keyID) }

// KeyChange returns the key id of a [KeyChangeClass] class and whether c
// is one.
func (c Class) KeyChange() (string, bool) { return strings.CutPrefix(string(c), keyPrefix) }

// keyStateChanges are the operations that change one key's state, which
// KMS throttles per key when they come in a volley ("hot key").
var keyStateChanges = map[string]bool{
	"EnableKey": true, "DisableKey": true, "ScheduleKeyDeletion": true, "CancelKeyDeletion": true,
	"EnableKeyRotation": true, "DisableKeyRotation": true,
}

// IsKeyStateChange reports whether op changes one key's state and is
// charged to the key's bucket of state changes as well as to its API's.
func IsKeyStateChange(op string) bool { return keyStateChanges[op] }

// Second reports whether a bucket of class c is the second bucket of the
// requests charged to it, checked after the caller's class bucket (see
// [BucketsOf]): a custom key store's or a data key pair spec's.
func (c Class) Second() bool {
	return strings.HasPrefix(string(c), storePrefix) || strings.HasPrefix(string(c), pairPrefix)
}

// API returns the operation of an [APIClass] class and whether c is one.
func (c Class) API() (string, bool) { return strings.CutPrefix(string(c), apiPrefix) }

// Store returns the key store id of a [StoreClass] class and whether c is one.
func (c Class) Store() (string, bool) { return strings.CutPrefix(string(c), storePrefix) }

// KeyClass returns the cryptographic class of a KMS KeySpec:
// SYMMETRIC_DEFAULT and HMAC_* are [Symmetric], RSA_* is [RSA], ECC_* and SM2
// are [ECC], ML_DSA_* is [MLDSA]. An empty or unknown spec is [Symmetric],
// the class of GenerateRandom and of every key without a spec.
func KeyClass(keySpec string) Class {
	switch {
	case strings.HasPrefix(keySpec, "RSA_"):
		return RSA
	case strings.HasPrefix(keySpec, "ECC_"), keySpec == "SM2":
		return ECC
	case strings.HasPrefix(keySpec, "ML_DSA_"):
		return MLDSA
	default:
		return Symmetric
	}
}

// BucketKey identifies one quota bucket. Store buckets have an empty Account:
// a custom key store's quota is shared by every caller.
type BucketKey struct {
	Account string
	Region  string
	Class   Class
}

// String returns "account/region/class", with "-" for an empty account.
func (k BucketKey) String() string {
	a := k.Account
	if a == "" {
		a = "-"
	}
	return a + "/" + k.Region + "/" + string(k.Class)
}

// Request is one KMS call to charge.
type Request struct {
	// Account is the caller's account (12 digits). Cross-account calls are
	// charged to the caller, not to the key owner.
	Account string
	// Region is the Region the request is made in (for multi-Region keys,
	// where the call is made, not where the primary key lives).
	Region string
	// Operation is the KMS API name, e.g. "GenerateDataKey", "CreateKey", "Sign".
	Operation string
	// KeySpec is the KeySpec of the key used by a cryptographic operation, ""
	// when there is none (GenerateRandom).
	KeySpec string
	// KeyPairSpec is the data key pair spec of GenerateDataKeyPair and
	// GenerateDataKeyPairWithoutPlaintext (RSA_2048, ECC_NIST_P256, ...): it,
	// not KeySpec, decides their buckets (see [BucketsOf]).
	KeyPairSpec string
	// CustomKeyStore is the id of the custom key store holding the key, "" if none.
	CustomKeyStore string
	// CustomKeyStoreType is the type of that store: StoreCloudHSM ("" is
	// taken as it) or StoreExternal. It decides the request's weight in
	// the store's bucket (Config.StoreWeight).
	CustomKeyStoreType string
	// Source is the source key of a ReEncrypt (nil for every other
	// operation): KMS decrypts with it, so with
	// Config.ReEncryptChargesSource its buckets are charged too, those
	// the destination key's do not already cover.
	Source *SourceKey
}

// SourceKey is the key a ReEncrypt decrypts with.
type SourceKey struct {
	KeySpec            string
	CustomKeyStore     string
	CustomKeyStoreType string
}

// Custom key store types (KMS's CustomKeyStoreType values).
const (
	StoreCloudHSM = "AWS_CLOUDHSM"
	StoreExternal = "EXTERNAL_KEY_STORE"
)

// Charge is one bucket a request counts against and its weight there.
type Charge struct {
	Key    BucketKey
	Weight float64
}

// cryptoOps are the operations charged to a cryptographic class bucket (and
// to a custom key store's bucket); every other operation has its own bucket.
var cryptoOps = map[string]bool{
	"Encrypt":                             true,
	"Decrypt":                             true,
	"ReEncrypt":                           true,
	"GenerateDataKey":                     true,
	"GenerateDataKeyWithoutPlaintext":     true,
	"GenerateDataKeyPair":                 true,
	"GenerateDataKeyPairWithoutPlaintext": true,
	"GenerateRandom":                      true,
	"GenerateMac":                         true,
	"VerifyMac":                           true,
	"Sign":                                true,
	"Verify":                              true,
	"DeriveSharedSecret":                  true,
}

// IsDataKeyPair reports whether op generates a data key pair
// (GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext).
func IsDataKeyPair(op string) bool {
	return op == "GenerateDataKeyPair" || op == "GenerateDataKeyPairWithoutPlaintext"
}

// IsCryptographic reports whether op is charged to a cryptographic class
// bucket rather than to a bucket of its own.
func IsCryptographic(op string) bool { return cryptoOps[op] }

// knownAPIs lists the KMS operations that are not cryptographic; a
// configuration naming another API is rejected as a likely typo.
var knownAPIs = map[string]bool{
	"CancelKeyDeletion": true, "ConnectCustomKeyStore": true, "CreateAlias": true,
	"CreateCustomKeyStore": true, "CreateGrant": true, "CreateKey": true,
	"DeleteAlias": true, "DeleteCustomKeyStore": true, "DeleteImportedKeyMaterial": true,
	"DescribeCustomKeyStores": true, "DescribeKey": true, "DisableKey": true,
	"DisableKeyRotation": true, "DisconnectCustomKeyStore": true, "EnableKey": true,
	"EnableKeyRotation": true, "GetKeyPolicy": true, "GetKeyRotationStatus": true,
	"GetParametersForImport": true, "GetPublicKey": true, "ImportKeyMaterial": true,
	"ListAliases": true, "ListGrants": true, "ListKeyPolicies": true,
	"ListKeyRotations": true, "ListKeys": true, "ListResourceTags": true,
	"ListRetirableGrants": true, "PutKeyPolicy": true, "ReplicateKey": true,
	"RetireGrant": true, "RevokeGrant": true, "RotateKeyOnDemand": true,
	"ScheduleKeyDeletion": true, "TagResource": true, "UntagResource": true,
	"UpdateAlias": true, "UpdateCustomKeyStore": true, "UpdateKeyDescription": true,
	"UpdatePrimaryRegion": true,
}

// ParseBucketKey reads a bucket name made by [BucketKey.String] back into
// its key ("-" is the empty account of a store bucket). ok is false when
// name does not have the three parts account/region/class.
func ParseBucketKey(name string) (k BucketKey, ok bool) {
	account, rest, ok1 := strings.Cut(name, "/")
	region, class, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || class == "" {
		return BucketKey{}, false
	}
	if account == "-" {
		account = ""
	}
	return BucketKey{Account: account, Region: region, Class: Class(class)}, true
}

// BucketsOf returns the keys of the buckets r counts against, in the order
// a [Model] checks them: first the caller's class bucket for a
// cryptographic operation (class from r.KeySpec) or the operation's own
// bucket for every other API; then, for a cryptographic operation on a key
// in a custom key store, the store's bucket (hasStore true). A data key
// pair (r.KeyPairSpec set) is charged to the caller's asymmetric bucket of
// its pair spec (the RSA or ECC bucket, which Sign and Verify share), then
// to the caller's bucket of that pair spec ([PairClass]) in the second
// place (hasStore true): KMS does not generate data key pairs under keys
// in a custom key store.
func BucketsOf(r Request) (first, store BucketKey, hasStore bool) {
	if !cryptoOps[r.Operation] {
		return BucketKey{Account: r.Account, Region: r.Region, Class: APIClass(r.Operation)}, BucketKey{}, false
	}
	if IsDataKeyPair(r.Operation) && r.KeyPairSpec != "" {
		return BucketKey{Account: r.Account, Region: r.Region, Class: KeyClass(r.KeyPairSpec)},
			BucketKey{Account: r.Account, Region: r.Region, Class: PairClass(r.KeyPairSpec)}, true
	}
	first = BucketKey{Account: r.Account, Region: r.Region, Class: KeyClass(r.KeySpec)}
	if r.CustomKeyStore == "" {
		return first, BucketKey{}, false
	}
	return first, BucketKey{Region: r.Region, Class: StoreClass(r.CustomKeyStore)}, true
}
