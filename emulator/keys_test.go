package emulator_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

func createKey(t *testing.T, c *kms.Client, in *kms.CreateKeyInput) *types.KeyMetadata {
	t.Helper()
	if in == nil {
		in = &kms.CreateKeyInput{}
	}
	out, err := c.CreateKey(ctx(), in)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return out.KeyMetadata
}

func TestSymmetricRoundTrip(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, &kms.CreateKeyInput{Description: aws.String("orders"), Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("payments")}}})

	wantARN := "arn:aws:kms:us-east-1:" + acctA + ":key/" + aws.ToString(md.KeyId)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Arn", aws.ToString(md.Arn), wantARN},
		{"AWSAccountId", aws.ToString(md.AWSAccountId), acctA},
		{"KeyState", md.KeyState, types.KeyStateEnabled},
		{"Enabled", md.Enabled, true},
		{"KeySpec", md.KeySpec, types.KeySpecSymmetricDefault},
		{"CustomerMasterKeySpec", md.CustomerMasterKeySpec, types.CustomerMasterKeySpecSymmetricDefault},
		{"KeyUsage", md.KeyUsage, types.KeyUsageTypeEncryptDecrypt},
		{"Origin", md.Origin, types.OriginTypeAwsKms},
		{"KeyManager", md.KeyManager, types.KeyManagerTypeCustomer},
		{"MultiRegion", aws.ToBool(md.MultiRegion), false},
		{"Description", aws.ToString(md.Description), "orders"},
		{"CreationDate", md.CreationDate.Equal(t0), true},
		{"EncryptionAlgorithms", len(md.EncryptionAlgorithms), 1},
		{"id is a UUID", len(aws.ToString(md.KeyId)), 36},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("CreateKey KeyMetadata.%s = %v; want %v", ck.name, ck.got, ck.want)
		}
	}

	ec := map[string]string{"tenant": "42", "purpose": "test"}
	enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("hello"), EncryptionContext: ec})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if aws.ToString(enc.KeyId) != wantARN {
		t.Errorf("Encrypt KeyId = %s; want %s", aws.ToString(enc.KeyId), wantARN)
	}
	// Decrypt without KeyId: the key comes from the blob.
	dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "test", "tenant": "42"}})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if string(dec.Plaintext) != "hello" || aws.ToString(dec.KeyId) != wantARN {
		t.Errorf("Decrypt = (%q, %s); want (hello, %s)", dec.Plaintext, aws.ToString(dec.KeyId), wantARN)
	}
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"tenant": "43", "purpose": "test"}})
	wantCode(t, "Decrypt with a wrong context", err, "InvalidCiphertextException")
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantCode(t, "Decrypt without the context", err, "InvalidCiphertextException")
	tampered := bytes.Clone(enc.CiphertextBlob)
	tampered[len(tampered)-1] ^= 1
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: tampered, EncryptionContext: ec})
	wantCode(t, "Decrypt of a tampered blob", err, "InvalidCiphertextException")
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: []byte("garbage")})
	wantCode(t, "Decrypt of garbage", err, "InvalidCiphertextException")

	other := createKey(t, c, nil)
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: other.KeyId})
	wantCode(t, "Decrypt naming another key", err, "IncorrectKeyException")
	if _, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: md.Arn}); err != nil {
		t.Errorf("Decrypt naming the key by ARN: %v", err)
	}

	re, err := c.ReEncrypt(ctx(), &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec, DestinationKeyId: other.KeyId})
	if err != nil {
		t.Fatalf("ReEncrypt: %v", err)
	}
	if aws.ToString(re.SourceKeyId) != wantARN || aws.ToString(re.KeyId) != aws.ToString(other.Arn) {
		t.Errorf("ReEncrypt keys = (%s, %s); want (%s, %s)", aws.ToString(re.SourceKeyId), aws.ToString(re.KeyId), wantARN, aws.ToString(other.Arn))
	}
	dec, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "hello" {
		t.Errorf("Decrypt(ReEncrypt output) = (%q, %v); want hello", dec.Plaintext, err)
	}

	for _, tc := range []struct {
		in   kms.GenerateDataKeyInput
		want int
	}{
		{kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes256}, 32},
		{kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes128}, 16},
		{kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(1)}, 1},
		{kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(1024)}, 1024},
	} {
		in := tc.in
		in.KeyId = aws.String("alias/none")
		in.KeyId = md.KeyId
		dk, err := c.GenerateDataKey(ctx(), &in)
		if err != nil {
			t.Errorf("GenerateDataKey(%v, %v): %v", in.KeySpec, aws.ToInt32(in.NumberOfBytes), err)
			continue
		}
		if len(dk.Plaintext) != tc.want {
			t.Errorf("GenerateDataKey(%v, %v) plaintext length = %d; want %d", in.KeySpec, aws.ToInt32(in.NumberOfBytes), len(dk.Plaintext), tc.want)
		}
		dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob})
		if err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
			t.Errorf("Decrypt(data key) = (%x, %v); want %x", dec.Plaintext, err, dk.Plaintext)
		}
	}
	wp, err := c.GenerateDataKeyWithoutPlaintext(ctx(), &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("GenerateDataKeyWithoutPlaintext: %v", err)
	}
	dec, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: wp.CiphertextBlob, EncryptionContext: ec})
	if err != nil || len(dec.Plaintext) != 32 {
		t.Errorf("Decrypt(data key without plaintext) = (%d bytes, %v); want 32 bytes", len(dec.Plaintext), err)
	}
	rnd, err := c.GenerateRandom(ctx(), &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(64)})
	if err != nil || len(rnd.Plaintext) != 64 {
		t.Errorf("GenerateRandom(64) = (%d bytes, %v); want 64 bytes", len(rnd.Plaintext), err)
	}

	desc, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.Arn})
	if err != nil || aws.ToString(desc.KeyMetadata.KeyId) != aws.ToString(md.KeyId) {
		t.Errorf("DescribeKey(ARN) = %v; want key %s", err, aws.ToString(md.KeyId))
	}
	_, err = c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")})
	wantCode(t, "DescribeKey of an unknown key", err, "NotFoundException")
}

