package compat

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// newKey creates a key as the owner.
func (e *env) newKey(in *kms.CreateKeyInput) (*types.KeyMetadata, error) {
	if in == nil {
		in = &kms.CreateKeyInput{}
	}
	out, err := e.owner.CreateKey(e.ctx, in)
	if err != nil {
		return nil, must("CreateKey", err)
	}
	return out.KeyMetadata, nil
}

// twoKeys creates two symmetric keys and returns them with a ciphertext of
// "x" under the first.
func (e *env) twoKeys() (a, b *types.KeyMetadata, blob []byte, err error) {
	if a, err = e.newKey(nil); err != nil {
		return nil, nil, nil, err
	}
	if b, err = e.newKey(nil); err != nil {
		return nil, nil, nil, err
	}
	enc, err := e.owner.Encrypt(e.ctx, &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("x")})
	if err != nil {
		return nil, nil, nil, must("Encrypt", err)
	}
	return a, b, enc.CiphertextBlob, nil
}

// keyCheck is a check about operation op on a fresh key of the owner,
// made with in (nil: a symmetric encryption key).
func keyCheck(op, name string, in *kms.CreateKeyInput, f func(e *env, md *types.KeyMetadata) error) Check {
	return Check{op, name, func(e *env) error {
		var cp *kms.CreateKeyInput
		if in != nil {
			c := *in
			cp = &c
		}
		md, err := e.newKey(cp)
		if err != nil {
			return err
		}
		return f(e, md)
	}}
}

// Suite returns the checks, grouped by operation.
func Suite() []Check {
	var s []Check
	for _, group := range [][]Check{keyChecks(), cryptoChecks(), dataKeyChecks(), asymChecks(), lifecycleChecks(), importChecks(), aliasTagChecks(), accessChecks()} {
		s = append(s, group...)
	}
	return s
}

func keyChecks() []Check {
	return []Check{
		keyCheck("CreateKey", "symmetric key metadata", nil, func(e *env, md *types.KeyMetadata) error {
			switch {
			case md.KeyState != types.KeyStateEnabled || !md.Enabled:
				return fmt.Errorf("KeyState %s, Enabled %v; want Enabled", md.KeyState, md.Enabled)
			case md.KeySpec != types.KeySpecSymmetricDefault || md.KeyUsage != types.KeyUsageTypeEncryptDecrypt:
				return fmt.Errorf("KeySpec %s KeyUsage %s; want SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT", md.KeySpec, md.KeyUsage)
			case md.Origin != types.OriginTypeAwsKms || md.KeyManager != types.KeyManagerTypeCustomer:
				return fmt.Errorf("Origin %s KeyManager %s; want AWS_KMS, CUSTOMER", md.Origin, md.KeyManager)
			case !slices.Equal(md.EncryptionAlgorithms, []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecSymmetricDefault}):
				return fmt.Errorf("EncryptionAlgorithms %v; want [SYMMETRIC_DEFAULT]", md.EncryptionAlgorithms)
			case aws.ToString(md.Arn) != "arn:aws:kms:"+Region+":"+Owner+":key/"+aws.ToString(md.KeyId):
				return fmt.Errorf("Arn %s; want the key ARN of account %s in %s", aws.ToString(md.Arn), Owner, Region)
			case aws.ToString(md.AWSAccountId) != Owner || md.CreationDate == nil || md.MultiRegion == nil:
				return fmt.Errorf("AWSAccountId %s CreationDate %v MultiRegion %v; want all present", aws.ToString(md.AWSAccountId), md.CreationDate, md.MultiRegion)
			}
			return nil
		}),
		{"CreateKey", "unknown KeySpec: ValidationException", func(e *env) error {
			_, err := e.owner.CreateKey(e.ctx, &kms.CreateKeyInput{KeySpec: "RSA_1024"})
			return wantCode(err, "ValidationException")
		}},
		keyCheck("CreateKey", "HMAC key gives MacAlgorithms", &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac}, func(e *env, md *types.KeyMetadata) error {
			if !slices.Equal(md.MacAlgorithms, []types.MacAlgorithmSpec{types.MacAlgorithmSpecHmacSha256}) {
				return fmt.Errorf("MacAlgorithms %v; want [HMAC_SHA_256]", md.MacAlgorithms)
			}
			return nil
		}),
		keyCheck("CreateKey", "multi-Region key id mrk-", &kms.CreateKeyInput{MultiRegion: aws.Bool(true)}, func(e *env, md *types.KeyMetadata) error {
			if !strings.HasPrefix(aws.ToString(md.KeyId), "mrk-") || !aws.ToBool(md.MultiRegion) || md.MultiRegionConfiguration == nil ||
				md.MultiRegionConfiguration.MultiRegionKeyType != types.MultiRegionKeyTypePrimary {
				return fmt.Errorf("KeyId %s MultiRegion %v config %+v; want mrk-, true, PRIMARY", aws.ToString(md.KeyId), md.MultiRegion, md.MultiRegionConfiguration)
			}
			return nil
		}),
		keyCheck("CreateKey", "origin EXTERNAL waits in PendingImport", &kms.CreateKeyInput{Origin: types.OriginTypeExternal}, func(e *env, md *types.KeyMetadata) error {
			if md.KeyState != types.KeyStatePendingImport || md.Origin != types.OriginTypeExternal {
				return fmt.Errorf("KeyState %s Origin %s; want PendingImport, EXTERNAL", md.KeyState, md.Origin)
			}
			return nil
		}),
		{"DescribeKey", "unknown key: NotFoundException", func(e *env) error {
			_, err := e.owner.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")})
			return wantCode(err, "NotFoundException")
		}},
		keyCheck("GetParametersForImport", "AWS_KMS key: UnsupportedOperationException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: md.KeyId,
				WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
			return wantCode(err, "UnsupportedOperationException")
		}),
		keyCheck("GetParametersForImport", "EXTERNAL key: token and wrapping key", &kms.CreateKeyInput{Origin: types.OriginTypeExternal}, func(e *env, md *types.KeyMetadata) error {
			out, err := e.owner.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: md.KeyId,
				WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
			if err != nil {
				return must("GetParametersForImport", err)
			}
			if len(out.ImportToken) == 0 || len(out.PublicKey) == 0 || out.ParametersValidTo == nil {
				return fmt.Errorf("ImportToken %d bytes, PublicKey %d bytes, ParametersValidTo %v; want all", len(out.ImportToken), len(out.PublicKey), out.ParametersValidTo)
			}
			return nil
		}),
	}
}

