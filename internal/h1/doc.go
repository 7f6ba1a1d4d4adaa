// Package h1 is a small plain-HTTP/1.1 client for one endpoint, which the
// driver uses instead of net/http's Transport for http:// emulator and
// endpoint targets (kmsload run --http-client fast). It sends each request
// on the caller's goroutine over a pooled keep-alive connection, reads the
// whole answer into memory, and parses the plain answers a KMS endpoint
// sends without net/http's general parser (falling back to it for any
// other answer).
//
// It does only what such a target needs: no TLS, no proxy, no HTTP/2, no
// 1xx answers handed to the caller, no request sent again after a
// failure (the caller's retryer decides). ForEndpoint says when an
// endpoint is outside that. Connections are capped and counted by a
// conns.Counter, which the net/http transport of the same run shares.
package h1