func TestAsymmetricAndHMAC(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	msg := []byte("message to sign")
	digest := sha256.Sum256(msg)

	rsaSign := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
	ecc := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if len(rsaSign.SigningAlgorithms) != 6 || len(ecc.SigningAlgorithms) != 1 {
		t.Errorf("SigningAlgorithms = %v, %v; want 6 RSA and 1 ECC", rsaSign.SigningAlgorithms, ecc.SigningAlgorithms)
	}
	for _, tc := range []struct {
		key *types.KeyMetadata
		alg types.SigningAlgorithmSpec
	}{
		{rsaSign, types.SigningAlgorithmSpecRsassaPssSha256},
		{rsaSign, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256},
		{ecc, types.SigningAlgorithmSpecEcdsaSha256},
	} {
		for _, mt := range []types.MessageType{types.MessageTypeRaw, types.MessageTypeDigest} {
			m := msg
			if mt == types.MessageTypeDigest {
				m = digest[:]
			}
			sig, err := c.Sign(ctx(), &kms.SignInput{KeyId: tc.key.KeyId, Message: m, MessageType: mt, SigningAlgorithm: tc.alg})
			if err != nil {
				t.Errorf("Sign(%s, %s): %v", tc.alg, mt, err)
				continue
			}
			v, err := c.Verify(ctx(), &kms.VerifyInput{KeyId: tc.key.KeyId, Message: m, MessageType: mt, SigningAlgorithm: tc.alg, Signature: sig.Signature})
			if err != nil || !v.SignatureValid {
				t.Errorf("Verify(%s, %s) = (%v, %v); want valid", tc.alg, mt, v != nil && v.SignatureValid, err)
			}
			// The public key verifies the signature outside the emulator.
			pk, err := c.GetPublicKey(ctx(), &kms.GetPublicKeyInput{KeyId: tc.key.KeyId})
			if err != nil {
				t.Fatalf("GetPublicKey: %v", err)
			}
			pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
			if err != nil {
				t.Fatalf("ParsePKIXPublicKey: %v", err)
			}
			var ok bool
			switch p := pub.(type) {
			case *rsa.PublicKey:
				if tc.alg == types.SigningAlgorithmSpecRsassaPssSha256 {
					ok = rsa.VerifyPSS(p, 5, digest[:], sig.Signature, nil) == nil
				} else {
					ok = rsa.VerifyPKCS1v15(p, 5, digest[:], sig.Signature) == nil
				}
			case *ecdsa.PublicKey:
				ok = ecdsa.VerifyASN1(p, digest[:], sig.Signature)
			}
			if !ok {
				t.Errorf("signature of %s (%s) does not verify with the public key", tc.alg, mt)
			}
			bad := bytes.Clone(sig.Signature)
			bad[len(bad)/2] ^= 0xff
			_, err = c.Verify(ctx(), &kms.VerifyInput{KeyId: tc.key.KeyId, Message: m, MessageType: mt, SigningAlgorithm: tc.alg, Signature: bad})
			wantCode(t, "Verify of a bad signature", err, "KMSInvalidSignatureException")
		}
	}
	_, err := c.Sign(ctx(), &kms.SignInput{KeyId: ecc.KeyId, Message: []byte("short"), MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantCode(t, "Sign of a short digest", err, "ValidationException")
	_, err = c.Sign(ctx(), &kms.SignInput{KeyId: ecc.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256})
	wantCode(t, "Sign with an algorithm of another key spec", err, "InvalidKeyUsageException")
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: ecc.KeyId, Plaintext: msg})
	wantCode(t, "Encrypt with a signing key", err, "InvalidKeyUsageException")

	sym := createKey(t, c, nil)
	_, err = c.GetPublicKey(ctx(), &kms.GetPublicKeyInput{KeyId: sym.KeyId})
	wantCode(t, "GetPublicKey of a symmetric key", err, "UnsupportedOperationException")
	_, err = c.Sign(ctx(), &kms.SignInput{KeyId: sym.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantCode(t, "Sign with a symmetric key", err, "InvalidKeyUsageException")

	rsaEnc := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	ct, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: rsaEnc.KeyId, Plaintext: msg, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if err != nil {
		t.Fatalf("Encrypt(RSA): %v", err)
	}
	pt, err := c.Decrypt(ctx(), &kms.DecryptInput{KeyId: rsaEnc.KeyId, CiphertextBlob: ct.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if err != nil || !bytes.Equal(pt.Plaintext, msg) {
		t.Errorf("Decrypt(RSA) = (%q, %v); want %q", pt.Plaintext, err, msg)
	}
	_, err = c.GenerateDataKey(ctx(), &kms.GenerateDataKeyInput{KeyId: rsaEnc.KeyId, KeySpec: types.DataKeySpecAes256})
	wantCode(t, "GenerateDataKey with an RSA key", err, "InvalidKeyUsageException")

	hm := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	if len(hm.MacAlgorithms) != 1 || hm.MacAlgorithms[0] != types.MacAlgorithmSpecHmacSha256 {
		t.Errorf("HMAC_256 MacAlgorithms = %v; want [HMAC_SHA_256]", hm.MacAlgorithms)
	}
	mac, err := c.GenerateMac(ctx(), &kms.GenerateMacInput{KeyId: hm.KeyId, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil || len(mac.Mac) != 32 {
		t.Fatalf("GenerateMac = (%d bytes, %v); want 32 bytes", len(mac.Mac), err)
	}
	vm, err := c.VerifyMac(ctx(), &kms.VerifyMacInput{KeyId: hm.KeyId, Message: msg, Mac: mac.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil || !vm.MacValid {
		t.Errorf("VerifyMac = (%v, %v); want valid", vm != nil && vm.MacValid, err)
	}
	_, err = c.VerifyMac(ctx(), &kms.VerifyMacInput{KeyId: hm.KeyId, Message: []byte("other"), Mac: mac.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	wantCode(t, "VerifyMac of another message", err, "KMSInvalidMacException")
	_, err = c.GenerateMac(ctx(), &kms.GenerateMacInput{KeyId: sym.KeyId, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	wantCode(t, "GenerateMac with a symmetric key", err, "InvalidKeyUsageException")

	_, err = c.CreateKey(ctx(), &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	wantCode(t, "CreateKey ECC for encryption", err, "ValidationException")
	_, err = c.CreateKey(ctx(), &kms.CreateKeyInput{KeySpec: "NOPE"})
	wantCode(t, "CreateKey with an unknown spec", err, "ValidationException")
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, nil)
	enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := c.DisableKey(ctx(), &kms.DisableKeyInput{KeyId: md.KeyId}); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
	wantCode(t, "Encrypt with a disabled key", err, "DisabledException")
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantCode(t, "Decrypt with a disabled key", err, "DisabledException")
	if d, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId}); err != nil || d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.Enabled {
		t.Errorf("DescribeKey after DisableKey = %v; want Disabled", err)
	}
	if _, err := c.EnableKey(ctx(), &kms.EnableKeyInput{KeyId: md.KeyId}); err != nil {
		t.Fatalf("EnableKey: %v", err)
	}

	_, err = c.ScheduleKeyDeletion(ctx(), &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(6)})
	wantCode(t, "ScheduleKeyDeletion(6 days)", err, "ValidationException")
	_, err = c.ScheduleKeyDeletion(ctx(), &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(31)})
	wantCode(t, "ScheduleKeyDeletion(31 days)", err, "ValidationException")
	sd, err := c.ScheduleKeyDeletion(ctx(), &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId})
	if err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	if want := t0.Add(30 * 24 * time.Hour); !sd.DeletionDate.Equal(want) || aws.ToInt32(sd.PendingWindowInDays) != 30 {
		t.Errorf("ScheduleKeyDeletion = (%v, %d); want (%v, 30)", sd.DeletionDate, aws.ToInt32(sd.PendingWindowInDays), want)
	}
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
	wantCode(t, "Encrypt with a key pending deletion", err, "KMSInvalidStateException")
	_, err = c.EnableKey(ctx(), &kms.EnableKeyInput{KeyId: md.KeyId})
	wantCode(t, "EnableKey on a key pending deletion", err, "KMSInvalidStateException")
	d, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId})
	if err != nil || d.KeyMetadata.KeyState != types.KeyStatePendingDeletion || d.KeyMetadata.DeletionDate == nil || aws.ToInt32(d.KeyMetadata.PendingDeletionWindowInDays) != 30 {
		t.Errorf("DescribeKey of a key pending deletion = %+v, %v", d, err)
	}
	if _, err := c.CancelKeyDeletion(ctx(), &kms.CancelKeyDeletionInput{KeyId: md.KeyId}); err != nil {
		t.Fatalf("CancelKeyDeletion: %v", err)
	}
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
	wantCode(t, "Encrypt after CancelKeyDeletion (Disabled)", err, "DisabledException")
	_, err = c.CancelKeyDeletion(ctx(), &kms.CancelKeyDeletionInput{KeyId: md.KeyId})
	wantCode(t, "CancelKeyDeletion of a key not pending", err, "KMSInvalidStateException")

	if _, err := c.ScheduleKeyDeletion(ctx(), &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	srv.Advance(7*24*time.Hour - time.Second)
	if _, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId}); err != nil {
		t.Errorf("DescribeKey one second before deletion: %v", err)
	}
	srv.Advance(time.Second)
	_, err = c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId})
	wantCode(t, "DescribeKey after the deletion window", err, "NotFoundException")
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantCode(t, "Decrypt after the key was deleted", err, "InvalidCiphertextException")
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: md.KeyId})
	wantCode(t, "Decrypt naming the deleted key", err, "NotFoundException")
	lk, err := c.ListKeys(ctx(), &kms.ListKeysInput{})
	if err != nil || len(lk.Keys) != 0 {
		t.Errorf("ListKeys after deletion = %d keys, %v; want 0", len(lk.Keys), err)
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, nil)
	st, err := c.GetKeyRotationStatus(ctx(), &kms.GetKeyRotationStatusInput{KeyId: md.KeyId})
	if err != nil || st.KeyRotationEnabled {
		t.Errorf("GetKeyRotationStatus of a new key = (%v, %v); want disabled", st != nil && st.KeyRotationEnabled, err)
	}
	if _, err := c.EnableKeyRotation(ctx(), &kms.EnableKeyRotationInput{KeyId: md.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatalf("EnableKeyRotation: %v", err)
	}
	st, err = c.GetKeyRotationStatus(ctx(), &kms.GetKeyRotationStatusInput{KeyId: md.KeyId})
	if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 {
		t.Errorf("GetKeyRotationStatus after enabling = %+v, %v; want enabled, 90 days", st, err)
	}
	_, err = c.EnableKeyRotation(ctx(), &kms.EnableKeyRotationInput{KeyId: md.KeyId, RotationPeriodInDays: aws.Int32(30)})
	wantCode(t, "EnableKeyRotation(30 days)", err, "ValidationException")

	var blobs [][]byte
	for i := 0; i < 3; i++ {
		enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte{byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, enc.CiphertextBlob)
		if _, err := c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: md.KeyId}); err != nil {
			t.Fatalf("RotateKeyOnDemand: %v", err)
		}
	}
	for i, b := range blobs {
		dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: b})
		if err != nil || !bytes.Equal(dec.Plaintext, []byte{byte(i)}) {
			t.Errorf("Decrypt(ciphertext of material version %d) = (%x, %v); want %02x", i, dec.Plaintext, err, i)
		}
	}
	if _, err := c.DisableKeyRotation(ctx(), &kms.DisableKeyRotationInput{KeyId: md.KeyId}); err != nil {
		t.Fatalf("DisableKeyRotation: %v", err)
	}
	ecc := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	_, err = c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: ecc.KeyId})
	wantCode(t, "RotateKeyOnDemand of an ECC key", err, "UnsupportedOperationException")
}

