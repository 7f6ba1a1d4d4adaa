package driver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/middleware"

	"github.com/kmsload/kmsload/internal/conns"
)

// maxInMemoryBody is the largest request body bufferedBodies copies into
// memory. KMS request bodies are small: the largest, a Sign or Encrypt of
// 4 KiB, is under 8 KiB as JSON with base64.
const maxInMemoryBody = 64 << 10

// bufferedBodies is an HTTP client that hands the transport each request's
// body as a *bytes.Reader. The SDK wraps bodies in its own reader type,
// which net/http does not know to be in memory, so it flushes the headers
// to the connection before copying the body: two writes, and two packets,
// per request. With a *bytes.Reader the request leaves in one write.
type bufferedBodies struct{ c aws.HTTPClient }

// Do sends req with its body, when of known length up to
// maxInMemoryBody, read into memory first. The SDK builds a new
// *http.Request for every attempt, so req is the caller's to change.
func (b bufferedBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength > 0 && req.ContentLength <= maxInMemoryBody {
		buf := make([]byte, req.ContentLength)
		_, err := io.ReadFull(req.Body, buf)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(buf))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	}
	return b.c.Do(req)
}

// fixedEndpoint resolves every request of a client to one endpoint URL,
// parsed once: the SDK's own resolver parses the base endpoint for every
// request. It is for emulator and endpoint targets, whose URL is the same
// whatever the Region; real AWS keeps the SDK's resolver.
type fixedEndpoint struct{ u url.URL }

// newFixedEndpoint parses endpoint.
func newFixedEndpoint(endpoint string) (*fixedEndpoint, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	return &fixedEndpoint{u: *u}, nil
}

// ResolveEndpoint returns the fixed URL.
func (f *fixedEndpoint) ResolveEndpoint(context.Context, kms.EndpointParameters) (smithyendpoints.Endpoint, error) {
	return smithyendpoints.Endpoint{URI: f.u}, nil
}

// trimStack removes, from an emulator or endpoint target's client, the
// SDK middlewares that neither the request nor its measurement needs:
// the invocation id, User-Agent and recursion-detection headers, the
// response timing kept for clock-skew correction against real AWS, and
// the request/response logger. What is measured (retries, their token
// bucket and backoff, signing, serialization, the transport) stays. A
// middleware the SDK no longer has is not an error.
func trimStack(stack *middleware.Stack) error {
	for _, id := range []string{"ClientRequestID", "UserAgent", "RecursionDetection"} {
		_, _ = stack.Build.Remove(id)
	}
	for _, id := range []string{"RecordResponseTiming", "RequestResponseLogger"} {
		_, _ = stack.Deserialize.Remove(id)
	}
	return nil
}

// DefaultMaxConns is the default cap on connections per KMS endpoint host
// (Options.MaxConns).
const DefaultMaxConns = 128

// newConnCounter returns the counter of Options.MaxConns n: 0 =
// DefaultMaxConns, negative = no cap.
func newConnCounter(n int) *conns.Counter {
	if n == 0 {
		n = DefaultMaxConns
	}
	return conns.NewCounter(n)
}
