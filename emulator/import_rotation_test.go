package emulator_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

// importOAEP imports material into key id wrapped with RSAES_OAEP_SHA_256
// (by crypto/rsa here; wrap.py checks every algorithm elsewhere), with
// the options edit sets; a nil edit imports material that does not
// expire.
func importOAEP(t *testing.T, c *kms.Client, id *string, material []byte, edit func(*kms.ImportKeyMaterialInput)) (*kms.ImportKeyMaterialOutput, error) {
	t.Helper()
	p, err := c.GetParametersForImport(ctx(), &kms.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if err != nil {
		t.Fatalf("GetParametersForImport: %v", err)
	}
	pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}
	if edit != nil {
		edit(in)
	}
	return c.ImportKeyMaterial(ctx(), in)
}

func newMaterial(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func currentMaterial(t *testing.T, c *kms.Client, id *string) string {
	t.Helper()
	out, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.KeyMetadata.CurrentKeyMaterialId)
}

func allMaterials(t *testing.T, c *kms.Client, id *string) []types.RotationsListEntry {
	t.Helper()
	out, err := c.ListKeyRotations(ctx(), &kms.ListKeyRotationsInput{KeyId: id, IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
	if err != nil {
		t.Fatal(err)
	}
	return out.Rotations
}

func newType(in *kms.ImportKeyMaterialInput) { in.ImportType = types.ImportTypeNewKeyMaterial }

// TestImportedRotation: a symmetric key of imported material takes new
// material (ImportType NEW_KEY_MATERIAL) that waits PENDING_ROTATION
// until RotateKeyOnDemand makes it current; old ciphertexts still
// decrypt; each material is deleted and reimported by its id; errors are
// AWS's for a second pending material, rotation without one, a wrong
// KeyMaterialId and misuse of the symmetric-only parameters.
func TestImportedRotation(t *testing.T) {
	clock := &fixedClock{now: t0}
	srv, ts := start(t, emulator.Options{Clock: clock.Now})
	c := client(ts, acctA, "us-east-1")
	k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	if got := currentMaterial(t, c, k.KeyId); got != "" {
		t.Errorf("CurrentKeyMaterialId before any import = %q; want none", got)
	}
	a, b := newMaterial(t), newMaterial(t)
	outA, err := importOAEP(t, c, k.KeyId, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	idA := aws.ToString(outA.KeyMaterialId)
	if len(idA) != 64 || currentMaterial(t, c, k.KeyId) != idA || aws.ToString(outA.KeyId) != aws.ToString(k.Arn) {
		t.Fatalf("first import: KeyId %s KeyMaterialId %q, current %q; want the ARN, 64 hex digits, current", aws.ToString(outA.KeyId), idA, currentMaterial(t, c, k.KeyId))
	}
	old, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("old")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantCode(t, "RotateKeyOnDemand without material pending rotation", err, "KMSInvalidStateException")
	_, err = c.EnableKeyRotation(ctx(), &kms.EnableKeyRotationInput{KeyId: k.KeyId})
	wantCode(t, "EnableKeyRotation of imported material", err, "UnsupportedOperationException")

	outB, err := importOAEP(t, c, k.KeyId, b, func(in *kms.ImportKeyMaterialInput) {
		newType(in)
		in.KeyMaterialDescription = aws.String("second")
	})
	if err != nil {
		t.Fatal(err)
	}
	idB := aws.ToString(outB.KeyMaterialId)
	if currentMaterial(t, c, k.KeyId) != idA {
		t.Errorf("importing new material changed the current material")
	}
	list := allMaterials(t, c, k.KeyId)
	if len(list) != 2 || list[0].KeyMaterialState != types.KeyMaterialStateCurrent || list[1].KeyMaterialState != types.KeyMaterialStatePendingRotation ||
		aws.ToString(list[1].KeyMaterialId) != idB || aws.ToString(list[1].KeyMaterialDescription) != "second" ||
		list[1].ImportState != types.ImportStateImported || list[1].RotationDate != nil || list[0].ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire {
		t.Fatalf("ListKeyRotations ALL_KEY_MATERIAL after a new import = %+v", list)
	}
	_, err = importOAEP(t, c, k.KeyId, newMaterial(t), newType)
	wantCode(t, "a second material pending rotation", err, "KMSInvalidStateException")

	clock.Set(t0.Add(time.Hour))
	rot, err := c.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(rot.KeyId) != aws.ToString(k.Arn) {
		t.Errorf("RotateKeyOnDemand KeyId %s; want the ARN", aws.ToString(rot.KeyId))
	}
	if currentMaterial(t, c, k.KeyId) != idB {
		t.Errorf("current material after the rotation is not the one imported for it")
	}
	out, err := c.ListKeyRotations(ctx(), &kms.ListKeyRotationsInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Rotations; len(r) != 1 || aws.ToString(r[0].KeyMaterialId) != idB || r[0].RotationType != types.RotationTypeOnDemand ||
		!aws.ToTime(r[0].RotationDate).Equal(t0.Add(time.Hour)) || r[0].KeyMaterialState != types.KeyMaterialStateCurrent {
		t.Errorf("ListKeyRotations after the rotation = %+v; want the new material, on demand, CURRENT", r)
	}
	if dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob}); err != nil || string(dec.Plaintext) != "old" {
		t.Fatalf("Decrypt of a ciphertext under the first material: %v", err)
	}

	ts = reloaded(t, srv) // the materials and their states survive a restart
	c = client(ts, acctA, "us-east-1")
	del, err := c.DeleteImportedKeyMaterial(ctx(), &kms.DeleteImportedKeyMaterialInput{KeyId: k.KeyId, KeyMaterialId: aws.String(idA)})
	if err != nil || aws.ToString(del.KeyMaterialId) != idA {
		t.Fatalf("DeleteImportedKeyMaterial of the first material: %v (%+v)", err, del)
	}
	if got := state(t, c, k.KeyId); got != types.KeyStatePendingImport {
		t.Errorf("state without the first material: %s; want PendingImport", got)
	}
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantCode(t, "Encrypt while a material is deleted", err, "KMSInvalidStateException")
	_, err = importOAEP(t, c, k.KeyId, a, func(in *kms.ImportKeyMaterialInput) { in.KeyMaterialId = aws.String(idB) })
	wantCode(t, "reimport naming another material's id", err, "IncorrectKeyMaterialException")
	if _, err := importOAEP(t, c, k.KeyId, a, func(in *kms.ImportKeyMaterialInput) { in.KeyMaterialId = aws.String(idA) }); err != nil {
		t.Fatalf("reimport of the first material by its id: %v", err)
	}
	if got := state(t, c, k.KeyId); got != types.KeyStateEnabled {
		t.Errorf("state with every material back: %s; want Enabled", got)
	}
	if dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob}); err != nil || string(dec.Plaintext) != "old" {
		t.Errorf("Decrypt after the reimport: %v", err)
	}
	_, err = c.DeleteImportedKeyMaterial(ctx(), &kms.DeleteImportedKeyMaterialInput{KeyId: k.KeyId, KeyMaterialId: aws.String(string(bytes.Repeat([]byte("0"), 64)))})
	wantCode(t, "DeleteImportedKeyMaterial of a material the key does not have", err, "NotFoundException")
}