func cryptoChecks() []Check {
	return []Check{
		keyCheck("Encrypt", "round trip with encryption context", nil, func(e *env, md *types.KeyMetadata) error {
			ec := map[string]string{"app": "compat"}
			enc, err := e.owner.Encrypt(e.ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("secret"), EncryptionContext: ec})
			if err != nil {
				return must("Encrypt", err)
			}
			if aws.ToString(enc.KeyId) != aws.ToString(md.Arn) || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
				return fmt.Errorf("KeyId %s EncryptionAlgorithm %s; want the key ARN, SYMMETRIC_DEFAULT", aws.ToString(enc.KeyId), enc.EncryptionAlgorithm)
			}
			dec, err := e.owner.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
			if err != nil || string(dec.Plaintext) != "secret" {
				return first(must("Decrypt", err), fmt.Errorf("Decrypt gave %q", dec.Plaintext))
			}
			return nil
		}),
		keyCheck("Encrypt", "plaintext over 4096 bytes: ValidationException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.Encrypt(e.ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: make([]byte, 4097)})
			return wantCode(err, "ValidationException")
		}),
		keyCheck("Encrypt", "disabled key: DisabledException", nil, func(e *env, md *types.KeyMetadata) error {
			if _, err := e.owner.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: md.KeyId}); err != nil {
				return must("DisableKey", err)
			}
			_, err := e.owner.Encrypt(e.ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
			return wantCode(err, "DisabledException")
		}),
		keyCheck("Decrypt", "wrong encryption context: InvalidCiphertextException", nil, func(e *env, md *types.KeyMetadata) error {
			enc, err := e.owner.Encrypt(e.ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x"), EncryptionContext: map[string]string{"a": "1"}})
			if err != nil {
				return must("Encrypt", err)
			}
			_, err = e.owner.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"a": "2"}})
			return wantCode(err, "InvalidCiphertextException")
		}),
		{"Decrypt", "another key named: IncorrectKeyException", func(e *env) error {
			_, b, blob, err := e.twoKeys()
			if err != nil {
				return err
			}
			_, err = e.owner.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: blob, KeyId: b.KeyId})
			return wantCode(err, "IncorrectKeyException")
		}},
		{"ReEncrypt", "into another key", func(e *env) error {
			a, b, blob, err := e.twoKeys()
			if err != nil {
				return err
			}
			re, err := e.owner.ReEncrypt(e.ctx, &kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: b.KeyId})
			if err != nil {
				return must("ReEncrypt", err)
			}
			if aws.ToString(re.SourceKeyId) != aws.ToString(a.Arn) || aws.ToString(re.KeyId) != aws.ToString(b.Arn) {
				return fmt.Errorf("SourceKeyId %s KeyId %s; want the two key ARNs", aws.ToString(re.SourceKeyId), aws.ToString(re.KeyId))
			}
			dec, err := e.owner.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob})
			if err != nil || string(dec.Plaintext) != "x" || aws.ToString(dec.KeyId) != aws.ToString(b.Arn) {
				return first(must("Decrypt", err), fmt.Errorf("Decrypt gave %q under %s", dec.Plaintext, aws.ToString(dec.KeyId)))
			}
			return nil
		}},
		{"GenerateRandom", "1024 bytes; 1025 is ValidationException", func(e *env) error {
			out, err := e.owner.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1024)})
			if err != nil || len(out.Plaintext) != 1024 {
				return first(must("GenerateRandom", err), fmt.Errorf("%d bytes; want 1024", len(out.Plaintext)))
			}
			_, err = e.owner.GenerateRandom(e.ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1025)})
			return wantCode(err, "ValidationException")
		}},
	}
}

