package scenario

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kmsload/kmsload/quota"
)

// KMS operations a workload can call.
const (
	OpEncrypt                             = "Encrypt"
	OpDecrypt                             = "Decrypt"
	OpReEncrypt                           = "ReEncrypt"
	OpGenerateDataKey                     = "GenerateDataKey"
	OpGenerateDataKeyWithoutPlaintext     = "GenerateDataKeyWithoutPlaintext"
	OpGenerateDataKeyPair                 = "GenerateDataKeyPair"
	OpGenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext"
	OpGenerateRandom                      = "GenerateRandom"
	OpGenerateMac                         = "GenerateMac"
	OpVerifyMac                           = "VerifyMac"
	OpSign                                = "Sign"
	OpVerify                              = "Verify"
	OpDescribeKey                         = "DescribeKey"
)

// Key usages (KMS KeyUsage values).
const (
	UsageEncryptDecrypt         = "ENCRYPT_DECRYPT"
	UsageSignVerify             = "SIGN_VERIFY"
	UsageGenerateVerifyMac      = "GENERATE_VERIFY_MAC"
	UsageKeyAgreement           = "KEY_AGREEMENT"
	UsageEncapsulateDecapsulate = "ENCAPSULATE_DECAPSULATE"
)

// Custom key store types (KMS's CustomKeyStoreType values).
const (
	StoreCloudHSM = quota.StoreCloudHSM
	StoreExternal = quota.StoreExternal
)

// SpecSymmetricDefault is the KeySpec of a symmetric encryption key.
const SpecSymmetricDefault = "SYMMETRIC_DEFAULT"

var operations = []string{
	OpEncrypt, OpDecrypt, OpReEncrypt, OpGenerateDataKey,
	OpGenerateDataKeyWithoutPlaintext, OpGenerateDataKeyPair, OpGenerateDataKeyPairWithoutPlaintext,
	OpGenerateRandom, OpGenerateMac, OpVerifyMac, OpSign, OpVerify, OpDescribeKey,
}

// DefaultKeyPairSpec is the data key pair spec of a GenerateDataKeyPair
// workload that names none.
const DefaultKeyPairSpec = "RSA_2048"

// Operations returns the KMS operations a workload may name, in a fixed
// order.
func Operations() []string { return append([]string(nil), operations...) }

// IsOperation reports whether op is a KMS operation a workload may name.
func IsOperation(op string) bool { return slices.Contains(operations, op) }

// keySpecs maps every KeySpec the loader accepts to the usages KMS allows
// for it; the first usage is the default.
var keySpecs = map[string][]string{
	SpecSymmetricDefault:    {UsageEncryptDecrypt},
	"RSA_2048":              {UsageEncryptDecrypt, UsageSignVerify},
	"RSA_3072":              {UsageEncryptDecrypt, UsageSignVerify},
	"RSA_4096":              {UsageEncryptDecrypt, UsageSignVerify},
	"ECC_NIST_P256":         {UsageSignVerify, UsageKeyAgreement},
	"ECC_NIST_P384":         {UsageSignVerify, UsageKeyAgreement},
	"ECC_NIST_P521":         {UsageSignVerify, UsageKeyAgreement},
	"ECC_SECG_P256K1":       {UsageSignVerify, UsageKeyAgreement},
	"ECC_NIST_EDWARDS25519": {UsageSignVerify},
	"HMAC_224":              {UsageGenerateVerifyMac},
	"HMAC_256":              {UsageGenerateVerifyMac},
	"HMAC_384":              {UsageGenerateVerifyMac},
	"HMAC_512":              {UsageGenerateVerifyMac},
	"SM2":                   {UsageEncryptDecrypt, UsageSignVerify, UsageKeyAgreement},
	"ML_DSA_44":             {UsageSignVerify},
	"ML_DSA_65":             {UsageSignVerify},
	"ML_DSA_87":             {UsageSignVerify},
	"ML_KEM_512":            {UsageEncapsulateDecapsulate},
	"ML_KEM_768":            {UsageEncapsulateDecapsulate},
	"ML_KEM_1024":           {UsageEncapsulateDecapsulate},
}

var allUsages = []string{
	UsageEncryptDecrypt, UsageSignVerify, UsageGenerateVerifyMac,
	UsageKeyAgreement, UsageEncapsulateDecapsulate,
}

