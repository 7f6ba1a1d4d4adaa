package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/emulator"
)

// kmsErrorBody is a KMS error body.
type kmsErrorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func b64(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

func TestWireErrors(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	r := raw(t, ts, acctA, "us-east-1", "CreateKey", `{}`)
	if r.status != http.StatusOK {
		t.Fatalf("CreateKey: status %d: %s", r.status, r.body)
	}
	var ck struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal([]byte(r.body), &ck); err != nil {
		t.Fatal(err)
	}
	id := ck.KeyMetadata.KeyId

	tests := []struct {
		name, op, body string
		wantStatus     int
		wantType       string
	}{
		{"unknown operation", "Frobnicate", `{}`, 400, "UnknownOperationException"},
		{"no target", "", `{}`, 400, "UnknownOperationException"},
		{"malformed JSON", "Encrypt", `{"KeyId":`, 400, "SerializationException"},
		{"not an object", "Encrypt", `[1,2]`, 400, "SerializationException"},
		{"wrong type", "Encrypt", `{"KeyId":5,"Plaintext":"aGk="}`, 400, "SerializationException"},
		{"bad base64", "Encrypt", `{"KeyId":"` + id + `","Plaintext":"!!!"}`, 400, "SerializationException"},
		{"missing key id", "Encrypt", `{"Plaintext":"aGk="}`, 400, "ValidationException"},
		{"missing plaintext", "Encrypt", `{"KeyId":"` + id + `"}`, 400, "ValidationException"},
		{"plaintext 4096", "Encrypt", `{"KeyId":"` + id + `","Plaintext":"` + b64(4096) + `"}`, 200, ""},
		{"plaintext 4097", "Encrypt", `{"KeyId":"` + id + `","Plaintext":"` + b64(4097) + `"}`, 400, "ValidationException"},
		{"data key 0 bytes", "GenerateDataKey", `{"KeyId":"` + id + `","NumberOfBytes":0}`, 400, "ValidationException"},
		{"data key 1025 bytes", "GenerateDataKey", `{"KeyId":"` + id + `","NumberOfBytes":1025}`, 400, "ValidationException"},
		{"data key bad spec", "GenerateDataKey", `{"KeyId":"` + id + `","KeySpec":"AES_512"}`, 400, "ValidationException"},
		{"data key spec and bytes", "GenerateDataKey", `{"KeyId":"` + id + `","KeySpec":"AES_256","NumberOfBytes":32}`, 400, "ValidationException"},
		{"data key neither", "GenerateDataKey", `{"KeyId":"` + id + `"}`, 400, "ValidationException"},
		{"random 0", "GenerateRandom", `{"NumberOfBytes":0}`, 400, "ValidationException"},
		{"random 1024", "GenerateRandom", `{"NumberOfBytes":1024}`, 200, ""},
		{"random 1025", "GenerateRandom", `{"NumberOfBytes":1025}`, 400, "ValidationException"},
		{"random missing", "GenerateRandom", `{}`, 400, "ValidationException"},
		{"ciphertext 6145", "Decrypt", `{"CiphertextBlob":"` + b64(6145) + `"}`, 400, "ValidationException"},
		{"ciphertext garbage", "Decrypt", `{"CiphertextBlob":"` + b64(100) + `"}`, 400, "InvalidCiphertextException"},
		{"empty body", "ListKeys", ``, 200, ""},
		{"null body", "DescribeKey", `null`, 400, "ValidationException"},
		{"unknown key", "DescribeKey", `{"KeyId":"nope"}`, 400, "NotFoundException"},
		{"bad ARN", "DescribeKey", `{"KeyId":"arn:aws:kms:x"}`, 400, "NotFoundException"},
		{"oversize body", "Encrypt", `{"KeyId":"` + strings.Repeat("a", 1<<20) + `"}`, 400, "ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, ts, acctA, "us-east-1", tc.op, tc.body)
			if r.status != tc.wantStatus {
				t.Errorf("%s %s: status = %d; want %d (body %.200s)", tc.op, tc.name, r.status, tc.wantStatus, r.body)
			}
			if r.header.Get("x-amzn-RequestId") == "" {
				t.Errorf("%s %s: no x-amzn-RequestId header", tc.op, tc.name)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("%s %s: Content-Type = %q; want application/x-amz-json-1.1", tc.op, tc.name, ct)
			}
			if tc.wantType == "" {
				return
			}
			var eb kmsErrorBody
			if err := json.Unmarshal([]byte(r.body), &eb); err != nil {
				t.Fatalf("%s %s: error body %q is not JSON: %v", tc.op, tc.name, r.body, err)
			}
			if eb.Type != tc.wantType {
				t.Errorf("%s %s: __type = %q (%s); want %q", tc.op, tc.name, eb.Type, eb.Message, tc.wantType)
			}
		})
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		id := raw(t, ts, acctA, "us-east-1", "ListKeys", `{}`).header.Get("x-amzn-RequestId")
		if len(id) != 36 || seen[id] {
			t.Fatalf("request id %q: want a fresh 36-character id", id)
		}
		seen[id] = true
	}
}

func TestNonPostAndAccountFallback(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{DefaultAccount: "999999999999", DefaultRegion: "eu-west-1"})
	resp, err := ts.Client().Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET / status = %d; want 400", resp.StatusCode)
	}
	// An access key id that is not 12 digits maps to the default account;
	// no credential scope maps to the default Region.
	r := raw(t, ts, "AKIAEXAMPLE", "ap-south-1", "CreateKey", `{}`)
	if !strings.Contains(r.body, `"AWSAccountId":"999999999999"`) || !strings.Contains(r.body, "arn:aws:kms:ap-south-1:") {
		t.Errorf("CreateKey with a non-numeric access key id = %s; want account 999999999999 in ap-south-1", r.body)
	}
	r = raw(t, ts, "", "", "CreateKey", `{}`)
	if !strings.Contains(r.body, "arn:aws:kms:eu-west-1:999999999999:key/") {
		t.Errorf("CreateKey without credentials = %s; want a key in eu-west-1 of 999999999999", r.body)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts emulator.Options
	}{
		{"short account", emulator.Options{DefaultAccount: "123"}},
		{"fault share above 1", emulator.Options{Faults: map[string]float64{"Encrypt": 1.5}}},
		{"relative upstream", emulator.Options{Upstream: "localhost"}},
		{"sigv4 without credentials", emulator.Options{VerifySigV4: true}},
	} {
		if _, err := emulator.New(tc.opts); err == nil {
			t.Errorf("New(%s) = nil error; want an error", tc.name)
		}
	}
}