func dataKeyChecks() []Check {
	return []Check{
		keyCheck("GenerateDataKey", "AES_256 data key decrypts to its plaintext", nil, func(e *env, md *types.KeyMetadata) error {
			out, err := e.owner.GenerateDataKey(e.ctx, &kms.GenerateDataKeyInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256})
			if err != nil {
				return must("GenerateDataKey", err)
			}
			dec, err := e.owner.Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
			if len(out.Plaintext) != 32 || err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
				return first(must("Decrypt", err), fmt.Errorf("%d-byte data key that does not decrypt to itself", len(out.Plaintext)))
			}
			return nil
		}),
		keyCheck("GenerateDataKey", "KeySpec with NumberOfBytes: ValidationException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.GenerateDataKey(e.ctx, &kms.GenerateDataKeyInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)})
			return wantCode(err, "ValidationException")
		}),
		keyCheck("GenerateDataKeyPair", "RSA_2048 pair under a symmetric key", nil, func(e *env, md *types.KeyMetadata) error {
			out, err := e.owner.GenerateDataKeyPair(e.ctx, &kms.GenerateDataKeyPairInput{KeyId: md.KeyId, KeyPairSpec: types.DataKeyPairSpecRsa2048})
			if err != nil {
				return must("GenerateDataKeyPair", err)
			}
			if len(out.PublicKey) == 0 || len(out.PrivateKeyPlaintext) == 0 || len(out.PrivateKeyCiphertextBlob) == 0 || out.KeyPairSpec != types.DataKeyPairSpecRsa2048 {
				return fmt.Errorf("PublicKey %d, PrivateKeyPlaintext %d, PrivateKeyCiphertextBlob %d bytes, KeyPairSpec %s; want all, RSA_2048",
					len(out.PublicKey), len(out.PrivateKeyPlaintext), len(out.PrivateKeyCiphertextBlob), out.KeyPairSpec)
			}
			return nil
		}),
		keyCheck("GenerateDataKeyPair", "asymmetric key: InvalidKeyUsageException", &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt}, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.GenerateDataKeyPairWithoutPlaintext(e.ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: md.KeyId, KeyPairSpec: types.DataKeyPairSpecEccNistP256})
			return wantCode(err, "InvalidKeyUsageException")
		}),
	}
}

func asymChecks() []Check {
	return []Check{
		keyCheck("Sign", "ECDSA signature verifies; a changed message does not", &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}, func(e *env, md *types.KeyMetadata) error {
			s, err := e.owner.Sign(e.ctx, &kms.SignInput{KeyId: md.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			if err != nil {
				return must("Sign", err)
			}
			v, err := e.owner.Verify(e.ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: []byte("m"), Signature: s.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			if err != nil || !v.SignatureValid {
				return first(must("Verify", err), fmt.Errorf("SignatureValid false"))
			}
			_, err = e.owner.Verify(e.ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: []byte("n"), Signature: s.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return wantCode(err, "KMSInvalidSignatureException")
		}),
		keyCheck("Sign", "algorithm of another spec: InvalidKeyUsageException", &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.Sign(e.ctx, &kms.SignInput{KeyId: md.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256})
			return wantCode(err, "InvalidKeyUsageException")
		}),
		keyCheck("Sign", "symmetric key: InvalidKeyUsageException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.Sign(e.ctx, &kms.SignInput{KeyId: md.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return wantCode(err, "InvalidKeyUsageException")
		}),
		keyCheck("GenerateMac", "MAC verifies; a changed MAC does not", &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac}, func(e *env, md *types.KeyMetadata) error {
			m, err := e.owner.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: md.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			if err != nil {
				return must("GenerateMac", err)
			}
			bad := slices.Clone(m.Mac)
			bad[0] ^= 1
			_, err = e.owner.VerifyMac(e.ctx, &kms.VerifyMacInput{KeyId: md.KeyId, Message: []byte("m"), Mac: bad, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			return wantCode(err, "KMSInvalidMacException")
		}),
		keyCheck("GenerateMac", "algorithm of another spec: InvalidKeyUsageException", &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac}, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.GenerateMac(e.ctx, &kms.GenerateMacInput{KeyId: md.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha512})
			return wantCode(err, "InvalidKeyUsageException")
		}),
		keyCheck("GetPublicKey", "RSA public key with its algorithms", &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt}, func(e *env, md *types.KeyMetadata) error {
			out, err := e.owner.GetPublicKey(e.ctx, &kms.GetPublicKeyInput{KeyId: md.KeyId})
			if err != nil {
				return must("GetPublicKey", err)
			}
			if len(out.PublicKey) == 0 || !slices.Contains(out.EncryptionAlgorithms, types.EncryptionAlgorithmSpecRsaesOaepSha256) || out.KeyUsage != types.KeyUsageTypeEncryptDecrypt {
				return fmt.Errorf("PublicKey %d bytes, EncryptionAlgorithms %v, KeyUsage %s", len(out.PublicKey), out.EncryptionAlgorithms, out.KeyUsage)
			}
			return nil
		}),
	}
}

