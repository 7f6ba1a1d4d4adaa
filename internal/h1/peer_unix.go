//go:build unix

package h1

import (
	"errors"
	"net"
	"syscall"
)

// peerClosed reports whether the other end of an idle connection closed
// it (or sent data nobody asked for), peeking at the socket without
// blocking and without consuming anything.
func peerClosed(c net.Conn) bool {
	if w, ok := c.(interface{ NetConn() net.Conn }); ok { // a counted connection
		c = w.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false // cannot tell: a failure shows on use
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n > 0 || (e == nil && n == 0) || (e != nil && !errors.Is(e, syscall.EAGAIN) && !errors.Is(e, syscall.EINTR))
		return true // one look, never wait
	})
	return closed || err != nil
}
