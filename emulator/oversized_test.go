package emulator_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/emulator"
)

// TestOversizedBody: a 10 MB request gets KMS's answer, ValidationException
// with HTTP 400, not a connection reset, from a plain HTTP client and from
// the SDK; the connection stays usable.
func TestOversizedBody(t *testing.T) {
	_, ts := start(t, emulator.Options{})
	body := `{"KeyId":"alias/x","Plaintext":"` + strings.Repeat("A", 10<<20) + `"}`
	for i := range 2 { // the second request reuses the connection
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("request %d: %v; want an answer", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"__type":"ValidationException"`) {
			t.Errorf("request %d: %d %.200s; want 400 ValidationException", i, resp.StatusCode, b)
		}
	}
	// A client that writes its whole body before it reads, as
	// Python's http.client (boto3, awscli) does.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST / HTTP/1.1\r\nHost: kms\r\nX-Amz-Target: TrentService.Encrypt\r\n" +
		"Content-Type: application/x-amz-json-1.1\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head+body); err != nil {
		t.Fatalf("writing a 10 MB body: %v; want the server to read it", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to a 10 MB body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"__type":"ValidationException"`) {
		t.Errorf("write-then-read client: %d %.200s; want 400 ValidationException", resp.StatusCode, b)
	}
	c := client(ts, acctA, "us-east-1")
	_, err = c.Encrypt(ctx(), &kms.EncryptInput{KeyId: strPtr("alias/x"), Plaintext: make([]byte, 8<<20)})
	wantCode(t, "SDK Encrypt of 8 MB", err, "ValidationException")
}

func strPtr(s string) *string { return &s }
