package emulator_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

// TestAWSManagedKeyCreatedOnFirstUse: naming alias/aws/<service> in the
// caller's own account creates the AWS-managed key, once, as KMS does when
// a service first uses it.
func TestAWSManagedKeyCreatedOnFirstUse(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	a := client(ts, acctA, "us-east-1")

	// First use by a cryptographic call.
	gdk, err := a.GenerateDataKey(ctx(), &kms.GenerateDataKeyInput{KeyId: aws.String("alias/aws/s3"), KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatalf("GenerateDataKey(alias/aws/s3) before any key exists: %v", err)
	}
	d, err := a.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatalf("DescribeKey(alias/aws/s3): %v", err)
	}
	m := d.KeyMetadata
	if m.KeyManager != types.KeyManagerTypeAws || m.KeyState != types.KeyStateEnabled || aws.ToString(m.AWSAccountId) != acctA ||
		m.KeySpec != types.KeySpecSymmetricDefault || m.KeyUsage != types.KeyUsageTypeEncryptDecrypt {
		t.Errorf("KeyMetadata = manager %s, state %s, account %s, spec %s, usage %s; want AWS, Enabled, %s, SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT",
			m.KeyManager, m.KeyState, aws.ToString(m.AWSAccountId), m.KeySpec, m.KeyUsage, acctA)
	}
	if got, want := aws.ToString(gdk.KeyId), aws.ToString(m.Arn); got != want {
		t.Errorf("GenerateDataKey KeyId = %s; want the AWS-managed key %s (one key, created once)", got, want)
	}
	dec, err := a.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != string(gdk.Plaintext) {
		t.Errorf("Decrypt of the data key = %v; want the plaintext data key back", err)
	}
	rot, err := a.GetKeyRotationStatus(ctx(), &kms.GetKeyRotationStatusInput{KeyId: m.KeyId})
	if err != nil || !rot.KeyRotationEnabled || aws.ToInt32(rot.RotationPeriodInDays) != 365 {
		t.Errorf("GetKeyRotationStatus = %+v, %v; want yearly rotation, enabled", rot, err)
	}
	pol, err := a.GetKeyPolicy(ctx(), &kms.GetKeyPolicyInput{KeyId: m.KeyId, PolicyName: aws.String("default")})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), "arn:aws:iam::"+acctA+":root") || strings.Contains(aws.ToString(pol.Policy), "kms:*") {
		t.Errorf("GetKeyPolicy = %v, %v; want the fixed policy naming only account %s, without kms:*", pol, err, acctA)
	}

	// First use by DescribeKey alone.
	ebs, err := a.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")})
	if err != nil || ebs.KeyMetadata.KeyManager != types.KeyManagerTypeAws || aws.ToString(ebs.KeyMetadata.KeyId) == aws.ToString(m.KeyId) {
		t.Fatalf("DescribeKey(alias/aws/ebs) = %+v, %v; want a second, distinct AWS-managed key", ebs, err)
	}
	aliases, err := a.ListAliases(ctx(), &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, al := range aliases.Aliases {
		names = append(names, aws.ToString(al.AliasName))
	}
	if strings.Join(names, ",") != "alias/aws/ebs,alias/aws/s3" {
		t.Errorf("ListAliases = %v; want [alias/aws/ebs alias/aws/s3]", names)
	}

	// A customer key says CUSTOMER.
	ck, err := a.CreateKey(ctx(), &kms.CreateKeyInput{})
	if err != nil || ck.KeyMetadata.KeyManager != types.KeyManagerTypeCustomer {
		t.Errorf("CreateKey KeyManager = %v, %v; want CUSTOMER", ck, err)
	}
	// Other alias/aws names are not AWS-managed aliases.
	_, err = a.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/Not_A_Service")})
	wantCode(t, "DescribeKey(alias/aws/Not_A_Service)", err, "NotFoundException")
}