// TestImportedRotationValidation: the symmetric-only parameters, their
// combinations and the 365-day bound of ValidTo.
func TestImportedRotationValidation(t *testing.T) {
	clock := &fixedClock{now: t0}
	_, ts := start(t, emulator.Options{Clock: clock.Now})
	c := client(ts, acctA, "us-east-1")
	sym := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	hmacKey := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	tooLate := t0.Add(366 * 24 * time.Hour)
	for _, tc := range []struct {
		name string
		key  *types.KeyMetadata
		edit func(*kms.ImportKeyMaterialInput)
		want string
	}{
		{"ImportType on an HMAC key", hmacKey, newType, "ValidationException"},
		{"KeyMaterialDescription on an HMAC key", hmacKey, func(in *kms.ImportKeyMaterialInput) { in.KeyMaterialDescription = aws.String("d") }, "ValidationException"},
		{"KeyMaterialId with NEW_KEY_MATERIAL", sym, func(in *kms.ImportKeyMaterialInput) {
			newType(in)
			in.KeyMaterialId = aws.String(string(bytes.Repeat([]byte("a"), 64)))
		}, "ValidationException"},
		{"unknown ImportType", sym, func(in *kms.ImportKeyMaterialInput) { in.ImportType = "SOME_MATERIAL" }, "ValidationException"},
		{"ValidTo beyond 365 days", sym, func(in *kms.ImportKeyMaterialInput) {
			in.ExpirationModel, in.ValidTo = types.ExpirationModelTypeKeyMaterialExpires, &tooLate
		}, "ValidationException"},
		{"EXISTING_KEY_MATERIAL before any import", sym, func(in *kms.ImportKeyMaterialInput) { in.ImportType = types.ImportTypeExistingKeyMaterial }, "IncorrectKeyMaterialException"},
	} {
		_, err := importOAEP(t, c, tc.key.KeyId, newMaterial(t), tc.edit)
		wantCode(t, tc.name, err, tc.want)
	}
	if got := state(t, c, sym.KeyId); got != types.KeyStatePendingImport {
		t.Errorf("state after refused imports: %s; want PendingImport", got)
	}
}

