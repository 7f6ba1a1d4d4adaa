package importer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/scenario"
)

const (
	acct   = "111122223333"
	symKey = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	dstKey = "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
	macKey = "arn:aws:kms:us-west-2:111122223333:key/aaaa1111-12ab-34cd-56ef-1234567890ab"
	eccKey = "arn:aws:kms:us-west-2:111122223333:key/bbbb2222-12ab-34cd-56ef-1234567890ab"
)

// record is an event shaped as the Developer Guide's "Examples of AWS
// KMS log entries" give it for op, by the user Alice, at second sec.
func record(op string, sec int, params string, keys ...string) string {
	var res []string
	for _, k := range keys {
		res = append(res, `{"accountId":"`+acct+`","ARN":"`+k+`"}`) // GenerateMac's example has no type
	}
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"EX_PRINCIPAL_ID","arn":"arn:aws:iam::%s:user/Alice","accountId":"%s","accessKeyId":"EXAMPLE_KEY_ID","userName":"Alice"},"eventTime":"2026-11-30T09:00:%02dZ","eventSource":"kms.amazonaws.com","eventName":"%s","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.0","userAgent":"AWS Internal","requestParameters":%s,"responseElements":null,"readOnly":true,"resources":[%s],"eventType":"AwsApiCall","recipientAccountId":"%s"}`,
		acct, acct, sec, op, params, strings.Join(res, ","), acct)
}

// shapes has one record of every data-plane operation.
var shapes = []string{
	record("Encrypt", 0, `{"keyId":"alias/app","encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"Department":"10103.0"}}`, symKey),
	record("Decrypt", 1, `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"Department":"10103.0"}}`, symKey),
	record("GenerateDataKey", 2, `{"keyId":"alias/app","numberOfBytes":32}`, symKey),
	record("GenerateDataKeyWithoutPlaintext", 3, `{"keyId":"`+symKey+`","keySpec":"AES_256"}`, symKey),
	record("GenerateDataKeyPair", 4, `{"keyId":"`+symKey+`","keyPairSpec":"RSA_2048"}`, symKey),
	record("ReEncrypt", 5, `{"sourceEncryptionAlgorithm":"SYMMETRIC_DEFAULT","destinationKeyId":"0987dcba-09fe-87dc-65ba-ab0987654321","destinationEncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, symKey, dstKey),
	record("GenerateMac", 6, `{"macAlgorithm":"HMAC_SHA_512","keyId":"aaaa1111-12ab-34cd-56ef-1234567890ab"}`, macKey),
	record("VerifyMac", 7, `{"macAlgorithm":"HMAC_SHA_512","keyId":"aaaa1111-12ab-34cd-56ef-1234567890ab"}`, macKey),
	record("Sign", 8, `{"keyId":"`+eccKey+`","messageType":"RAW","signingAlgorithm":"ECDSA_SHA_256"}`, eccKey),
	record("Verify", 9, `{"keyId":"`+eccKey+`","messageType":"RAW","signingAlgorithm":"ECDSA_SHA_256"}`, eccKey),
	record("GenerateRandom", 10, `{"numberOfBytes":32}`),
	record("DescribeKey", 11, `{"keyId":"alias/app"}`, symKey),
	// Throttled calls have no resources: one names its key by the alias
	// the caller used elsewhere, one names none.
	strings.Replace(record("GenerateDataKey", 12, `{"keyId":"alias/app","numberOfBytes":32}`), `"readOnly"`, `"errorCode":"ThrottlingException","errorMessage":"Rate exceeded","readOnly"`, 1),
	strings.Replace(record("Decrypt", 13, `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`), `"readOnly"`, `"errorCode":"ThrottlingException","errorMessage":"Rate exceeded","readOnly"`, 1),
}

// TestImportShapes: each operation's record becomes its workload, on the
// key it was charged to (ReEncrypt's destination), with the key's spec
// told by the calls' algorithms; out-of-order files and a malformed
// record change nothing else.
func TestImportShapes(t *testing.T) {
	dir := t.TempDir()
	// Later seconds in the file that sorts first; a malformed record.
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(strings.Join(shapes[7:], "\n")+"\n{broken\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.json"), []byte(`{"Records":[`+strings.Join(shapes[:7], ",")+`]}`), 0o644)
	res, sum := importDir(t, dir, importer.Options{Throttled: importer.ThrottledReplay, KeepIdentities: true})
	if sum.SkippedCount != 1 || sum.Skipped[0].File != filepath.Join(dir, "a.jsonl") || sum.Skipped[0].Index != 7 {
		t.Errorf("skipped %+v; want the broken record, a.jsonl record 7", sum.Skipped)
	}
	var got []string
	for _, w := range res.Workloads {
		got = append(got, fmt.Sprintf("%s=%g", w.Name, w.Requests))
	}
	sort.Strings(got)
	want := []string{
		"acct-3333-user-Alice-decrypt-1234abcd=2", // the unnamed throttled Decrypt too
		"acct-3333-user-Alice-describe-key-1234abcd=1",
		"acct-3333-user-Alice-encrypt-1234abcd=1",
		"acct-3333-user-Alice-generate-data-key-1234abcd=2", // the throttled one by its alias
		"acct-3333-user-Alice-generate-data-key-pair-rsa_2048-1234abcd=1",
		"acct-3333-user-Alice-generate-data-key-without-plaintext-1234abcd=1",
		"acct-3333-user-Alice-generate-mac-aaaa1111=1",
		"acct-3333-user-Alice-generate-random=1",
		"acct-3333-user-Alice-re-encrypt-0987dcba=1",
		"acct-3333-user-Alice-sign-bbbb2222=1",
		"acct-3333-user-Alice-verify-bbbb2222=1",
		"acct-3333-user-Alice-verify-mac-aaaa1111=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("workloads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Summary.UnresolvedKey != 1 || res.Start.Second() != 0 || res.End.Second() != 14 {
		t.Errorf("unresolved %d, window %v-%v; want 1, 09:00:00-09:00:14", res.Summary.UnresolvedKey, res.Start, res.End)
	}
	s := load(t, res)
	for name, spec := range map[string]string{"key-aaaa1111": "HMAC_512", "key-bbbb2222": "ECC_NIST_P256", "key-1234abcd": scenario.SpecSymmetricDefault} {
		if s.Keys[name].Spec != spec {
			t.Errorf("key %s: spec %s; want %s", name, s.Keys[name].Spec, spec)
		}
	}
}