// TestAWSManagedKeyIsFixed: the account uses its AWS-managed key but cannot
// change its state, policy or rotation, and no other account can use it.
func TestAWSManagedKeyIsFixed(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	a := client(ts, acctA, "us-east-1")
	b := client(ts, acctB, "us-east-1")
	d, err := a.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/rds")})
	if err != nil {
		t.Fatal(err)
	}
	id := d.KeyMetadata.KeyId
	arn := d.KeyMetadata.Arn
	changes := []struct {
		name string
		call func() error
	}{
		{"DisableKey", func() error { _, err := a.DisableKey(ctx(), &kms.DisableKeyInput{KeyId: id}); return err }},
		{"ScheduleKeyDeletion", func() error {
			_, err := a.ScheduleKeyDeletion(ctx(), &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)})
			return err
		}},
		{"PutKeyPolicy", func() error {
			_, err := a.PutKeyPolicy(ctx(), &kms.PutKeyPolicyInput{KeyId: id, PolicyName: aws.String("default"),
				Policy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}`)})
			return err
		}},
		{"DisableKeyRotation", func() error {
			_, err := a.DisableKeyRotation(ctx(), &kms.DisableKeyRotationInput{KeyId: id})
			return err
		}},
		{"RotateKeyOnDemand", func() error {
			_, err := a.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: id})
			return err
		}},
		{"TagResource", func() error {
			_, err := a.TagResource(ctx(), &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
			return err
		}},
		{"DeleteAlias", func() error {
			_, err := a.DeleteAlias(ctx(), &kms.DeleteAliasInput{AliasName: aws.String("alias/aws/rds")})
			return err
		}},
	}
	for _, c := range changes {
		want := "AccessDeniedException"
		if c.name == "DeleteAlias" {
			want = "NotAuthorizedException"
		}
		wantCode(t, c.name+" on an AWS-managed key", c.call(), want)
	}
	after, err := a.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: id})
	if err != nil || after.KeyMetadata.KeyState != types.KeyStateEnabled {
		t.Errorf("state after the refused changes = %v, %v; want Enabled", after, err)
	}

	// Another account: the alias ARN of account A's key does not create
	// anything, and the fixed policy refuses B's use of the key.
	_, err = b.Encrypt(ctx(), &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
	wantCode(t, "Encrypt by account B with A's AWS-managed key", err, "AccessDeniedException")
	_, err = b.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:" + acctA + ":alias/aws/lambda")})
	wantCode(t, "DescribeKey by account B of A's unused alias/aws/lambda", err, "NotFoundException")
	if _, err := a.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:" + acctA + ":alias/aws/rds")}); err != nil {
		t.Errorf("DescribeKey by A of its own alias ARN: %v", err)
	}
	// B's own alias/aws/rds is B's own key.
	bk, err := b.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/rds")})
	if err != nil || aws.ToString(bk.KeyMetadata.AWSAccountId) != acctB || aws.ToString(bk.KeyMetadata.KeyId) == aws.ToString(id) {
		t.Errorf("DescribeKey(alias/aws/rds) by B = %+v, %v; want B's own AWS-managed key", bk, err)
	}
	// In another Region, another key.
	w := client(ts, acctA, "us-west-2")
	wk, err := w.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/rds")})
	if err != nil || aws.ToString(wk.KeyMetadata.KeyId) == aws.ToString(id) {
		t.Errorf("DescribeKey(alias/aws/rds) in us-west-2 = %+v, %v; want a key of that Region", wk, err)
	}
}

// TestAWSManagedKeySurvivesState: the saved state keeps a key AWS managed.
func TestAWSManagedKeySurvivesState(t *testing.T) {
	srv, ts := start(t, emulator.Options{})
	a := client(ts, acctA, "us-east-1")
	d, err := a.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
	if err != nil {
		t.Fatal(err)
	}
	ts2 := reloaded(t, srv)
	a2 := client(ts2, acctA, "us-east-1")
	d2, err := a2.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
	if err != nil || aws.ToString(d2.KeyMetadata.KeyId) != aws.ToString(d.KeyMetadata.KeyId) || d2.KeyMetadata.KeyManager != types.KeyManagerTypeAws {
		t.Errorf("after LoadState: %+v, %v; want the same key, KeyManager AWS", d2, err)
	}
	_, err = a2.DisableKey(ctx(), &kms.DisableKeyInput{KeyId: d.KeyMetadata.KeyId})
	wantCode(t, "DisableKey after LoadState", err, "AccessDeniedException")
}