func TestMultiRegion(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	east := client(ts, acctA, "us-east-1")
	west := client(ts, acctA, "us-west-2")
	md := createKey(t, east, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	id := aws.ToString(md.KeyId)
	if !strings.HasPrefix(id, "mrk-") || len(id) != 36 || !aws.ToBool(md.MultiRegion) {
		t.Fatalf("multi-Region key id = %q (MultiRegion %v); want mrk-<32 hex>", id, aws.ToBool(md.MultiRegion))
	}
	if md.MultiRegionConfiguration == nil || md.MultiRegionConfiguration.MultiRegionKeyType != types.MultiRegionKeyTypePrimary {
		t.Errorf("MultiRegionConfiguration = %+v; want PRIMARY", md.MultiRegionConfiguration)
	}
	enc, err := east.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("across"), EncryptionContext: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = west.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"a": "b"}})
	wantCode(t, "Decrypt in us-west-2 before replication", err, "InvalidCiphertextException")

	rep, err := east.ReplicateKey(ctx(), &kms.ReplicateKeyInput{KeyId: md.KeyId, ReplicaRegion: aws.String("us-west-2")})
	if err != nil {
		t.Fatalf("ReplicateKey: %v", err)
	}
	if want := "arn:aws:kms:us-west-2:" + acctA + ":key/" + id; aws.ToString(rep.ReplicaKeyMetadata.Arn) != want {
		t.Errorf("replica Arn = %s; want %s", aws.ToString(rep.ReplicaKeyMetadata.Arn), want)
	}
	_, err = east.ReplicateKey(ctx(), &kms.ReplicateKeyInput{KeyId: md.KeyId, ReplicaRegion: aws.String("us-west-2")})
	wantCode(t, "ReplicateKey twice", err, "AlreadyExistsException")

	dec, err := west.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"a": "b"}})
	if err != nil || string(dec.Plaintext) != "across" {
		t.Fatalf("replica Decrypt of the primary's ciphertext = (%q, %v); want across", dec.Plaintext, err)
	}
	if want := "arn:aws:kms:us-west-2:" + acctA + ":key/" + id; aws.ToString(dec.KeyId) != want {
		t.Errorf("replica Decrypt KeyId = %s; want %s", aws.ToString(dec.KeyId), want)
	}
	d, err := west.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.KeyMetadata.MultiRegionConfiguration
	if cfg == nil || cfg.MultiRegionKeyType != types.MultiRegionKeyTypeReplica || aws.ToString(cfg.PrimaryKey.Region) != "us-east-1" {
		t.Errorf("replica MultiRegionConfiguration = %+v; want REPLICA of us-east-1", cfg)
	}
	d, err = east.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId})
	if err != nil || len(d.KeyMetadata.MultiRegionConfiguration.ReplicaKeys) != 1 {
		t.Errorf("primary ReplicaKeys = %v, %v; want one replica", d.KeyMetadata.MultiRegionConfiguration, err)
	}
	// Rotation of the primary reaches the replica: both share material.
	if _, err := east.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	enc2, err := west.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("back")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := east.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc2.CiphertextBlob}); err != nil || string(dec.Plaintext) != "back" {
		t.Errorf("primary Decrypt of the replica's ciphertext = (%q, %v); want back", dec.Plaintext, err)
	}
	single := createKey(t, east, nil)
	_, err = east.ReplicateKey(ctx(), &kms.ReplicateKeyInput{KeyId: single.KeyId, ReplicaRegion: aws.String("us-west-2")})
	wantCode(t, "ReplicateKey of a single-Region key", err, "UnsupportedOperationException")
}

