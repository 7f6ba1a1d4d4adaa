package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kmsload/kmsload/emulator"
)

// serve sends one request straight to the handler.
func serve(srv http.Handler, op string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+acctA+"/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w
}

func FuzzHandler(f *testing.F) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		f.Fatal(err)
	}
	var keyIDs []string
	for _, body := range []string{`{}`, `{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}`, `{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}`} {
		w := serve(srv, "CreateKey", []byte(body))
		var out struct{ KeyMetadata struct{ KeyId string } }
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != 200 {
			f.Fatalf("CreateKey %s: %d %s", body, w.Code, w.Body)
		}
		keyIDs = append(keyIDs, out.KeyMetadata.KeyId)
	}
	sym, ecc, mac := keyIDs[0], keyIDs[1], keyIDs[2]
	enc := serve(srv, "Encrypt", []byte(`{"KeyId":"`+sym+`","Plaintext":"aGVsbG8=","EncryptionContext":{"a":"b"}}`))
	var ct struct{ CiphertextBlob string }
	_ = json.Unmarshal(enc.Body.Bytes(), &ct)

	seeds := []struct{ op, body string }{
		{"Encrypt", `{"KeyId":"` + sym + `","Plaintext":"aGVsbG8="}`},
		{"Encrypt", `{"KeyId":"` + sym + `","Plaintext":"!!"}`},
		{"Encrypt", `{"KeyId":["x"]}`},
		{"Decrypt", `{"CiphertextBlob":"` + ct.CiphertextBlob + `","EncryptionContext":{"a":"b"}}`},
		{"Decrypt", `{"CiphertextBlob":"` + ct.CiphertextBlob + `","KeyId":"` + ecc + `"}`},
		{"Decrypt", `{"CiphertextBlob":"AQxhYmM="}`},
		{"ReEncrypt", `{"CiphertextBlob":"` + ct.CiphertextBlob + `","SourceEncryptionContext":{"a":"b"},"DestinationKeyId":"` + sym + `"}`},
		{"GenerateDataKey", `{"KeyId":"` + sym + `","KeySpec":"AES_256"}`},
		{"GenerateDataKey", `{"KeyId":"` + sym + `","NumberOfBytes":-1}`},
		{"GenerateDataKeyWithoutPlaintext", `{"KeyId":"alias/x","NumberOfBytes":1e400}`},
		{"GenerateRandom", `{"NumberOfBytes":32}`},
		{"GenerateMac", `{"KeyId":"` + mac + `","Message":"bQ==","MacAlgorithm":"HMAC_SHA_256"}`},
		{"VerifyMac", `{"KeyId":"` + mac + `","Message":"bQ==","MacAlgorithm":"HMAC_SHA_256","Mac":"AAAA"}`},
		{"Sign", `{"KeyId":"` + ecc + `","Message":"bQ==","SigningAlgorithm":"ECDSA_SHA_256","MessageType":"DIGEST"}`},
		{"Verify", `{"KeyId":"` + ecc + `","Message":"bQ==","SigningAlgorithm":"ECDSA_SHA_256","Signature":"MAA="}`},
		{"GetPublicKey", `{"KeyId":"` + ecc + `"}`},
		{"CreateKey", `{"KeySpec":"RSA_2048","KeyUsage":"ENCRYPT_DECRYPT","Tags":[{"TagKey":"a"}]}`},
		{"CreateKey", `{"Policy":"{\"Statement\":[]}","MultiRegion":true}`},
		{"DescribeKey", `{"KeyId":"arn:aws:kms:us-east-1:` + acctA + `:key/` + sym + `"}`},
		{"DescribeKey", `{"KeyId":"arn:aws:kms:us-east-1:` + acctB + `:alias/x"}`},
		{"ListKeys", `{"Limit":1,"Marker":"1"}`},
		{"ListAliases", `{"Marker":"-1"}`},
		{"CreateAlias", `{"AliasName":"alias/f","TargetKeyId":"` + sym + `"}`},
		{"UpdateAlias", `{"AliasName":"alias/f","TargetKeyId":"` + ecc + `"}`},
		{"ScheduleKeyDeletion", `{"KeyId":"` + mac + `","PendingWindowInDays":7}`},
		{"CancelKeyDeletion", `{"KeyId":"` + mac + `"}`},
		{"PutKeyPolicy", `{"KeyId":"` + sym + `","Policy":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\"}}"}`},
		{"CreateGrant", `{"KeyId":"` + sym + `","GranteePrincipal":"x","Operations":["Decrypt"]}`},
		{"RetireGrant", `{"GrantToken":"x"}`},
		{"TagResource", `{"KeyId":"` + sym + `","Tags":null}`},
		{"ReplicateKey", `{"KeyId":"` + sym + `","ReplicaRegion":"eu-west-1"}`},
		{"RotateKeyOnDemand", `{"KeyId":"` + sym + `"}`},
		{"Nope", `{}`},
		{"Encrypt", `{`},
		{"Encrypt", ``},
		{"Encrypt", `"string"`},
	}
	for _, s := range seeds {
		f.Add(s.op, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		w := serve(srv, op, body)
		switch w.Code {
		case http.StatusOK:
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %q: 200 with a body that is not JSON: %q", op, body, w.Body)
			}
		case http.StatusBadRequest:
			var eb kmsErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Type == "" {
				t.Fatalf("%s %q: 400 without a JSON __type: %q", op, body, w.Body)
			}
		default:
			t.Fatalf("%s %q: status %d: %s", op, body, w.Code, w.Body)
		}
		if w.Header().Get("x-amzn-RequestId") == "" {
			t.Fatalf("%s %q: no request id", op, body)
		}
	})
}
