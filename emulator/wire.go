package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmsload/kmsload/quota"
)

// maxBodyBytes caps how much of a request body the server reads. KMS's own
// limits (4 KiB plaintext, 6 KiB ciphertext, 32 KiB policy) fit far below.
const maxBodyBytes = 1 << 20

// maxDrainBytes bounds how much of an oversized body the server reads and
// discards before it answers, so that a client still writing its body
// reads the answer instead of a connection reset. A longer body is
// answered all the same, and its connection closed.
const maxDrainBytes = 64 << 20

const (
	contentType   = "application/x-amz-json-1.1"
	targetPrefix  = "TrentService."
	headerReqID   = "x-amzn-RequestId"
	throttleMsg   = "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
	throttleBody  = `{"__type":"ThrottlingException","message":"` + throttleMsg + `"}`
	internalMsg   = "An internal error has occurred. Retry the request."
	emptyResponse = "{}"
)

// apiError is a KMS error as it goes over the wire: HTTP status, __type and
// message.
type apiError struct {
	Type    string
	Message string
	Status  int
	// Bucket names the quota bucket that throttled the request
	// (quota.BucketKey.String()); only on a throttle.
	Bucket string
}

// Error implements error.
func (e *apiError) Error() string { return "emulator: " + e.Type + ": " + e.Message }

// throttled is the throttling error of bucket; its body is written
// verbatim.
func throttled(bucket string) *apiError {
	return &apiError{Type: "ThrottlingException", Message: throttleMsg, Status: http.StatusBadRequest, Bucket: bucket}
}

// kerr builds a 400 error of the given KMS type.
func kerr(typ, format string, args ...any) *apiError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &apiError{Type: typ, Message: msg, Status: http.StatusBadRequest}
}

// errDryRun answers a request with DryRun set that would have succeeded.
func errDryRun() *apiError {
	return kerr("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
}

func errInternal() *apiError {
	return &apiError{Type: "KMSInternalException", Message: internalMsg, Status: http.StatusInternalServerError}
}

// validation errors in the wording KMS uses.
func errNull(field string) *apiError {
	return kerr("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

func errMaxLen(field string, n int) *apiError {
	return kerr("ValidationException", "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", field, n)
}

func errMinLen(field string, n int) *apiError {
	return kerr("ValidationException", "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", field, n)
}

func errRange(field string, v, lo, hi int) *apiError {
	if v < lo {
		return kerr("ValidationException", "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", v, field, lo)
	}
	return kerr("ValidationException", "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", v, field, hi)
}

func errEnum(field, v string) *apiError {
	return kerr("ValidationException", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set", v, field)
}

// optInt checks an optional number field: def when v is nil, else *v,
// which must lie in lo..hi.
func optInt(v *int, def int, field string, lo, hi int) (int, *apiError) {
	if v == nil {
		return def, nil
	}
	if *v < lo || *v > hi {
		return 0, errRange(field, *v, lo, hi)
	}
	return *v, nil
}

// checkBlob checks a binary field: present, not empty and at most max
// bytes.
func checkBlob(field string, b []byte, max int) *apiError {
	if b == nil {
		return errNull(field)
	}
	if len(b) == 0 {
		return errMinLen(field, 1)
	}
	if len(b) > max {
		return errMaxLen(field, max)
	}
	return nil
}

// decodeBody unmarshals a JSON request body into v. An empty body is an empty
// object. Malformed JSON, wrong types and bad base64 are SerializationException.
func decodeBody(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			if ute.Field != "" {
				return kerr("SerializationException", "Unexpected value type for field %s", ute.Field)
			}
			return kerr("SerializationException", "Start of structure or map found where not expected.")
		}
		return kerr("SerializationException", "Could not parse request body: invalid JSON or base64")
	}
	return nil
}

// bufPool holds buffers for request and response bodies.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return
	}
	bufPool.Put(b)
}

// writeJSON writes a 200 response with v encoded as JSON.
// Response header keys in net/http's canonical form, and the values every
// answer shares, so that writing them costs no canonicalisation and no
// allocation (nothing changes a header after it is written).
const (
	keyContentType   = "Content-Type"
	keyContentLength = "Content-Length"
	keyReqID         = "X-Amzn-Requestid" // headerReqID, canonical
)

var (
	contentTypeValue = []string{contentType}
	// lengthValues holds the Content-Length values of bodies shorter
	// than 1 KiB (most answers), made once instead of twice per request.
	lengthValues = func() [][]string {
		v := make([][]string, 1024)
		for n := range v {
			v[n] = []string{strconv.Itoa(n)}
		}
		return v
	}()
)

// setHeaders sets an answer's Content-Type, request id and, when n >= 0,
// Content-Length.
func setHeaders(h http.Header, reqID string, n int) {
	h[keyContentType] = contentTypeValue
	h[keyReqID] = []string{reqID}
	switch {
	case n >= 0 && n < len(lengthValues):
		h[keyContentLength] = lengthValues[n]
	case n >= 0:
		h[keyContentLength] = []string{strconv.Itoa(n)}
	}
}

func writeJSON(w http.ResponseWriter, reqID string, v any, fast bool) {
	h := w.Header()
	if v == nil {
		setHeaders(h, reqID, len(emptyResponse))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(emptyResponse))
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	if fast {
		buf.Grow(512)
		if b, ok := fastEncode(buf.AvailableBuffer(), v); ok {
			setHeaders(h, reqID, len(b))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(b)
			return
		}
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeError(w, reqID, errInternal())
		return
	}
	b := buf.Bytes()
	b = b[:len(b)-1] // Encode appends a newline
	setHeaders(h, reqID, len(b))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// throttleBytes is throttleBody, converted once.
var throttleBytes = []byte(throttleBody)

// errorBody is the JSON shape of a KMS error.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeError writes e as KMS does: its status, a JSON body with __type and
// message, and the request id.
func writeError(w http.ResponseWriter, reqID string, e *apiError) {
	h := w.Header()
	var b []byte
	if e.Bucket != "" {
		h.Set(quota.HeaderThrottledBy, e.Bucket)
		b = throttleBytes
	} else {
		b, _ = json.Marshal(errorBody{Type: e.Type, Message: e.Message})
	}
	setHeaders(h, reqID, len(b))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// idGen makes request ids shaped like UUIDs: a random per-server prefix and
// a counter, so no randomness is drawn per request.
type idGen struct {
	prefix [8]byte
	n      atomic.Uint64
}

func newIDGen() *idGen {
	g := &idGen{}
	_, _ = rand.Read(g.prefix[:])
	return g
}

func (g *idGen) next() string {
	var raw [16]byte
	copy(raw[:8], g.prefix[:])
	n := g.n.Add(1)
	for i := 0; i < 8; i++ {
		raw[15-i] = byte(n >> (8 * i))
	}
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	return formatUUID(raw)
}

func formatUUID(raw [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], raw[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], raw[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], raw[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], raw[10:16])
	return string(out[:])
}

func randomUUID() string {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	return formatUUID(raw)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// epoch is a time sent as fractional epoch seconds, the awsJson1.1
// timestamp format.
type epoch time.Time

// MarshalJSON implements json.Marshaler.
func (t epoch) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return strconv.AppendFloat(nil, float64(tt.UnixMilli())/1000, 'f', 3, 64), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}