func TestAliasesTagsPolicies(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	k1 := createKey(t, c, nil)
	k2 := createKey(t, c, nil)

	if _, err := c.CreateAlias(ctx(), &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: k1.KeyId}); err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	for _, tc := range []struct {
		name, alias string
		target      *string
		want        string
	}{
		{"duplicate", "alias/orders", k2.KeyId, "AlreadyExistsException"},
		{"reserved", "alias/aws/s3", k2.KeyId, "NotAuthorizedException"},
		{"no prefix", "orders", k2.KeyId, "ValidationException"},
		{"bad character", "alias/a b", k2.KeyId, "ValidationException"},
		{"unknown target", "alias/x", aws.String("00000000-0000-0000-0000-000000000000"), "NotFoundException"},
		{"alias as target", "alias/y", aws.String("alias/orders"), "ValidationException"},
	} {
		_, err := c.CreateAlias(ctx(), &kms.CreateAliasInput{AliasName: aws.String(tc.alias), TargetKeyId: tc.target})
		wantCode(t, "CreateAlias "+tc.name, err, tc.want)
	}
	aliasARN := "arn:aws:kms:us-east-1:" + acctA + ":alias/orders"
	for _, ref := range []string{"alias/orders", aliasARN} {
		enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: aws.String(ref), Plaintext: []byte("x")})
		if err != nil || aws.ToString(enc.KeyId) != aws.ToString(k1.Arn) {
			t.Errorf("Encrypt via %s = %v; want key %s", ref, err, aws.ToString(k1.Arn))
		}
	}
	if _, err := c.UpdateAlias(ctx(), &kms.UpdateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: k2.KeyId}); err != nil {
		t.Fatalf("UpdateAlias: %v", err)
	}
	d, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("alias/orders")})
	if err != nil || aws.ToString(d.KeyMetadata.KeyId) != aws.ToString(k2.KeyId) {
		t.Errorf("DescribeKey(alias) after UpdateAlias = %v; want key %s", err, aws.ToString(k2.KeyId))
	}
	la, err := c.ListAliases(ctx(), &kms.ListAliasesInput{})
	if err != nil || len(la.Aliases) != 1 || aws.ToString(la.Aliases[0].AliasArn) != aliasARN || aws.ToString(la.Aliases[0].TargetKeyId) != aws.ToString(k2.KeyId) {
		t.Errorf("ListAliases = %+v, %v; want alias/orders -> k2", la, err)
	}
	la, err = c.ListAliases(ctx(), &kms.ListAliasesInput{KeyId: k1.KeyId})
	if err != nil || len(la.Aliases) != 0 {
		t.Errorf("ListAliases(k1) = %d aliases, %v; want 0", len(la.Aliases), err)
	}
	if _, err := c.DeleteAlias(ctx(), &kms.DeleteAliasInput{AliasName: aws.String("alias/orders")}); err != nil {
		t.Fatalf("DeleteAlias: %v", err)
	}
	_, err = c.DeleteAlias(ctx(), &kms.DeleteAliasInput{AliasName: aws.String("alias/orders")})
	wantCode(t, "DeleteAlias twice", err, "NotFoundException")
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: aws.String("alias/orders"), Plaintext: []byte("x")})
	wantCode(t, "Encrypt via a deleted alias", err, "NotFoundException")
	_, err = c.UpdateAlias(ctx(), &kms.UpdateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: k1.KeyId})
	wantCode(t, "UpdateAlias of a missing alias", err, "NotFoundException")

	// Tags.
	if _, err := c.TagResource(ctx(), &kms.TagResourceInput{KeyId: k1.KeyId, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("1")}, {TagKey: aws.String("b"), TagValue: aws.String("2")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.TagResource(ctx(), &kms.TagResourceInput{KeyId: k1.KeyId, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("3")}}}); err != nil {
		t.Fatalf("TagResource (replace): %v", err)
	}
	if _, err := c.UntagResource(ctx(), &kms.UntagResourceInput{KeyId: k1.KeyId, TagKeys: []string{"b"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	lt, err := c.ListResourceTags(ctx(), &kms.ListResourceTagsInput{KeyId: k1.KeyId})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].TagKey) != "a" || aws.ToString(lt.Tags[0].TagValue) != "3" {
		t.Errorf("ListResourceTags = %+v, %v; want [a=3]", lt, err)
	}
	_, err = c.TagResource(ctx(), &kms.TagResourceInput{KeyId: k1.KeyId, Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("1")}}})
	wantCode(t, "TagResource with aws: prefix", err, "TagException")

	// Policies.
	gp, err := c.GetKeyPolicy(ctx(), &kms.GetKeyPolicyInput{KeyId: k1.KeyId, PolicyName: aws.String("default")})
	if err != nil || !strings.Contains(aws.ToString(gp.Policy), "arn:aws:iam::"+acctA+":root") {
		t.Errorf("GetKeyPolicy = %v; want the default policy naming the account root", err)
	}
	_, err = c.PutKeyPolicy(ctx(), &kms.PutKeyPolicyInput{KeyId: k1.KeyId, PolicyName: aws.String("default"), Policy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a":"b"}}}]}`)})
	wantCode(t, "PutKeyPolicy with a Condition", err, "MalformedPolicyDocumentException")
	_, err = c.PutKeyPolicy(ctx(), &kms.PutKeyPolicyInput{KeyId: k1.KeyId, PolicyName: aws.String("default"), Policy: aws.String(`not json`)})
	wantCode(t, "PutKeyPolicy with bad JSON", err, "MalformedPolicyDocumentException")
	_, err = c.GetKeyPolicy(ctx(), &kms.GetKeyPolicyInput{KeyId: k1.KeyId, PolicyName: aws.String("other")})
	wantCode(t, "GetKeyPolicy of another name", err, "NotFoundException")
	lp, err := c.ListKeyPolicies(ctx(), &kms.ListKeyPoliciesInput{KeyId: k1.KeyId})
	if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "default" {
		t.Errorf("ListKeyPolicies = %v, %v; want [default]", lp, err)
	}
}

func TestListKeysPaging(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		want[aws.ToString(createKey(t, c, nil).KeyId)] = true
	}
	// A key in another Region and another account is not listed.
	createKey(t, client(ts, acctA, "eu-west-1"), nil)
	createKey(t, client(ts, acctB, "us-east-1"), nil)

	got := map[string]bool{}
	pages := 0
	p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{Limit: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx())
		if err != nil {
			t.Fatalf("ListKeys page %d: %v", pages, err)
		}
		pages++
		for _, k := range out.Keys {
			if got[aws.ToString(k.KeyId)] {
				t.Errorf("ListKeys returned %s twice", aws.ToString(k.KeyId))
			}
			got[aws.ToString(k.KeyId)] = true
		}
	}
	if pages != 3 || len(got) != len(want) {
		t.Errorf("ListKeys(Limit 3) = %d keys in %d pages; want %d keys in 3 pages", len(got), pages, len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("ListKeys missed %s", id)
		}
	}
	_, err := c.ListKeys(ctx(), &kms.ListKeysInput{Limit: aws.Int32(1001)})
	wantCode(t, "ListKeys(Limit 1001)", err, "ValidationException")
	_, err = c.ListKeys(ctx(), &kms.ListKeysInput{Marker: aws.String("zz")})
	wantCode(t, "ListKeys with a bad marker", err, "InvalidMarkerException")
}

