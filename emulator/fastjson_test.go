package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"testing/cryptotest"
)

// plainBodies are requests the fast decoders must accept, and bodies
// around them that they must leave to encoding/json; every one decodes
// alike on both paths.
var plainBodies = []struct {
	body  string
	plain bool // the fast decoder takes it
}{
	{`{"KeyId":"k","KeySpec":"AES_256"}`, true},
	{` { "KeyId" : "k" , "NumberOfBytes" : 64 , "DryRun" : false }` + "\n", true},
	{`{"KeyId":"k","EncryptionContext":{"a":"b","c":""},"GrantTokens":["t","u"],"DryRun":true}`, true},
	{`{"KeyId":"k","Plaintext":"aGVsbG8=","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, true},
	{`{"CiphertextBlob":"","EncryptionContext":{},"GrantTokens":[]}`, true},
	{`{"NumberOfBytes":-0}`, true},
	{`{"NumberOfBytes":-123456789}`, true},
	{`{}`, true},
	{``, false},
	{`  `, false},
	{"\v{}", false},
	{`{"KeyId":"k\u0041"}`, false},
	{`{"KeyId":"k\n"}`, false},
	{`{"keyid":"k"}`, false},
	{`{"KeyId":"a","KeyId":"b"}`, false},
	{`{"EncryptionContext":{"a":"1"},"EncryptionContext":{"b":"2"}}`, false},
	{`{"EncryptionContext":{"a":"1","a":"2"}}`, false},
	{`{"KeyId":null}`, false},
	{`{"EncryptionContext":null}`, false},
	{`{"KeyId":1}`, false},
	{`{"NumberOfBytes":"1"}`, false},
	{`{"NumberOfBytes":1e2}`, false},
	{`{"NumberOfBytes":1.0}`, false},
	{`{"NumberOfBytes":01}`, false},
	{`{"NumberOfBytes":1234567890}`, false},
	{`{"NumberOfBytes":-}`, false},
	{`{"DryRun":tru}`, false},
	{`{"DryRun":truex}`, false},
	{`{"Plaintext":"!!"}`, false},
	{`{"Plaintext":"aGVsbG8"}`, false},
	{`{"CiphertextBlob":"aGVsbG8=","Other":1}`, false},
	{`{"KeyId":"k"}x`, false},
	{`{"KeyId":"k"}{}`, false},
	{`{"KeyId":"k",}`, false},
	{`{"KeyId":"k"`, false},
	{`{"KeyId":"é"}`, false},
	{`{"GrantTokens":["a",]}`, false},
	{`{"GrantTokens":[1]}`, false},
	{`[]`, false},
	{`"x"`, false},
	{`null`, false},
}

// decodeBoth decodes body into a fresh In through the fast decoder and
// through encoding/json and fails t when the fast one accepted the body
// and the two differ. It reports whether the fast one accepted it.
func decodeBoth[In any](t *testing.T, body []byte) bool {
	t.Helper()
	var fast, std In
	ok := fastDecode(body, &fast)
	e := decodeBody(body, &std)
	if !ok {
		if !reflect.DeepEqual(fast, *new(In)) {
			t.Fatalf("%T %q: the fast decoder gave up but changed its output: %+v", fast, body, fast)
		}
		return false
	}
	if e != nil {
		t.Fatalf("%T %q: the fast decoder accepted a body encoding/json refuses (%v)", fast, body, e)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("%T %q: fast %+v, encoding/json %+v", fast, body, fast, std)
	}
	return true
}

func TestFastDecodeAgrees(t *testing.T) {
	for _, b := range plainBodies {
		body := []byte(b.body)
		dk := decodeBoth[dataKeyIn](t, body)
		enc := decodeBoth[encryptIn](t, body)
		dec := decodeBoth[decryptIn](t, body)
		if took := dk || enc || dec; took != b.plain {
			t.Errorf("%q: a fast decoder took it: %v, want %v", b.body, took, b.plain)
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, b := range plainBodies {
		f.Add([]byte(b.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeBoth[dataKeyIn](t, body)
		decodeBoth[encryptIn](t, body)
		decodeBoth[decryptIn](t, body)
	})
}

// encodeStd is v as writeJSON encodes it through encoding/json.
func encodeStd(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func FuzzFastEncode(f *testing.F) {
	f.Add("arn:aws:kms:us-east-1:111111111111:key/k", "SYMMETRIC_DEFAULT", []byte{1, 2, 3}, []byte{}, false)
	f.Add("a\"<>&\u2028é\x00", "\\", []byte(nil), []byte{0xff}, true)
	f.Fuzz(func(t *testing.T, keyID, alg string, a, b []byte, nilB bool) {
		if nilB {
			b = nil
		}
		for _, v := range []any{
			dataKeyOut{CiphertextBlob: a, Plaintext: b, KeyId: keyID},
			encryptOut{CiphertextBlob: a, KeyId: keyID, EncryptionAlgorithm: alg},
			decryptOut{KeyId: keyID, Plaintext: b, EncryptionAlgorithm: alg},
		} {
			got, ok := fastEncode(nil, v)
			if !ok {
				if plainText(keyID) && plainText(alg) {
					t.Fatalf("%#v: plain, but the fast encoder gave up", v)
				}
				continue
			}
			if want := encodeStd(t, v); !bytes.Equal(got, want) {
				t.Fatalf("%#v:\nfast %s\nstd  %s", v, got, want)
			}
		}
	})
}

// send sends one request with body to s, its JSON codec as std says.
func send(s *Server, std bool, op string, body []byte) *httptest.ResponseRecorder {
	s.stdJSON = std
	defer func() { s.stdJSON = false }()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// sendSeeded is send with the random stream reset to seed, so that both
// codecs see the same data keys and nonces.
func sendSeeded(t *testing.T, s *Server, std bool, seed uint64, op string, body []byte) *httptest.ResponseRecorder {
	cryptotest.SetGlobalRandom(t, seed)
	return send(s, std, op, body)
}

// createKey makes a key of spec and usage on s and returns its id.
func createKey(t testing.TB, s *Server, spec, usage string) string {
	w := send(s, false, "CreateKey", []byte(`{"KeySpec":"`+spec+`","KeyUsage":"`+usage+`"}`))
	var out struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK {
		t.Fatalf("CreateKey %s: %d %s", spec, w.Code, w.Body)
	}
	return out.KeyMetadata.KeyId
}

// hotOps are the operations with a fast codec.
var hotOps = []string{"GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "Encrypt", "Decrypt"}

// FuzzFastHandler sends each body to each hot operation twice, through
// the fast codec and through encoding/json, with the same random stream
// (after a first request that changes the state as the body may):
// status, headers (but the request id) and body must be the same.
func FuzzFastHandler(f *testing.F) {
	s, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	sym := createKey(f, s, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
	rsaKey := createKey(f, s, "RSA_2048", "ENCRYPT_DECRYPT")
	mac := createKey(f, s, "HMAC_256", "GENERATE_VERIFY_MAC")
	var ct struct{ CiphertextBlob string }
	w := send(s, false, "Encrypt", []byte(`{"KeyId":"`+sym+`","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b"}}`))
	_ = json.Unmarshal(w.Body.Bytes(), &ct)
	for _, b := range plainBodies {
		f.Add(uint8(0), []byte(b.body))
	}
	for _, body := range []string{
		`{"KeyId":"` + sym + `","KeySpec":"AES_256"}`,
		`{"KeyId":"arn:aws:kms:us-east-1:111111111111:key/` + sym + `","NumberOfBytes":16,"EncryptionContext":{"a":"b"}}`,
		`{"KeyId":"` + sym + `","KeySpec":"AES_128","DryRun":true}`,
		`{"KeyId":"` + mac + `","KeySpec":"AES_256"}`,
		`{"KeyId":"alias/aws/s3","KeySpec":"AES_256"}`,
		`{"KeyId":"` + sym + `","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b"}}`,
		`{"KeyId":"` + rsaKey + `","Plaintext":"aGVsbG8=","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}`,
		`{"CiphertextBlob":"` + ct.CiphertextBlob + `","EncryptionContext":{"a":"b"}}`,
		`{"CiphertextBlob":"` + ct.CiphertextBlob + `","KeyId":"` + sym + `","EncryptionContext":{"a":"c"}}`,
	} {
		for i := range hotOps {
			f.Add(uint8(i), []byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := hotOps[int(opIndex)%len(hotOps)]
		// A first request does what a body does once (an AWS-managed
		// key created, an RSA key generated), drawing randomness.
		send(s, true, op, body)
		std := sendSeeded(t, s, true, 1, op, body)
		fast := sendSeeded(t, s, false, 1, op, body)
		std.Header().Del(headerReqID)
		fast.Header().Del(headerReqID)
		if std.Code != fast.Code || !reflect.DeepEqual(std.Header(), fast.Header()) || !bytes.Equal(std.Body.Bytes(), fast.Body.Bytes()) {
			t.Fatalf("%s %q:\nencoding/json %d %v %s\nfast          %d %v %s", op, body,
				std.Code, std.Header(), std.Body, fast.Code, fast.Header(), fast.Body)
		}
	})
}
