package kmscall

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/scenario"
)

// Symmetric reports whether spec is a symmetric encryption key spec (the
// only kind that takes an encryption context); "" is the default spec.
func Symmetric(spec string) bool { return spec == "" || spec == "SYMMETRIC_DEFAULT" }

// EncryptionContext is the encryption context w's requests send: the
// workload's, on a symmetric encryption key only (nil otherwise).
func EncryptionContext(w *scenario.ResolvedWorkload) map[string]string {
	if Symmetric(w.Key.Spec) && len(w.Spec.EncryptionContext) > 0 {
		return w.Spec.EncryptionContext
	}
	return nil
}

// EncryptionAlgorithm is the algorithm of Encrypt and Decrypt with a key
// of spec ("" = the symmetric default).
func EncryptionAlgorithm(spec string) types.EncryptionAlgorithmSpec {
	switch {
	case strings.HasPrefix(spec, "RSA_"):
		return types.EncryptionAlgorithmSpecRsaesOaepSha256
	case spec == "SM2":
		return types.EncryptionAlgorithmSpecSm2pke
	}
	return ""
}

// SigningAlgorithm is the algorithm Sign and Verify use with a key of spec.
func SigningAlgorithm(spec string) types.SigningAlgorithmSpec {
	switch {
	case strings.HasPrefix(spec, "RSA_"):
		return types.SigningAlgorithmSpecRsassaPssSha256
	case spec == "ECC_NIST_P384":
		return types.SigningAlgorithmSpecEcdsaSha384
	case spec == "ECC_NIST_P521":
		return types.SigningAlgorithmSpecEcdsaSha512
	case spec == "SM2":
		return types.SigningAlgorithmSpecSm2dsa
	case strings.HasPrefix(spec, "ML_DSA_"):
		return types.SigningAlgorithmSpecMlDsaShake256
	}
	return types.SigningAlgorithmSpecEcdsaSha256
}

// MacAlgorithm is the algorithm GenerateMac and VerifyMac use with a key
// of spec.
func MacAlgorithm(spec string) types.MacAlgorithmSpec {
	switch spec {
	case "HMAC_224":
		return types.MacAlgorithmSpecHmacSha224
	case "HMAC_384":
		return types.MacAlgorithmSpecHmacSha384
	case "HMAC_512":
		return types.MacAlgorithmSpecHmacSha512
	}
	return types.MacAlgorithmSpecHmacSha256
}