// TestImportedMultiRegion: a replica of a primary of imported material
// starts PendingImport and takes only its primary's material; new
// material goes into the primary, waits
// PENDING_MULTI_REGION_IMPORT_AND_ROTATION until every replica has it,
// and one rotation of the primary makes it current in every Region.
func TestImportedMultiRegion(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	east, west := client(ts, acctA, "us-east-1"), client(ts, acctA, "us-west-2")
	k := createKey(t, east, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, MultiRegion: aws.Bool(true)})
	rep, err := east.ReplicateKey(ctx(), &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("us-west-2")})
	if err != nil {
		t.Fatal(err)
	}
	if md := rep.ReplicaKeyMetadata; md.KeyState != types.KeyStateCreating || md.Enabled || md.CurrentKeyMaterialId != nil || aws.ToString(md.Description) != "" {
		t.Errorf("ReplicateKey answer: state %s enabled %v material %v description %q; want Creating, false, none, empty",
			md.KeyState, md.Enabled, md.CurrentKeyMaterialId, aws.ToString(md.Description))
	}
	if got := state(t, west, k.KeyId); got != types.KeyStatePendingImport {
		t.Fatalf("replica of imported material: %s; want PendingImport", got)
	}
	a, b := newMaterial(t), newMaterial(t)
	_, err = importOAEP(t, west, k.KeyId, a, nil)
	wantCode(t, "replica import before its primary has material", err, "IncorrectKeyMaterialException")
	if _, err := importOAEP(t, east, k.KeyId, a, nil); err != nil {
		t.Fatal(err)
	}
	_, err = importOAEP(t, west, k.KeyId, a, newType)
	wantCode(t, "new material into a replica", err, "UnsupportedOperationException")
	_, err = importOAEP(t, west, k.KeyId, b, nil)
	wantCode(t, "other material into a replica", err, "IncorrectKeyMaterialException")
	if _, err := importOAEP(t, west, k.KeyId, a, nil); err != nil {
		t.Fatalf("the primary's material into the replica: %v", err)
	}
	enc, err := east.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("east")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := west.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatalf("replica decrypts the primary's ciphertext: %v", err)
	}

	if _, err := importOAEP(t, east, k.KeyId, b, newType); err != nil {
		t.Fatal(err)
	}
	if l := allMaterials(t, east, k.KeyId); len(l) != 2 || l[1].KeyMaterialState != types.KeyMaterialStatePendingMultiRegionImportAndRotation {
		t.Fatalf("primary's materials before the replica has the new one = %+v; want it PENDING_MULTI_REGION_IMPORT_AND_ROTATION", l)
	}
	_, err = east.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantCode(t, "rotation before every replica has the material", err, "KMSInvalidStateException")
	if _, err := importOAEP(t, west, k.KeyId, b, func(in *kms.ImportKeyMaterialInput) { in.ImportType = types.ImportTypeExistingKeyMaterial }); err != nil {
		t.Fatalf("the new material into the replica: %v", err)
	}
	if l := allMaterials(t, east, k.KeyId); len(l) != 2 || l[1].KeyMaterialState != types.KeyMaterialStatePendingRotation {
		t.Fatalf("primary's materials once every replica has the new one = %+v; want it PENDING_ROTATION", l)
	}
	_, err = west.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantCode(t, "rotating a replica", err, "UnsupportedOperationException")
	if _, err := east.RotateKeyOnDemand(ctx(), &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if e, w := currentMaterial(t, east, k.KeyId), currentMaterial(t, west, k.KeyId); e != w || e == "" || len(allMaterials(t, west, k.KeyId)) != 2 {
		t.Errorf("after the rotation: primary's current %q, replica's %q; want the same new material", e, w)
	}
	enc, err = west.Encrypt(ctx(), &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("west")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := east.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "west" {
		t.Errorf("primary decrypts the replica's ciphertext under the new material: %v", err)
	}
}

// TestMetadataKeys: the members of KeyMetadata in CreateKey, DescribeKey
// and ReplicateKey answers are those AWS sends for each kind of key
// (its recorded responses and the API reference's KeyMetadata): which
// algorithms list, CurrentKeyMaterialId only for symmetric keys with
// material of AWS_KMS or EXTERNAL origin (kept after a deletion),
// ExpirationModel once material is imported, the custom key stores'
// CloudHsmClusterId and XksKeyConfiguration, and multi-Region
// configuration only on multi-Region keys.
func TestMetadataKeys(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	common := []string{"AWSAccountId", "Arn", "CreationDate", "CustomerMasterKeySpec", "Description", "Enabled", "KeyId", "KeyManager", "KeySpec", "KeyState", "KeyUsage", "MultiRegion", "Origin"}
	describeIn := func(region string, id *string) map[string]json.RawMessage {
		r := raw(t, ts, acctA, region, "DescribeKey", `{"KeyId":"`+aws.ToString(id)+`"}`)
		var out struct{ KeyMetadata map[string]json.RawMessage }
		if err := json.Unmarshal([]byte(r.body), &out); err != nil || r.status != 200 {
			t.Fatalf("DescribeKey: %d %s", r.status, r.body)
		}
		return out.KeyMetadata
	}
	describe := func(id *string) map[string]json.RawMessage { return describeIn("us-east-1", id) }
	check := func(what string, md map[string]json.RawMessage, extra ...string) {
		t.Helper()
		want := append(slices.Clone(common), extra...)
		got := slices.Sorted(maps.Keys(md))
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: KeyMetadata members %v; want %v", what, got, want)
		}
	}
	sym := createKey(t, c, nil)
	check("symmetric key", describe(sym.KeyId), "CurrentKeyMaterialId", "EncryptionAlgorithms")
	mac := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	check("HMAC key", describe(mac.KeyId), "MacAlgorithms")
	ext := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	check("EXTERNAL key before the import", describe(ext.KeyId), "EncryptionAlgorithms")
	if _, err := importOAEP(t, c, ext.KeyId, newMaterial(t), nil); err != nil {
		t.Fatal(err)
	}
	check("EXTERNAL key with material", describe(ext.KeyId), "CurrentKeyMaterialId", "EncryptionAlgorithms", "ExpirationModel")
	if _, err := c.DeleteImportedKeyMaterial(ctx(), &kms.DeleteImportedKeyMaterialInput{KeyId: ext.KeyId}); err != nil {
		t.Fatal(err)
	}
	check("EXTERNAL key after DeleteImportedKeyMaterial", describe(ext.KeyId), "CurrentKeyMaterialId", "EncryptionAlgorithms")
	hsm := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String("cks-1234567890abcdef0")})
	md := describe(hsm.KeyId)
	check("CloudHSM key store key", md, "CloudHsmClusterId", "CustomKeyStoreId", "EncryptionAlgorithms")
	if hsm2 := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String("cks-1234567890abcdef0")}); aws.ToString(hsm2.CloudHsmClusterId) != aws.ToString(hsm.CloudHsmClusterId) {
		t.Errorf("keys of one CloudHSM store name clusters %s and %s", aws.ToString(hsm.CloudHsmClusterId), aws.ToString(hsm2.CloudHsmClusterId))
	}
	xks := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternalKeyStore, CustomKeyStoreId: aws.String("cks-9876543210fedcba0"), XksKeyId: aws.String("bb8562717f809024")})
	check("external key store key", describe(xks.KeyId), "CustomKeyStoreId", "EncryptionAlgorithms", "XksKeyConfiguration")
	if got := aws.ToString(xks.XksKeyConfiguration.Id); got != "bb8562717f809024" {
		t.Errorf("XksKeyConfiguration.Id = %q; want the XksKeyId given", got)
	}
	_, err := c.CreateKey(ctx(), &kms.CreateKeyInput{Origin: types.OriginTypeExternalKeyStore, CustomKeyStoreId: aws.String("cks-9876543210fedcba0")})
	wantCode(t, "external key store key without XksKeyId", err, "ValidationException")
	_, err = c.CreateKey(ctx(), &kms.CreateKeyInput{XksKeyId: aws.String("bb8562717f809024")})
	wantCode(t, "XksKeyId outside an external key store", err, "ValidationException")

	mrk := createKey(t, c, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	md = describe(mrk.KeyId)
	check("multi-Region primary", md, "CurrentKeyMaterialId", "EncryptionAlgorithms", "MultiRegionConfiguration")
	if !bytes.Contains(md["MultiRegionConfiguration"], []byte(`"ReplicaKeys":[]`)) {
		t.Errorf("primary without replicas: MultiRegionConfiguration %s; want ReplicaKeys []", md["MultiRegionConfiguration"])
	}
	r := raw(t, ts, acctA, "us-east-1", "ReplicateKey", `{"KeyId":"`+aws.ToString(mrk.KeyId)+`","ReplicaRegion":"eu-west-1"}`)
	var rep struct{ ReplicaKeyMetadata map[string]json.RawMessage }
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || r.status != 200 {
		t.Fatalf("ReplicateKey: %d %s", r.status, r.body)
	}
	check("ReplicateKey's replica (Creating)", rep.ReplicaKeyMetadata, "EncryptionAlgorithms", "MultiRegionConfiguration")
	check("replica", describeIn("eu-west-1", mrk.KeyId), "CurrentKeyMaterialId", "EncryptionAlgorithms", "MultiRegionConfiguration")
}
