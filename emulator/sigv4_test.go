package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func TestParseAuth(t *testing.T) {
	tests := []struct {
		header     string
		wantKey    string
		wantRegion string
		wantOK     bool
	}{
		{"AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
			"111111111111", "us-east-1", true},
		{"AWS4-HMAC-SHA256 SignedHeaders=host, Credential=AKIDEXAMPLE/20260101/eu-west-2/kms/aws4_request,Signature=00",
			"AKIDEXAMPLE", "eu-west-2", true},
		{"AWS4-HMAC-SHA256 Credential=a/20260101/ap-south-1/kms/aws4_request", "a", "ap-south-1", true},
		{"", "", "", false},
		{"AWS4-HMAC-SHA256", "", "", false},
		{"AWS4-HMAC-SHA256 ", "", "", false},
		{"AWS4-HMAC-SHA256X Credential=a/20260101/us-east-1/kms/aws4_request", "", "", false},
		{"AWS AKID:signature", "", "", false},
		{"AWS4-HMAC-SHA256 Credential=/20260101/us-east-1/kms/aws4_request", "", "", false},
		{"AWS4-HMAC-SHA256 Credential=a/20260101//kms/aws4_request", "", "", false},
		{"AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kms", "", "", false},
		{"AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kms/aws4_request/x", "", "", false},
		{"AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kms/aws5_request", "", "", false},
		{"AWS4-HMAC-SHA256 Credential", "", "", false},
		{"AWS4-HMAC-SHA256 ,,,,=,=", "", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		key, region, ok := parseAuth(r)
		if key != tt.wantKey || region != tt.wantRegion || ok != tt.wantOK {
			t.Errorf("parseAuth(%q) = (%q, %q, %v); want (%q, %q, %v)",
				tt.header, key, region, ok, tt.wantKey, tt.wantRegion, tt.wantOK)
		}
	}
	if _, _, ok := parseAuth(nil); ok {
		t.Errorf("parseAuth(nil) ok = true; want false")
	}
}

func FuzzParseAuth(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request,SignedHeaders=,Signature=",
		"AWS4-HMAC-SHA256 Credential=////",
		"AWS4-HMAC-SHA256 =,=,=",
		"AWS4-HMAC-SHA256",
		"Bearer x",
		"\x00\xff",
	} {
		f.Add(s, "20260101T000000Z")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, header, amzDate string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header["Authorization"] = []string{header}
		r.Header["X-Amz-Date"] = []string{amzDate}
		key, region, ok := parseAuth(r)
		if ok && (key == "" || region == "" || strings.Contains(key, "/") || strings.Contains(region, "/")) {
			t.Errorf("parseAuth(%q) = (%q, %q, true); want non-empty parts without '/'", header, key, region)
		}
		if !ok && (key != "" || region != "") {
			t.Errorf("parseAuth(%q) = (%q, %q, false); want empty results", header, key, region)
		}
		if err := verifySigV4(r, nil, "secret", now); err == nil {
			t.Errorf("verifySigV4 with fuzzed header %q accepted an unsigned request", header)
		}
	})
}

// sigv4Capture is a handler that checks every request it gets with
// verifySigV4 and keeps the result.
type sigv4Capture struct {
	secret string
	now    time.Time
	err    error
	called bool
}

func (c *sigv4Capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c.err = err
		return
	}
	c.called = true
	c.err = verifySigV4(r, body, c.secret, c.now)
}

