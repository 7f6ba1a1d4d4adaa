package driver

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/scenario"
)

// needsPool reports whether op draws from a pool prepared in provisioning.
func needsPool(op string) bool {
	switch op {
	case "Decrypt", "ReEncrypt", "VerifyMac", "Verify":
		return true
	}
	return false
}

// symmetric reports whether spec is a symmetric encryption key spec (the
// only kind that takes an encryption context).
func symmetric(spec string) bool { return spec == "" || spec == "SYMMETRIC_DEFAULT" }

// encryptionAlgorithm is the algorithm for Encrypt/Decrypt with spec ("" =
// the symmetric default).
func encryptionAlgorithm(spec string) types.EncryptionAlgorithmSpec {
	switch {
	case strings.HasPrefix(spec, "RSA_"):
		return types.EncryptionAlgorithmSpecRsaesOaepSha256
	case spec == "SM2":
		return types.EncryptionAlgorithmSpecSm2pke
	}
	return ""
}

// signingAlgorithm is the algorithm Sign/Verify use with spec.
func signingAlgorithm(spec string) types.SigningAlgorithmSpec {
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

// macAlgorithm is the algorithm GenerateMac/VerifyMac use with spec.
func macAlgorithm(spec string) types.MacAlgorithmSpec {
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

// keyARN returns the ARN of key id owned by account in region.
func keyARN(region, account, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

// aliasARN returns the ARN of alias ("alias/name") owned by account in region.
func aliasARN(region, account, alias string) string {
	return "arn:aws:kms:" + region + ":" + account + ":" + alias
}

// keyRef returns how a request in region names the key of w whose id is
// id: multi-Region replicas keep the key id, so only the Region changes.
func (w *workload) keyRef(region, id string) string {
	switch w.KeyRef {
	case scenario.KeyRefARN:
		return keyARN(region, w.Owner.ID, id)
	case scenario.KeyRefAlias:
		return w.Key.Alias
	case scenario.KeyRefAliasARN:
		return aliasARN(region, w.Owner.ID, w.Key.Alias)
	}
	return id
}

// pool holds items prepared before the measured window; draws go round
// robin and are safe for concurrent use.
type pool struct {
	items []poolItem
	next  atomic.Uint64
}

// poolItem is one ciphertext, or one message with its MAC or signature.
type poolItem struct {
	message []byte // plaintext message of a MAC or signature
	blob    []byte // ciphertext, MAC or signature
}

func (p *pool) draw() poolItem {
	n := p.next.Add(1) - 1
	return p.items[n%uint64(len(p.items))]
}

// call is one request of a workload: the operation with its arguments,
// bound to a client and a key reference.
type call func(ctx context.Context) error

// newCall binds w's operation to client and key reference ref. payload is
// the plaintext or message of the workload; p is its pool (nil when the
// operation needs none).
func (w *workload) newCall(client *kms.Client, ref string, payload []byte, p *pool) call {
	spec := w.Key.Spec
	var ec map[string]string
	if symmetric(spec) && len(w.Spec.EncryptionContext) > 0 {
		ec = w.Spec.EncryptionContext
	}
	keyID := aws.String(ref)
	n := aws.Int32(int32(w.PayloadBytes))
	switch w.Spec.Operation {
	case "Encrypt":
		return func(ctx context.Context) error {
			_, err := client.Encrypt(ctx, &kms.EncryptInput{
				KeyId: keyID, Plaintext: payload, EncryptionContext: ec,
				EncryptionAlgorithm: encryptionAlgorithm(spec),
			})
			return err
		}
	case "Decrypt":
		return func(ctx context.Context) error {
			_, err := client.Decrypt(ctx, &kms.DecryptInput{
				KeyId: keyID, CiphertextBlob: p.draw().blob, EncryptionContext: ec,
				EncryptionAlgorithm: encryptionAlgorithm(spec),
			})
			return err
		}
	case "ReEncrypt":
		return func(ctx context.Context) error {
			alg := encryptionAlgorithm(spec)
			_, err := client.ReEncrypt(ctx, &kms.ReEncryptInput{
				CiphertextBlob: p.draw().blob, SourceKeyId: keyID, DestinationKeyId: keyID,
				SourceEncryptionContext: ec, DestinationEncryptionContext: ec,
				SourceEncryptionAlgorithm: alg, DestinationEncryptionAlgorithm: alg,
			})
			return err
		}
	case "GenerateDataKey":
		in := &kms.GenerateDataKeyInput{KeyId: keyID, EncryptionContext: ec}
		if w.PayloadBytes == scenario.DefaultPayloadBytes {
			in.KeySpec = types.DataKeySpecAes256
		} else {
			in.NumberOfBytes = n
		}
		return func(ctx context.Context) error {
			_, err := client.GenerateDataKey(ctx, in)
			return err
		}
	case "GenerateDataKeyWithoutPlaintext":
		in := &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: keyID, EncryptionContext: ec}
		if w.PayloadBytes == scenario.DefaultPayloadBytes {
			in.KeySpec = types.DataKeySpecAes256
		} else {
			in.NumberOfBytes = n
		}
		return func(ctx context.Context) error {
			_, err := client.GenerateDataKeyWithoutPlaintext(ctx, in)
			return err
		}
	case "GenerateRandom":
		return func(ctx context.Context) error {
			_, err := client.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: n})
			return err
		}
	case "GenerateMac":
		return func(ctx context.Context) error {
			_, err := client.GenerateMac(ctx, &kms.GenerateMacInput{
				KeyId: keyID, Message: payload, MacAlgorithm: macAlgorithm(spec),
			})
			return err
		}
	case "VerifyMac":
		return func(ctx context.Context) error {
			it := p.draw()
			_, err := client.VerifyMac(ctx, &kms.VerifyMacInput{
				KeyId: keyID, Message: it.message, Mac: it.blob, MacAlgorithm: macAlgorithm(spec),
			})
			return err
		}
	case "Sign":
		return func(ctx context.Context) error {
			_, err := client.Sign(ctx, &kms.SignInput{
				KeyId: keyID, Message: payload, MessageType: types.MessageTypeRaw,
				SigningAlgorithm: signingAlgorithm(spec),
			})
			return err
		}
	case "Verify":
		return func(ctx context.Context) error {
			it := p.draw()
			_, err := client.Verify(ctx, &kms.VerifyInput{
				KeyId: keyID, Message: it.message, Signature: it.blob, MessageType: types.MessageTypeRaw,
				SigningAlgorithm: signingAlgorithm(spec),
			})
			return err
		}
	default: // DescribeKey
		return func(ctx context.Context) error {
			_, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: keyID})
			return err
		}
	}
}