func lifecycleChecks() []Check {
	return []Check{
		keyCheck("ScheduleKeyDeletion", "waiting period of 6 days: ValidationException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(6)})
			return wantCode(err, "ValidationException")
		}),
		keyCheck("ScheduleKeyDeletion", "pending deletion: KMSInvalidStateException, cancel leaves Disabled", nil, func(e *env, md *types.KeyMetadata) error {
			if _, err := e.owner.ScheduleKeyDeletion(e.ctx, &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
				return must("ScheduleKeyDeletion", err)
			}
			_, err := e.owner.Encrypt(e.ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
			if err := wantCode(err, "KMSInvalidStateException"); err != nil {
				return fmt.Errorf("Encrypt while pending deletion: %w", err)
			}
			if _, err := e.owner.CancelKeyDeletion(e.ctx, &kms.CancelKeyDeletionInput{KeyId: md.KeyId}); err != nil {
				return must("CancelKeyDeletion", err)
			}
			d, err := e.owner.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
			if err != nil || d.KeyMetadata.KeyState != types.KeyStateDisabled {
				return first(must("DescribeKey", err), fmt.Errorf("state after CancelKeyDeletion %s; want Disabled", d.KeyMetadata.KeyState))
			}
			return nil
		}),
		keyCheck("EnableKeyRotation", "asymmetric key: UnsupportedOperationException", &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.EnableKeyRotation(e.ctx, &kms.EnableKeyRotationInput{KeyId: md.KeyId})
			return wantCode(err, "UnsupportedOperationException")
		}),
		keyCheck("RotateKeyOnDemand", "rotation listed by ListKeyRotations", nil, func(e *env, md *types.KeyMetadata) error {
			if _, err := e.owner.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: md.KeyId}); err != nil {
				return must("RotateKeyOnDemand", err)
			}
			out, err := e.owner.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: md.KeyId})
			if err != nil || len(out.Rotations) != 1 || out.Rotations[0].RotationType != types.RotationTypeOnDemand {
				return first(must("ListKeyRotations", err), fmt.Errorf("Rotations %+v; want one ON_DEMAND", out.Rotations))
			}
			return nil
		}),
	}
}

func aliasTagChecks() []Check {
	return []Check{
		keyCheck("CreateAlias", "existing alias: AlreadyExistsException", nil, func(e *env, md *types.KeyMetadata) error {
			name := aws.String("alias/compat-" + aws.ToString(md.KeyId)[:8])
			if _, err := e.owner.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: md.KeyId}); err != nil {
				return must("CreateAlias", err)
			}
			_, err := e.owner.CreateAlias(e.ctx, &kms.CreateAliasInput{AliasName: name, TargetKeyId: md.KeyId})
			return wantCode(err, "AlreadyExistsException")
		}),
		keyCheck("TagResource", "aws: prefix in upper case: TagException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.TagResource(e.ctx, &kms.TagResourceInput{KeyId: md.KeyId, Tags: []types.Tag{{TagKey: aws.String("AWS:x"), TagValue: aws.String("v")}}})
			return wantCode(err, "TagException")
		}),
		keyCheck("TagResource", "tag key of 129 characters: ValidationException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.owner.TagResource(e.ctx, &kms.TagResourceInput{KeyId: md.KeyId, Tags: []types.Tag{{TagKey: aws.String(strings.Repeat("k", 129)), TagValue: aws.String("v")}}})
			return wantCode(err, "ValidationException")
		}),
	}
}

func accessChecks() []Check {
	return []Check{
		keyCheck("Encrypt", "another account's key by key id: NotFoundException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.other.Encrypt(e.ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
			return wantCode(err, "NotFoundException")
		}),
		keyCheck("Encrypt", "another account's key by ARN, default policy: AccessDeniedException", nil, func(e *env, md *types.KeyMetadata) error {
			_, err := e.other.Encrypt(e.ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x")})
			return wantCode(err, "AccessDeniedException")
		}),
	}
}
