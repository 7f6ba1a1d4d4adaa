package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	// sigV4MaxSkew is how far X-Amz-Date may be from the server clock, as in AWS.
	sigV4MaxSkew = 15 * time.Minute
)

// Errors returned by verifySigV4. AWS answers the first with
// IncompleteSignatureException and the other two with
// InvalidSignatureException.
var (
	errIncompleteSignature = errors.New("emulator: incomplete sigv4 signature")
	errSignatureMismatch   = errors.New("emulator: sigv4 signature does not match")
	errSignatureExpired    = errors.New("emulator: sigv4 signature expired")
)

// sigV4Auth is the parsed Authorization header of a SigV4 request.
type sigV4Auth struct {
	accessKeyID string
	date        string // yyyymmdd from the credential scope
	region      string
	service     string
	signed      []string // SignedHeaders, lower case, as sent
	signature   string
}

// scope returns the credential scope date/region/service/aws4_request.
func (a *sigV4Auth) scope() string {
	return a.date + "/" + a.region + "/" + a.service + "/aws4_request"
}

// parseAuthHeader parses
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=h1;h2, Signature=hex". It never panics on any input.
func parseAuthHeader(h string) (*sigV4Auth, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), sigV4Algorithm)
	if !ok || (rest != "" && rest[0] != ' ') {
		return nil, fmt.Errorf("%w: authorization header does not start with %s", errIncompleteSignature, sigV4Algorithm)
	}
	a := &sigV4Auth{}
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[0] == "" || len(f[1]) != 8 || f[2] == "" || f[3] == "" || f[4] != "aws4_request" {
				return nil, fmt.Errorf("%w: credential %q is not AKID/yyyymmdd/region/service/aws4_request", errIncompleteSignature, v)
			}
			a.accessKeyID, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
			haveCred = true
		case "SignedHeaders":
			if v == "" {
				return nil, fmt.Errorf("%w: empty SignedHeaders", errIncompleteSignature)
			}
			a.signed = strings.Split(v, ";")
			haveSigned = true
		case "Signature":
			a.signature = v
			haveSig = true
		}
	}
	switch {
	case !haveCred:
		return nil, fmt.Errorf("%w: authorization header has no Credential", errIncompleteSignature)
	case !haveSigned:
		return nil, fmt.Errorf("%w: authorization header has no SignedHeaders", errIncompleteSignature)
	case !haveSig:
		return nil, fmt.Errorf("%w: authorization header has no Signature", errIncompleteSignature)
	}
	return a, nil
}

// parseAuth returns the access key id and Region of the credential scope
// in r's SigV4 Authorization header
// ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, ...").
// ok is false when the header is missing or malformed. It never panics.
func parseAuth(r *http.Request) (accessKeyID, region string, ok bool) {
	if r == nil {
		return "", "", false
	}
	h := r.Header.Get("Authorization")
	rest, found := strings.CutPrefix(strings.TrimSpace(h), sigV4Algorithm+" ")
	if !found {
		return "", "", false
	}
	// Every request passes here: SplitSeq and Cut, unlike Split, allocate
	// nothing.
	for part := range strings.SplitSeq(rest, ",") {
		v, found := strings.CutPrefix(strings.TrimSpace(part), "Credential=")
		if !found {
			continue
		}
		if strings.Count(v, "/") != 4 { // AKID/DATE/REGION/SERVICE/aws4_request
			return "", "", false
		}
		akid, v, _ := strings.Cut(v, "/")
		_, v, _ = strings.Cut(v, "/")
		region, v, _ := strings.Cut(v, "/")
		_, term, _ := strings.Cut(v, "/")
		if akid == "" || region == "" || term != "aws4_request" {
			return "", "", false
		}
		return akid, region, true
	}
	return "", "", false
}