func sortedSpecs() []string {
	out := make([]string, 0, len(keySpecs))
	for s := range keySpecs {
		out = append(out, s)
	}
	sortStrings(out)
	return out
}

// DefaultUsage returns the KeyUsage a key of the given spec gets when the
// file names none: ENCRYPT_DECRYPT for SYMMETRIC_DEFAULT, RSA and SM2,
// SIGN_VERIFY for ECC and ML-DSA, GENERATE_VERIFY_MAC for HMAC. It returns
// "" for an unknown spec.
func DefaultUsage(spec string) string {
	u := keySpecs[spec]
	if len(u) == 0 {
		return ""
	}
	return u[0]
}

// KeyRequired reports whether op acts on a key (every operation except
// GenerateRandom).
func KeyRequired(op string) bool { return op != OpGenerateRandom }

// TakesEncryptionContext reports whether op sends an encryption context.
func TakesEncryptionContext(op string) bool {
	switch op {
	case OpEncrypt, OpDecrypt, OpReEncrypt, OpGenerateDataKey, OpGenerateDataKeyWithoutPlaintext,
		OpGenerateDataKeyPair, OpGenerateDataKeyPairWithoutPlaintext:
		return true
	}
	return false
}

// CanPerform reports whether a key of the given spec and usage can serve op.
// When it cannot, the returned string explains what op needs.
func CanPerform(spec, usage, op string) (bool, string) {
	switch op {
	case OpDescribeKey:
		return true, ""
	case OpGenerateRandom:
		return false, "GenerateRandom takes no key"
	case OpSign, OpVerify:
		if spec != SpecSymmetricDefault && usage == UsageSignVerify {
			return true, ""
		}
		return false, op + " needs an asymmetric key with usage SIGN_VERIFY"
	case OpEncrypt, OpDecrypt, OpReEncrypt:
		if spec == SpecSymmetricDefault || (strings.HasPrefix(spec, "RSA_") && usage == UsageEncryptDecrypt) {
			return true, ""
		}
		return false, op + " needs a SYMMETRIC_DEFAULT key or an RSA key with usage ENCRYPT_DECRYPT"
	case OpGenerateDataKey, OpGenerateDataKeyWithoutPlaintext, OpGenerateDataKeyPair, OpGenerateDataKeyPairWithoutPlaintext:
		if spec == SpecSymmetricDefault {
			return true, ""
		}
		return false, op + " needs a SYMMETRIC_DEFAULT key"
	case OpGenerateMac, OpVerifyMac:
		if strings.HasPrefix(spec, "HMAC_") && usage == UsageGenerateVerifyMac {
			return true, ""
		}
		return false, op + " needs an HMAC key (HMAC_224, HMAC_256, HMAC_384 or HMAC_512)"
	}
	return false, "unknown operation " + op
}

// payloadLimit is the largest payload_bytes op accepts (0 = payload unused).
func payloadLimit(op string) int {
	switch op {
	case OpGenerateDataKey, OpGenerateDataKeyWithoutPlaintext, OpGenerateRandom:
		return 1024
	case OpEncrypt, OpDecrypt, OpReEncrypt, OpSign, OpVerify, OpGenerateMac, OpVerifyMac:
		return 4096
	}
	return 0
}

var (
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)
	accountRE = regexp.MustCompile(`^\d{12}$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	aliasRE   = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]+$`)
	keyARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key/([A-Za-z0-9-]+)$`)
	roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+$`)
	viaRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	xksRE     = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,128}$`) // CreateKey's XksKeyId
)

// ValidRegion reports whether r looks like an AWS Region name such as
// us-east-1, eu-west-2 or us-gov-west-1.
func ValidRegion(r string) bool { return regionRE.MatchString(r) }

// KeyARN is a key's ARN taken apart.
type KeyARN struct{ ARN, Region, Account, ID string }

// ParseKeyARN reads a key ARN, arn:aws:kms:REGION:ACCOUNT:key/ID.
func ParseKeyARN(arn string) (KeyARN, error) {
	m := keyARNRE.FindStringSubmatch(arn)
	if m == nil {
		return KeyARN{}, fmt.Errorf("%q is not a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)", clip(arn))
	}
	return KeyARN{ARN: arn, Region: m[1], Account: m[2], ID: m[3]}, nil
}

// ValidVia reports whether v is a valid workload via: an AWS service's
// short name such as s3.
func ValidVia(v string) bool { return viaRE.MatchString(v) }