func TestCustomKeyStoreKey(t *testing.T) {
	t.Parallel()
	srv, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, &kms.CreateKeyInput{CustomKeyStoreId: aws.String("cks-1234567890abcdef0"), Origin: types.OriginTypeAwsCloudhsm})
	if aws.ToString(md.CustomKeyStoreId) != "cks-1234567890abcdef0" || md.Origin != types.OriginTypeAwsCloudhsm {
		t.Errorf("custom key store key = (%q, %s); want (cks-1234567890abcdef0, AWS_CLOUDHSM)", aws.ToString(md.CustomKeyStoreId), md.Origin)
	}
	srv.SetQuota(scaledModel(t, 1))
	if _, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt with a custom key store key: %v", err)
	}
	st := stats(t, ts.URL)
	if b := st["-/us-east-1/cks:cks-1234567890abcdef0"]; b.Allowed != 1 {
		t.Errorf("custom key store bucket = %+v; want one allowed request (buckets: %v)", b, st)
	}
	if b := st[acctA+"/us-east-1/symmetric"]; b.Allowed != 1 {
		t.Errorf("caller symmetric bucket = %+v; want one allowed request", b)
	}
}

func TestAutomaticRotationAndDryRun(t *testing.T) {
	t.Parallel()
	srv, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, nil)
	old, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("old")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableKeyRotation(ctx(), &kms.EnableKeyRotationInput{KeyId: md.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetKeyRotationStatus(ctx(), &kms.GetKeyRotationStatusInput{KeyId: md.KeyId})
	if want := t0.Add(90 * 24 * time.Hour); err != nil || st.NextRotationDate == nil || !st.NextRotationDate.Equal(want) {
		t.Fatalf("NextRotationDate = %v, %v; want %v", st.NextRotationDate, err, want)
	}
	srv.Advance(91 * 24 * time.Hour)
	st, err = c.GetKeyRotationStatus(ctx(), &kms.GetKeyRotationStatusInput{KeyId: md.KeyId})
	if want := t0.Add(180 * 24 * time.Hour); err != nil || !st.NextRotationDate.Equal(want) {
		t.Errorf("NextRotationDate after one period = %v, %v; want %v", st.NextRotationDate, err, want)
	}
	newer, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("new")})
	if err != nil {
		t.Fatal(err)
	}
	// The header (format, account, id, material version) ends at byte 55;
	// a rotated key writes a new version there.
	if bytes.Equal(old.CiphertextBlob[:55], newer.CiphertextBlob[:55]) {
		t.Errorf("ciphertext headers before and after rotation are equal; want a new material version")
	}
	if dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob}); err != nil || string(dec.Plaintext) != "old" {
		t.Errorf("Decrypt of a pre-rotation ciphertext = (%q, %v); want old", dec.Plaintext, err)
	}

	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x"), DryRun: aws.Bool(true)})
	wantCode(t, "Encrypt with DryRun", err, "DryRunOperationException")
	_, err = c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob, DryRun: aws.Bool(true)})
	wantCode(t, "Decrypt with DryRun", err, "DryRunOperationException")
}

