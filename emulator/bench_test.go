package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kmsload/kmsload/emulator"
)

// nullHandler reads the body and answers a fixed KMS-shaped response: the
// baseline the emulator's throughput is compared with.
var nullHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
	_, _ = w.Write([]byte(`{"CiphertextBlob":"AQxhYmNkZWZnaGlqa2w=","KeyId":"arn:aws:kms:us-east-1:111111111111:key/x","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`))
})

func benchHTTP(b *testing.B, h http.Handler, op string, body []byte) {
	ts := httptest.NewServer(h)
	defer ts.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "TrentService."+op)
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+acctA+"/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")
			resp, err := cl.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

func benchServer(b *testing.B, quotaOn bool) (*emulator.Server, string) {
	opts := emulator.Options{}
	if quotaOn {
		opts.Quota = scaledModelB(b, 1000)
	}
	srv, err := emulator.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	w := serve(srv, "CreateKey", []byte(`{}`))
	var out struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		b.Fatal(err)
	}
	return srv, out.KeyMetadata.KeyId
}

func BenchmarkNullHandlerHTTP(b *testing.B) {
	benchHTTP(b, nullHandler, "Encrypt", []byte(`{"KeyId":"x","Plaintext":"aGVsbG8gd29ybGQ="}`))
}

func BenchmarkEncryptHTTP(b *testing.B) {
	srv, id := benchServer(b, true)
	benchHTTP(b, srv, "Encrypt", []byte(`{"KeyId":"`+id+`","Plaintext":"aGVsbG8gd29ybGQ=","EncryptionContext":{"app":"bench"}}`))
}

func BenchmarkEncryptDirect(b *testing.B) {
	srv, id := benchServer(b, true)
	benchDirect(b, srv, "Encrypt", []byte(`{"KeyId":"`+id+`","Plaintext":"aGVsbG8gd29ybGQ=","EncryptionContext":{"app":"bench"}}`))
}

// benchDirect serves op with body through srv's handler, without a
// network, in parallel; every answer must be 200.
func benchDirect(b *testing.B, srv *emulator.Server, op string, body []byte) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := serve(srv, op, body); w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

func BenchmarkNullHandlerDirect(b *testing.B) {
	body := []byte(`{"KeyId":"x","Plaintext":"aGVsbG8gd29ybGQ="}`)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(nullHandler, "Encrypt", body)
		}
	})
}

func BenchmarkGenerateDataKeyDirect(b *testing.B) {
	srv, id := benchServer(b, true)
	benchDirect(b, srv, "GenerateDataKey", []byte(`{"KeyId":"`+id+`","KeySpec":"AES_256"}`))
}
