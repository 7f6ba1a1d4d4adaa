package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"github.com/kmsload/kmsload/quota"
)

// newProxy returns the reverse proxy of throttling-proxy mode. Requests go
// to u with their headers and body unchanged (the Host header becomes the
// upstream's). Successful CreateKey and DescribeKey answers teach the proxy
// the KeySpec of their key, so later cryptographic calls naming that key
// are charged to the right quota class; unknown keys count as symmetric.
func (s *Server) newProxy(u *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		},
		ModifyResponse: s.learnKeySpec,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.logf("emulator: upstream: %v", err)
			writeError(w, s.ids.next(), &apiError{Type: "KMSInternalException", Message: "upstream unavailable", Status: http.StatusBadGateway})
		},
	}
}

// proxyIn holds the request fields that decide a quota class.
type proxyIn struct {
	KeyId            string
	DestinationKeyId string
	CustomKeyStoreId string
}

// serveProxy decides quota locally and forwards allowed requests.
func (s *Server) serveProxy(w http.ResponseWriter, r *http.Request, c *call, reqID string) {
	var aerr *apiError
	if quota.IsCryptographic(c.op) {
		var in proxyIn
		_ = json.Unmarshal(c.body, &in) // malformed bodies are the upstream's to reject
		ref := in.KeyId
		if c.op == "ReEncrypt" {
			ref = in.DestinationKeyId
		}
		aerr = c.charge(s.proxySpec(ref), in.CustomKeyStoreId, "")
	} else {
		aerr = c.charge("", "", "")
	}
	if aerr == nil {
		if p := s.opts.Faults[c.op]; p > 0 && rand.Float64() < p {
			aerr = errInternal()
		}
	}
	if !s.wait(r, c.op, c.now) {
		return
	}
	if aerr != nil {
		writeError(w, reqID, aerr)
		return
	}
	body := append([]byte(nil), c.body...)
	if c.op == "DescribeKey" {
		r = r.WithContext(context.WithValue(r.Context(), proxyBodyKey{}, body))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	s.proxy.ServeHTTP(w, r)
}

// proxySpec returns the KeySpec learned for ref, "" when unknown.
func (s *Server) proxySpec(ref string) string {
	if ref == "" {
		return ""
	}
	if v, ok := s.proxySpecs.Load(ref); ok {
		return v.(string)
	}
	return ""
}

// learnKeySpec records the KeySpec of keys in CreateKey and DescribeKey
// answers.
func (s *Server) learnKeySpec(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK || resp.Request == nil {
		return nil
	}
	op := strings.TrimPrefix(resp.Request.Header.Get("X-Amz-Target"), targetPrefix)
	if op != "CreateKey" && op != "DescribeKey" {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	var out struct {
		KeyMetadata struct {
			KeyId   string
			Arn     string
			KeySpec string
		}
	}
	if json.Unmarshal(b, &out) == nil && out.KeyMetadata.KeySpec != "" {
		md := out.KeyMetadata
		s.proxySpecs.Store(md.KeyId, md.KeySpec)
		s.proxySpecs.Store(md.Arn, md.KeySpec)
		if op == "DescribeKey" {
			var in struct{ KeyId string }
			if rb, ok := resp.Request.Context().Value(proxyBodyKey{}).([]byte); ok && json.Unmarshal(rb, &in) == nil && in.KeyId != "" {
				s.proxySpecs.Store(in.KeyId, md.KeySpec)
			}
		}
	}
	return nil
}

// proxyBodyKey is the context key under which a proxied request's body is
// kept for learnKeySpec.
type proxyBodyKey struct{}
