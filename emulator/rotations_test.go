package emulator_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

// TestKeyRotations: RotateKeyOnDemand and automatic rotation are recorded
// in ListKeyRotations (rotation type, date, material ids, the newest
// CURRENT), DescribeKey names the current material, old ciphertexts still
// decrypt, and the 26th on-demand rotation is refused.
func TestKeyRotations(t *testing.T) {
	clock := &fixedClock{now: t0}
	_, ts := start(t, emulator.Options{Clock: clock.Now})
	c := client(ts, acctA, "us-east-1")
	k := createKey(t, c, nil)
	current := func() string {
		out, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: k.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.CurrentKeyMaterialId)
	}
	first := current()
	if len(first) != 64 {
		t.Errorf("CurrentKeyMaterialId %q; want 64 hex digits", first)
	}
	list := func(all bool) []types.RotationsListEntry {
		in := &kms.ListKeyRotationsInput{KeyId: k.KeyId}
		if all {
			in.IncludeKeyMaterial = types.IncludeKeyMaterialAllKeyMaterial
		}
		out, err := c.ListKeyRotations(ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		return out.Rotations
	}
	if got := list(false); len(got) != 0 {
		t.Errorf("ListKeyRotations of a new key = %+v; want none", got)
	}
	old, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("old")})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(time.Hour))
	if _, err := c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableKeyRotation(ctx(), &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(91 * 24 * time.Hour))
	if _, err := c.TagResource(ctx(), &kms.TagResourceInput{KeyId: k.KeyId, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("b")}}}); err != nil {
		t.Fatal(err) // any change applies the rotation that is due
	}
	got := list(false)
	if len(got) != 2 || got[0].RotationType != types.RotationTypeOnDemand || got[1].RotationType != types.RotationTypeAutomatic ||
		!aws.ToTime(got[0].RotationDate).Equal(t0.Add(time.Hour)) || got[0].KeyMaterialState != types.KeyMaterialStateNonCurrent ||
		got[1].KeyMaterialState != types.KeyMaterialStateCurrent || aws.ToString(got[1].KeyMaterialId) != current() {
		t.Errorf("ListKeyRotations = %+v; want an ON_DEMAND rotation at +1h, then a CURRENT AUTOMATIC one", got)
	}
	if all := list(true); len(all) != 3 || aws.ToString(all[0].KeyMaterialId) != first || all[0].RotationDate != nil {
		t.Errorf("ALL_KEY_MATERIAL = %+v; want the first material, undated, then both rotations", all)
	}
	if dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob}); err != nil || string(dec.Plaintext) != "old" {
		t.Errorf("Decrypt of a ciphertext from before the rotations = %v", err)
	}
	page, err := c.ListKeyRotations(ctx(), &kms.ListKeyRotationsInput{KeyId: k.KeyId, Limit: aws.Int32(1)})
	if err != nil || len(page.Rotations) != 1 || !page.Truncated || page.NextMarker == nil {
		t.Errorf("ListKeyRotations Limit 1 = %+v, %v; want one entry, truncated", page, err)
	}
	for i := 1; i < 25; i++ {
		if _, err := c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
			t.Fatalf("on-demand rotation %d: %v", i+1, err)
		}
	}
	_, err = c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantCode(t, "26th on-demand rotation", err, "LimitExceededException")
	hmacKey := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	_, err = c.ListKeyRotations(ctx(), &kms.ListKeyRotationsInput{KeyId: hmacKey.KeyId})
	wantCode(t, "ListKeyRotations of an HMAC key", err, "UnsupportedOperationException")
}
