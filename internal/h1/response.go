package h1

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// readSimple reads the answer to req when its status line and headers are
// already whole in cn's read buffer and of the plain form a KMS endpoint
// sends: HTTP/1.1, a final status other than 204 and 304, a
// Content-Length, no Transfer-Encoding, no folded or malformed header
// line. It returns ok false, having consumed nothing, for any other
// answer, which http.ReadResponse then reads; a read error before the
// answer's first byte is returned with ok true. The response is the one
// http.ReadResponse returns for the same bytes (status, protocol, header
// keys canonical, Content-Length, Close), with the body read into memory;
// it skips net/http's general parser and its per-line allocations.
func (cn *conn) readSimple(req *http.Request) (resp *http.Response, err error, ok bool) {
	if req.Method == http.MethodHead {
		return nil, nil, false
	}
	if _, err := cn.br.Peek(1); err != nil { // wait for the answer
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // as http.ReadResponse says it
		}
		return nil, fmt.Errorf("read response: %w", err), true
	}
	buf, _ := cn.br.Peek(cn.br.Buffered())
	resp, n, ok := parseSimpleHead(buf)
	if !ok {
		return nil, nil, false
	}
	resp.Request = req
	if _, err := cn.br.Discard(n); err != nil {
		return nil, fmt.Errorf("read response: %w", err), true
	}
	body := make([]byte, resp.ContentLength)
	if _, err := io.ReadFull(cn.br, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read response: %w", err), true
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil, true
}

// parseSimpleHead parses the status line and headers at the start of b
// when they are whole and of the form readSimple takes; n is their length
// with the blank line that ends them.
func parseSimpleHead(b []byte) (resp *http.Response, n int, ok bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, 0, false
	}
	head := b[:end+2] // every line ends with CRLF
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	// "HTTP/1.1 200 OK": three digits, then a space or the line's end; no
	// control character (net/http ends a line at a bare LF too).
	if len(line) < 12 || string(line[:9]) != "HTTP/1.1 " || (len(line) > 12 && line[12] != ' ') || !plainValue(line) {
		return nil, 0, false
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return nil, 0, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code == http.StatusNoContent || code == http.StatusNotModified {
		return nil, 0, false
	}
	lines := bytes.Count(rest, []byte("\r\n"))
	text := string(rest) // one copy: the values are substrings of it
	vals := make([]string, 0, lines)
	resp = &http.Response{
		Status:     string(line[9:]),
		StatusCode: code,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, lines),
	}
	if len(line) == 12 { // no reason phrase: net/http adds none either
		resp.Status = string(line[9:12])
	}
	length := int64(-1)
	for off := 0; len(rest) > 0; {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		start := off
		off += len(line) + 2
		k, v, found := bytes.Cut(line, []byte(":"))
		if !found {
			return nil, 0, false
		}
		key := canonicalKey(k)
		if !httpguts.ValidHeaderFieldName(key) || !plainValue(v) {
			return nil, 0, false // also a folded line, which starts with a space
		}
		vs := start + len(k) + 1
		val := strings.Trim(text[vs:vs+len(v)], " \t")
		switch key {
		case "Content-Length":
			if length >= 0 {
				return nil, 0, false // repeated: net/http's rules apply
			}
			l, err := strconv.ParseUint(val, 10, 63) // digits only, as net/http
			if err != nil || l > maxResponseBody {
				return nil, 0, false
			}
			length = int64(l)
		case "Transfer-Encoding", "Trailer":
			return nil, 0, false
		}
		if prev, ok := resp.Header[key]; ok {
			resp.Header[key] = append(prev, val)
		} else {
			vals = append(vals, val)
			resp.Header[key] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	if length < 0 {
		return nil, 0, false
	}
	resp.ContentLength = length
	if httpguts.HeaderValuesContainsToken(resp.Header["Connection"], "close") {
		resp.Close = true
		delete(resp.Header, "Connection") // as net/http does
	}
	return resp, end + 4, true
}

// plainValue reports whether a header value has no control character
// but tab (net/textproto refuses them).
func plainValue(v []byte) bool {
	for _, c := range v {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// canonicalKey returns the canonical form of header key k, without an
// allocation for the keys KMS endpoints send.
func canonicalKey(k []byte) string {
	switch string(k) {
	case "Content-Type":
		return "Content-Type"
	case "Content-Length":
		return "Content-Length"
	case "Date":
		return "Date"
	case "X-Amzn-Requestid", "x-amzn-RequestId":
		return "X-Amzn-Requestid"
	case "Connection":
		return "Connection"
	case "Server":
		return "Server"
	}
	return textproto.CanonicalMIMEHeaderKey(string(k))
}