func TestServerVerifiesSigV4(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{VerifySigV4: true, Credentials: map[string]string{acctA: "secret", acctB: "other-secret"}, Clock: time.Now})
	if _, err := client(ts, acctA, "us-east-1").ListKeys(ctx(), &kms.ListKeysInput{}); err != nil {
		t.Errorf("ListKeys signed with the right secret: %v", err)
	}
	// client() signs with "secret": wrong for acctB.
	_, err := client(ts, acctB, "us-east-1").ListKeys(ctx(), &kms.ListKeysInput{})
	wantCode(t, "ListKeys signed with a wrong secret", err, "InvalidSignatureException")
	_, err = client(ts, "333333333333", "us-east-1").ListKeys(ctx(), &kms.ListKeysInput{})
	wantCode(t, "ListKeys with an unknown access key id", err, "UnrecognizedClientException")
	r := raw(t, ts, "", "", "ListKeys", `{}`)
	if !strings.Contains(r.body, "MissingAuthenticationTokenException") {
		t.Errorf("unsigned request = %d %s; want MissingAuthenticationTokenException", r.status, r.body)
	}
}

func TestConcurrentUseAndChanges(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, nil)
	ecc := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	done := make(chan error, 4)
	for w := 0; w < 3; w++ {
		go func() {
			for i := 0; i < 40; i++ {
				enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("p")})
				if err != nil {
					done <- err
					return
				}
				if _, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
					done <- err
					return
				}
				if _, err := c.Sign(ctx(), &kms.SignInput{KeyId: ecc.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for i := 0; i < 20; i++ {
			if _, err := c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: md.KeyId}); err != nil {
				done <- err
				return
			}
			if _, err := c.TagResource(ctx(), &kms.TagResourceInput{KeyId: md.KeyId, Tags: []types.Tag{{TagKey: aws.String("i"), TagValue: aws.String("v")}}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 4; i++ {
		if err := <-done; err != nil {
			t.Errorf("concurrent call: %v", err)
		}
	}
}