// verifySigV4 checks r's AWS Signature Version 4 against secret: it builds
// the canonical request (method, URI path, sorted query, the headers named
// in SignedHeaders, SHA-256 of body), the string to sign and the signing key
// from the credential scope, and compares signatures in constant time.
// X-Amz-Date must be within 15 minutes of now and on the scope's date; a
// X-Amz-Content-Sha256 header, when present, must equal the body's hash.
// body is the request body already read from r. Errors wrap
// errIncompleteSignature, errSignatureExpired or errSignatureMismatch.
func verifySigV4(r *http.Request, body []byte, secret string, now time.Time) error {
	a, err := parseAuthHeader(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return fmt.Errorf("%w: no X-Amz-Date header", errIncompleteSignature)
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return fmt.Errorf("%w: X-Amz-Date %q is not in the form %s", errIncompleteSignature, amzDate, amzDateFormat)
	}
	if d := now.Sub(t); d > sigV4MaxSkew || d < -sigV4MaxSkew {
		return fmt.Errorf("%w: request time %s is more than %v from server time %s",
			errSignatureExpired, amzDate, sigV4MaxSkew, now.UTC().Format(amzDateFormat))
	}
	if amzDate[:8] != a.date {
		return fmt.Errorf("%w: credential scope date %s does not match X-Amz-Date %s", errSignatureMismatch, a.date, amzDate)
	}

	hostSigned := false
	for _, h := range a.signed {
		if h == "host" {
			hostSigned = true
		}
		if h == "" || h != strings.ToLower(h) {
			return fmt.Errorf("%w: SignedHeaders entry %q is not a lower-case header name", errIncompleteSignature, h)
		}
	}
	if !hostSigned {
		return fmt.Errorf("%w: SignedHeaders must include host", errIncompleteSignature)
	}
	if !sort.StringsAreSorted(a.signed) {
		return fmt.Errorf("%w: SignedHeaders are not sorted", errSignatureMismatch)
	}

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return fmt.Errorf("%w: X-Amz-Content-Sha256 does not match the body", errSignatureMismatch)
	}

	var canon strings.Builder
	canon.WriteString(r.Method)
	canon.WriteByte('\n')
	canon.WriteString(canonicalURI(r))
	canon.WriteByte('\n')
	canon.WriteString(canonicalQuery(r.URL.RawQuery))
	canon.WriteByte('\n')
	for _, h := range a.signed {
		canon.WriteString(h)
		canon.WriteByte(':')
		canon.WriteString(canonicalHeaderValue(r, h))
		canon.WriteByte('\n')
	}
	canon.WriteByte('\n')
	canon.WriteString(strings.Join(a.signed, ";"))
	canon.WriteByte('\n')
	canon.WriteString(payloadHash)

	canonSum := sha256.Sum256([]byte(canon.String()))
	stringToSign := sigV4Algorithm + "\n" + amzDate + "\n" + a.scope() + "\n" + hex.EncodeToString(canonSum[:])

	key := hmacSHA256([]byte("AWS4"+secret), a.date)
	key = hmacSHA256(key, a.region)
	key = hmacSHA256(key, a.service)
	key = hmacSHA256(key, "aws4_request")
	want := hmacSHA256(key, stringToSign)

	got, err := hex.DecodeString(a.signature)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("%w: the request signature does not match the one computed from the secret key for %s",
			errSignatureMismatch, a.accessKeyID)
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalHeaderValue returns the canonical value of the signed header
// name: all values joined with ',', each trimmed and with inner runs of
// spaces collapsed. The Go server moves Host (and may move Content-Length)
// out of r.Header, so those come from r.Host and r.ContentLength when absent.
func canonicalHeaderValue(r *http.Request, name string) string {
	vals := r.Header.Values(name)
	if len(vals) == 0 {
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			if r.ContentLength >= 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		}
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = collapseSpaces(v)
	}
	return strings.Join(out, ",")
}

// collapseSpaces trims leading and trailing spaces and replaces every inner
// run of spaces with one space.
func collapseSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	prev := byte(0)
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && prev == ' ' {
			continue
		}
		prev = s[i]
		b.WriteByte(s[i])
	}
	return b.String()
}

// canonicalURI returns the URI-encoded escaped path ("/" when empty), the
// double encoding that SigV4 uses for every service but S3.
func canonicalURI(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery URI-encodes every name and value of raw and sorts the
// pairs after encoding, as SigV4 requires.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var pairs []string
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		pairs = append(pairs, uriEncode(queryUnescape(k), true)+"="+uriEncode(queryUnescape(v), true))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// queryUnescape decodes %XX escapes and '+' as a space, keeping malformed
// escapes as they are.
func queryUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// uriEncode percent-encodes every byte but the unreserved characters
// A-Z a-z 0-9 - _ . ~ and, unless encodeSlash, '/'.
func uriEncode(s string, encodeSlash bool) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