func TestVerifySigV4(t *testing.T) {
	const (
		akid   = "111111111111"
		secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		region = "eu-west-1"
	)
	signedAt := time.Date(2026, 3, 14, 23, 59, 30, 0, time.UTC)
	body := []byte(`{"KeyId":"alias/app","Plaintext":"aGVsbG8="}`)

	tests := []struct {
		name string
		// query is appended to the URL before signing.
		query string
		// signTime is when the request is signed; zero means signedAt.
		signTime time.Time
		// after changes the signed request before it is sent.
		after func(r *http.Request)
		// verifySecret and now are what the server verifies with.
		verifySecret string
		now          time.Time
		want         error
	}{
		{name: "valid", now: signedAt},
		{name: "valid at midnight rollover of the server clock", now: signedAt.Add(time.Minute)},
		{name: "valid with query and path", query: "/a%20b/c?b=2&a=1&x=a%2Fb&a=0&e=", now: signedAt},
		{name: "valid 14 minutes late", now: signedAt.Add(14 * time.Minute)},
		{name: "valid 14 minutes early", now: signedAt.Add(-14 * time.Minute)},
		{name: "wrong secret", verifySecret: "other", now: signedAt, want: errSignatureMismatch},
		{name: "tampered body same length", now: signedAt, want: errSignatureMismatch,
			after: func(r *http.Request) {
				b := bytes.Replace(body, []byte("app"), []byte("apq"), 1)
				r.Body = io.NopCloser(bytes.NewReader(b))
			}},
		{name: "tampered body with matching content-sha256 header", now: signedAt, want: errSignatureMismatch,
			after: func(r *http.Request) {
				b := bytes.Replace(body, []byte("app"), []byte("apq"), 1)
				sum := sha256.Sum256(b)
				r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
				r.Body = io.NopCloser(bytes.NewReader(b))
			}},
		{name: "content-sha256 header not matching body", now: signedAt, want: errSignatureMismatch,
			after: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) }},
		{name: "tampered signed header", now: signedAt, want: errSignatureMismatch,
			after: func(r *http.Request) { r.Header.Set("X-Amz-Target", "TrentService.Decrypt") }},
		{name: "tampered query", query: "?a=1", now: signedAt, want: errSignatureMismatch,
			after: func(r *http.Request) { r.URL.RawQuery = "a=2" }},
		{name: "tampered date", now: signedAt, want: errSignatureMismatch,
			after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20260314T235931Z") }},
		{name: "tampered signature", now: signedAt, want: errSignatureMismatch,
			after: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature=00", 1))
			}},
		{name: "stale date", now: signedAt.Add(16 * time.Minute), want: errSignatureExpired},
		{name: "future date", now: signedAt.Add(-16 * time.Minute), want: errSignatureExpired},
		{name: "no date", now: signedAt, want: errIncompleteSignature,
			after: func(r *http.Request) { r.Header.Del("X-Amz-Date") }},
		{name: "no authorization", now: signedAt, want: errIncompleteSignature,
			after: func(r *http.Request) { r.Header.Del("Authorization") }},
		{name: "host not signed", now: signedAt, want: errIncompleteSignature,
			after: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";host;", ";", 1))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &sigv4Capture{secret: secret, now: tt.now}
			if tt.verifySecret != "" {
				c.secret = tt.verifySecret
			}
			ts := httptest.NewServer(c)
			defer ts.Close()

			req, err := http.NewRequest(http.MethodPost, ts.URL+"/"+strings.TrimPrefix(tt.query, "/"), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
			req.Header.Set("User-Agent", "kmsload-test  with   spaces")
			sum := sha256.Sum256(body)
			at := signedAt
			if !tt.signTime.IsZero() {
				at = tt.signTime
			}
			creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kms", region, at); err != nil {
				t.Fatalf("SignHTTP: %v", err)
			}
			if !strings.Contains(req.Header.Get("Authorization"), "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target,") {
				t.Fatalf("signed Authorization %q does not sign the headers this test assumes", req.Header.Get("Authorization"))
			}
			if tt.after != nil {
				tt.after(req)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !c.called {
				t.Fatalf("handler not called")
			}
			switch {
			case tt.want == nil && c.err != nil:
				t.Errorf("verifySigV4 = %v; want nil", c.err)
			case tt.want != nil && !errors.Is(c.err, tt.want):
				t.Errorf("verifySigV4 = %v; want an error wrapping %v", c.err, tt.want)
			}
		})
	}
}

func TestSigV4CanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"a=b+c&x=%2F", "a=b%20c&x=%2F"},
		{"k", "k="},
		{"x=a%2Fb&x=a-b", "x=a%2Fb&x=a-b"},
		{"bad=%zz", "bad=%25zz"},
	}
	for _, tt := range tests {
		if got := canonicalQuery(tt.raw); got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q; want %q", tt.raw, got, tt.want)
		}
	}
}
