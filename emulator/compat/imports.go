package compat

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// importMaterial wraps material for key id with RSAES_OAEP_SHA_256 and
// imports it (not expiring) with import type typ ("" for the default).
func (e *env) importMaterial(id *string, material []byte, typ types.ImportType) (*kms.ImportKeyMaterialOutput, error) {
	p, err := e.owner.GetParametersForImport(e.ctx, &kms.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if err != nil {
		return nil, must("GetParametersForImport", err)
	}
	pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
	rsaPub, ok := pub.(*rsa.PublicKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("GetParametersForImport: PublicKey is not a DER RSA public key")
	}
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, rsaPub, material, nil)
	if err != nil {
		return nil, err
	}
	return e.owner.ImportKeyMaterial(e.ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped,
		ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire, ImportType: typ})
}

func randomMaterial() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// importChecks are about imported key material and its rotation, and the
// shape of a new replica.
func importChecks() []Check {
	external := &kms.CreateKeyInput{Origin: types.OriginTypeExternal}
	return []Check{
		keyCheck("ImportKeyMaterial", "NEW_KEY_MATERIAL waits PENDING_ROTATION, RotateKeyOnDemand makes it current", external, func(e *env, md *types.KeyMetadata) error {
			one, err := e.importMaterial(md.KeyId, randomMaterial(), "")
			if err != nil {
				return must("ImportKeyMaterial", err)
			}
			second, err := e.importMaterial(md.KeyId, randomMaterial(), types.ImportTypeNewKeyMaterial)
			if err != nil {
				return must("ImportKeyMaterial NEW_KEY_MATERIAL", err)
			}
			out, err := e.owner.ListKeyRotations(e.ctx, &kms.ListKeyRotationsInput{KeyId: md.KeyId, IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
			if err != nil || len(out.Rotations) != 2 || out.Rotations[1].KeyMaterialState != types.KeyMaterialStatePendingRotation {
				return first(must("ListKeyRotations", err), fmt.Errorf("materials %+v; want the first CURRENT, the new one PENDING_ROTATION", out))
			}
			if _, err := e.owner.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: md.KeyId}); err != nil {
				return must("RotateKeyOnDemand", err)
			}
			d, err := e.owner.DescribeKey(e.ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
			if err != nil || aws.ToString(d.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(second.KeyMaterialId) || aws.ToString(one.KeyMaterialId) == aws.ToString(second.KeyMaterialId) {
				return first(must("DescribeKey", err), fmt.Errorf("CurrentKeyMaterialId after the rotation is not the new material's"))
			}
			return nil
		}),
		keyCheck("RotateKeyOnDemand", "no material pending rotation: KMSInvalidStateException", external, func(e *env, md *types.KeyMetadata) error {
			if _, err := e.importMaterial(md.KeyId, randomMaterial(), ""); err != nil {
				return must("ImportKeyMaterial", err)
			}
			_, err := e.owner.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: md.KeyId})
			return wantCode(err, "KMSInvalidStateException")
		}),
		keyCheck("RotateKeyOnDemand", "answers the key ARN", nil, func(e *env, md *types.KeyMetadata) error {
			out, err := e.owner.RotateKeyOnDemand(e.ctx, &kms.RotateKeyOnDemandInput{KeyId: md.KeyId})
			if err != nil {
				return must("RotateKeyOnDemand", err)
			}
			if aws.ToString(out.KeyId) != aws.ToString(md.Arn) {
				return fmt.Errorf("KeyId %s; want the ARN %s", aws.ToString(out.KeyId), aws.ToString(md.Arn))
			}
			return nil
		}),
		keyCheck("ReplicateKey", "replica answered Creating, its description not copied", &kms.CreateKeyInput{MultiRegion: aws.Bool(true), Description: aws.String("primary")}, func(e *env, md *types.KeyMetadata) error {
			out, err := e.owner.ReplicateKey(e.ctx, &kms.ReplicateKeyInput{KeyId: md.KeyId, ReplicaRegion: aws.String("us-west-2")})
			if err != nil {
				return must("ReplicateKey", err)
			}
			r := out.ReplicaKeyMetadata
			if r == nil || r.KeyState != types.KeyStateCreating || r.Enabled || aws.ToString(r.Description) != "" {
				return fmt.Errorf("ReplicaKeyMetadata %+v; want KeyState Creating, not enabled, empty Description", r)
			}
			return nil
		}),
	}
}
