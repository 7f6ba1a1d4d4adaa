package emulator_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

// TestTagContract: KMS's answers to bad tags, as the API reference and
// AWS's recorded answers give them: a length over the API's constraint is
// ValidationException, a reserved aws: prefix in any case, duplicates and
// more than 50 tags are TagException, and a refused TagResource changes
// nothing.
func TestTagContract(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	k := createKey(t, c, nil)
	tag := func(k, v string) types.Tag { return types.Tag{TagKey: aws.String(k), TagValue: aws.String(v)} }
	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = tag(fmt.Sprint("k", i), "v")
	}
	for _, tt := range []struct {
		name string
		tags []types.Tag
		want string
	}{
		{"key of 129 characters", []types.Tag{tag(strings.Repeat("k", 129), "v")}, "ValidationException"},
		{"value of 257 characters", []types.Tag{tag("k", strings.Repeat("v", 257))}, "ValidationException"},
		{"AWS: in upper case", []types.Tag{tag("AWS:team", "v")}, "TagException"},
		{"aws: in lower case", []types.Tag{tag("aws:team", "v")}, "TagException"},
		{"duplicate keys", []types.Tag{tag("k", "1"), tag("k", "2")}, "TagException"},
		{"51 tags", many, "TagException"},
	} {
		_, err := c.TagResource(ctx(), &kms.TagResourceInput{KeyId: k.KeyId, Tags: tt.tags})
		wantCode(t, "TagResource: "+tt.name, err, tt.want)
		_, err = c.CreateKey(ctx(), &kms.CreateKeyInput{Tags: tt.tags})
		wantCode(t, "CreateKey: "+tt.name, err, tt.want)
	}
	if _, err := c.TagResource(ctx(), &kms.TagResourceInput{KeyId: k.KeyId, Tags: many[:50]}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	_, err := c.TagResource(ctx(), &kms.TagResourceInput{KeyId: k.KeyId, Tags: []types.Tag{tag("one-more", "v")}})
	wantCode(t, "a 51st tag", err, "TagException")
	out, err := c.ListResourceTags(ctx(), &kms.ListResourceTagsInput{KeyId: k.KeyId})
	if err != nil || len(out.Tags) != 50 {
		t.Errorf("tags after the refused 51st = %d, %v; want the 50", len(out.Tags), err)
	}
}

// TestErrorContract: errors of the operations' "Errors" sections that
// differ by input: a ReEncrypt naming another source key, MAC algorithms
// the key does not have or KMS does not know, rotating a disabled key, and
// a dry run, which reports the errors a real call would before
// DryRunOperationException.
func TestErrorContract(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	a, b := createKey(t, c, nil), createKey(t, c, nil)
	enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReEncrypt(ctx(), &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: b.KeyId, DestinationKeyId: b.KeyId})
	wantCode(t, "ReEncrypt with another source key", err, "IncorrectKeyException")
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: b.KeyId})
	wantCode(t, "Decrypt with another key", err, "IncorrectKeyException")

	h := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	_, err = c.GenerateMac(ctx(), &kms.GenerateMacInput{KeyId: h.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha512})
	wantCode(t, "GenerateMac with another key's algorithm", err, "InvalidKeyUsageException")
	_, err = c.VerifyMac(ctx(), &kms.VerifyMacInput{KeyId: h.KeyId, Message: []byte("m"), Mac: make([]byte, 32), MacAlgorithm: types.MacAlgorithmSpecHmacSha384})
	wantCode(t, "VerifyMac with another key's algorithm", err, "InvalidKeyUsageException")
	_, err = c.GenerateMac(ctx(), &kms.GenerateMacInput{KeyId: h.KeyId, Message: []byte("m"), MacAlgorithm: "HMAC_MD5"})
	wantCode(t, "GenerateMac with an unknown algorithm", err, "ValidationException")
	_, err = c.GenerateMac(ctx(), &kms.GenerateMacInput{KeyId: a.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	wantCode(t, "GenerateMac with a symmetric encryption key", err, "InvalidKeyUsageException")

	if _, err := c.DisableKey(ctx(), &kms.DisableKeyInput{KeyId: b.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: b.KeyId})
	wantCode(t, "RotateKeyOnDemand of a disabled key", err, "DisabledException")
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: b.KeyId, Plaintext: []byte("x"), DryRun: aws.Bool(true)})
	wantCode(t, "dry-run Encrypt with a disabled key", err, "DisabledException")
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("x"), DryRun: aws.Bool(true)})
	wantCode(t, "dry-run Encrypt", err, "DryRunOperationException")
	_, err = c.GenerateMac(ctx(), &kms.GenerateMacInput{KeyId: h.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha512, DryRun: aws.Bool(true)})
	wantCode(t, "dry-run GenerateMac with another key's algorithm", err, "InvalidKeyUsageException")
}
