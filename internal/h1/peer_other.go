//go:build !unix

package h1

import "net"

// peerClosed cannot look at the socket on this platform: it reports the
// connection open, and a connection the server closed fails on use (the
// SDK's retryer sends the request again).
func peerClosed(net.Conn) bool { return false }
