package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsload/kmsload/internal/conns"
)

// h1Server is an httptest server counting the connections it accepted.
type h1Server struct {
	*httptest.Server
	accepted atomic.Int64
}

func newH1Server(t *testing.T, h http.HandlerFunc) *h1Server {
	t.Helper()
	s := &h1Server{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.accepted.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *h1Server) client(t *testing.T, maxConns int) *Client {
	t.Helper()
	return forEndpoint(t, s.URL, maxConns)
}

// forEndpoint returns ForEndpoint(endpoint) capped at maxConns, its idle
// connections closed when the test ends.
func forEndpoint(t *testing.T, endpoint string, maxConns int) *Client {
	t.Helper()
	h, err := ForEndpoint(endpoint, conns.NewCounter(maxConns))
	if err != nil {
		t.Fatalf("ForEndpoint(%q): %v", endpoint, err)
	}
	t.Cleanup(h.CloseIdleConnections)
	return h
}

func post(t *testing.T, ctx context.Context, h *Client, url, body string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Do(req)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b), nil
}

func TestClientRoundTripReusesOneConnection(t *testing.T) {
	s := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Target", r.Header.Get("X-Amz-Target"))
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("echo:" + string(b)))
	})
	h := s.client(t, 4)
	for i := range 10 {
		req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{"n":1}`))
		req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
		resp, err := h.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusTeapot || string(b) != `echo:{"n":1}` || resp.Header.Get("X-Target") != "TrentService.Encrypt" {
			t.Fatalf("request %d: got %d %q %q", i, resp.StatusCode, b, resp.Header.Get("X-Target"))
		}
	}
	if got := s.accepted.Load(); got != 1 {
		t.Errorf("connections accepted = %d, want 1 (sequential requests reuse one)", got)
	}
}

func TestClientChunkedAndConnectionClose(t *testing.T) {
	s := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("close") != "" {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte("part1,"))
		w.(http.Flusher).Flush() // chunked from here
		w.Write([]byte("part2"))
	})
	h := s.client(t, 4)
	for i, u := range []string{s.URL + "/?close=1", s.URL, s.URL} {
		resp, body, err := post(t, context.Background(), h, u, "x")
		if err != nil || body != "part1,part2" {
			t.Fatalf("request %d: body %q, err %v", i, body, err)
		}
		if i == 0 && !resp.Close {
			t.Errorf("request 0: resp.Close = false, want true")
		}
	}
	if got := s.accepted.Load(); got != 2 {
		t.Errorf("connections accepted = %d, want 2 (the closed one is not reused)", got)
	}
}

func TestClientCapsConnections(t *testing.T) {
	release := make(chan struct{})
	var busy, most atomic.Int64
	s := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		n := busy.Add(1)
		for p := most.Load(); n > p && !most.CompareAndSwap(p, n); p = most.Load() {
		}
		<-release
		busy.Add(-1)
		w.Write([]byte("ok"))
	})
	h := s.client(t, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() {
			_, body, err := post(t, context.Background(), h, s.URL, "x")
			if err == nil && body != "ok" {
				err = errors.New("body " + body)
			}
			errs <- err
		})
	}
	waitFor(t, func() bool { return busy.Load() == 2 })
	time.Sleep(50 * time.Millisecond) // a third connection would show now
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if most.Load() != 2 || s.accepted.Load() != 2 || h.counter.Peak() != 2 {
		t.Errorf("most busy %d, accepted %d, peak %d; want 2, 2, 2", most.Load(), s.accepted.Load(), h.counter.Peak())
	}
}

func TestClientCancelFreesTheConnection(t *testing.T) {
	release := make(chan struct{})
	s := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices a client gone
		if r.URL.Query().Get("block") != "" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.Write([]byte("ok"))
	})
	h := s.client(t, 1)

	// Cancelled while its request is on the wire.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := post(t, ctx, h, s.URL+"/?block=1", "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled request: err = %v, want DeadlineExceeded", err)
	}
	if got := h.counter.Open(); got != 0 {
		t.Errorf("open connections after a cancelled request = %d, want 0 (closed)", got)
	}
	if _, body, err := post(t, context.Background(), h, s.URL, "x"); err != nil || body != "ok" {
		t.Fatalf("after cancel: %q, %v (the slot must be free)", body, err)
	}

	// Cancelled while waiting for the only connection.
	done := make(chan error, 1)
	go func() {
		_, _, err := post(t, context.Background(), h, s.URL+"/?block=1", "x")
		done <- err
	}()
	waitFor(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.counter.Open() == 1 && len(h.idle) == 0
	})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, _, err := post(t, ctx2, h, s.URL, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting request: err = %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("blocked request: %v", err)
	}
	if _, body, err := post(t, context.Background(), h, s.URL, "x"); err != nil || body != "ok" {
		t.Fatalf("after a waiter gave up: %q, %v", body, err)
	}
}

func TestClientDropsIdleConnectionClosedByServer(t *testing.T) {
	s := newH1Server(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	h := s.client(t, 4)
	if _, _, err := post(t, context.Background(), h, s.URL, "x"); err != nil {
		t.Fatal(err)
	}
	s.CloseClientConnections()
	h.mu.Lock()
	h.idle[0].lastUsed = time.Now().Add(-2 * idleCheck)
	h.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // let the FIN arrive
	if _, body, err := post(t, context.Background(), h, s.URL, "x"); err != nil || body != "ok" {
		t.Fatalf("after the server closed the idle connection: %q, %v", body, err)
	}
	if got := s.accepted.Load(); got != 2 {
		t.Errorf("connections accepted = %d, want 2", got)
	}
}

func TestForEndpointOnlyForPlainHTTP(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.invalid:3128")
	t.Setenv("NO_PROXY", "")
	for _, tc := range []struct {
		endpoint string
		want     bool
	}{
		{"http://127.0.0.1:4599", true}, // loopback is never proxied
		{"https://127.0.0.1:4599", false},
		{"http://kms.internal.example:4599", false}, // HTTP_PROXY applies
		{"http://", false},
		{"://bad", false},
	} {
		h, err := ForEndpoint(tc.endpoint, nil)
		if got := err == nil; got != tc.want || (h != nil) != tc.want {
			t.Errorf("ForEndpoint(%q) = %v, %v; want a client %v", tc.endpoint, h, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrNotApplicable) {
			t.Errorf("ForEndpoint(%q): error %v does not wrap ErrNotApplicable", tc.endpoint, err)
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5 s")
}

func TestClientFailedDialFreesTheSlot(t *testing.T) {
	s := newH1Server(t, func(w http.ResponseWriter, r *http.Request) {})
	url := s.URL
	s.Close() // nothing listens there now
	h := forEndpoint(t, url, 1)
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _, err := post(t, ctx, h, url, "x")
		cancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("request %d: err = %v; want a dial error at once (a leaked slot makes it wait)", i, err)
		}
	}
}

func TestClientReusesNoConnectionOfACancelledContext(t *testing.T) {
	s := newH1Server(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	h := s.client(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if _, body, err := post(t, ctx, h, s.URL, "x"); err != nil || body != "ok" {
		t.Fatalf("first request: %q, %v", body, err)
	}
	// Cancelled after its request: the idle connection's watch of ctx
	// fires (its I/O would fail), and the next requests must not fail.
	cancel()
	time.Sleep(50 * time.Millisecond)
	for i := range 3 {
		if _, body, err := post(t, context.Background(), h, s.URL, "x"); err != nil || body != "ok" {
			t.Fatalf("request %d after the first context ended: %q, %v", i, body, err)
		}
	}
}

func TestParseSimpleHeadMatchesReadResponse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		fast bool // parseSimpleHead takes it
	}{
		{"go server", "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nDate: Wed, 25 Nov 2026 18:00:00 GMT\r\nContent-Length: 5\r\n\r\n{\"a\"}", true},
		{"request id, lower case", "HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: abc\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\n{}", true},
		{"repeated header, spaces", "HTTP/1.1 200 OK\r\nX-A:  1 \r\nx-a: 2\r\nContent-Length: 0\r\n\r\n", true},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok", true},
		{"no reason phrase", "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", true},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
		{"no length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", false},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false},
		{"no content", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false},
		{"continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
		{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
		{"folded line", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 0\r\n\r\n", false},
		{"control character", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n", false},
		{"bad name", "HTTP/1.1 200 OK\r\nX A: 1\r\nContent-Length: 0\r\n\r\n", false},
		{"incomplete", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, ok := parseSimpleHead([]byte(tt.raw)); ok != tt.fast {
				t.Fatalf("taken = %v, want %v", ok, tt.fast)
			}
			checkSimpleHead(t, []byte(tt.raw))
		})
	}
}

// simpleHeadSeeds are raw answers for FuzzParseSimpleHead's corpus.
var simpleHeadSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nDate: Wed, 25 Nov 2026 18:00:00 GMT\r\nContent-Length: 5\r\n\r\n{\"a\"}",
	"HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: abc\r\ncontent-length: 2\r\n\r\n{}",
	"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 0\r\n\r\n",
}

// FuzzParseSimpleHead checks that the fast parser either declines an
// answer or reads it exactly as http.ReadResponse does (make fuzz runs
// it; the corpus runs in make test): raw as it is, and an answer built
// from a status, a header line and a Content-Length value, which reaches
// the parser's accepting paths far more often than random bytes do.
func FuzzParseSimpleHead(f *testing.F) {
	for _, s := range simpleHeadSeeds {
		f.Add([]byte(s), "200 OK", "x-amzn-RequestId", " abc", "5")
	}
	f.Add([]byte{}, "400 Bad Request", "Connection", "close", "+0")
	f.Add([]byte{}, "503", "X-A", "\t1 ", " 007")
	f.Fuzz(func(t *testing.T, raw []byte, status, key, value, length string) {
		checkSimpleHead(t, raw)
		built := "HTTP/1.1 " + status + "\r\n" + key + ":" + value + "\r\nContent-Length:" + length + "\r\n\r\n"
		checkSimpleHead(t, []byte(built))
	})
}

// checkSimpleHead fails t when parseSimpleHead takes raw and reads it
// otherwise than http.ReadResponse: status, protocol, headers, length,
// Close, and where the head ends.
func checkSimpleHead(t *testing.T, raw []byte) {
	t.Helper()
	got, n, ok := parseSimpleHead(raw)
	if !ok {
		return
	}
	if want := bytes.Index(raw, []byte("\r\n\r\n")) + 4; n != want {
		t.Errorf("head length = %d, want %d", n, want)
	}
	src := bytes.NewReader(raw)
	br := bufio.NewReader(src)
	want, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("parseSimpleHead took %q; http.ReadResponse: %v", raw, err)
	}
	if got.Status != want.Status || got.StatusCode != want.StatusCode || got.Proto != want.Proto ||
		got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor ||
		got.ContentLength != want.ContentLength || got.Close != want.Close {
		t.Errorf("%q: got %q %d %s %d.%d length %d close %v, want %q %d %s %d.%d length %d close %v", raw,
			got.Status, got.StatusCode, got.Proto, got.ProtoMajor, got.ProtoMinor, got.ContentLength, got.Close,
			want.Status, want.StatusCode, want.Proto, want.ProtoMajor, want.ProtoMinor, want.ContentLength, want.Close)
	}
	if !reflect.DeepEqual(got.Header, want.Header) {
		t.Errorf("%q: header = %v, want %v", raw, got.Header, want.Header)
	}
	if read := len(raw) - src.Len() - br.Buffered(); read != n {
		t.Errorf("%q: http.ReadResponse's head ends at %d, parseSimpleHead's at %d", raw, read, n)
	}
}

func TestClientServerClosesBeforeAnswering(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			http.ReadRequest(bufio.NewReader(c)) // the request, then no answer
			c.Close()
		}
	}()
	h := forEndpoint(t, "http://"+ln.Addr().String(), 1)
	_, _, err = post(t, context.Background(), h, "http://"+ln.Addr().String()+"/", "x")
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := h.counter.Open(); got != 0 {
		t.Errorf("open connections = %d, want 0 (the closed one dropped)", got)
	}
}
