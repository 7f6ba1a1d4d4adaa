// Package conns caps and counts the connections a client opens to an
// endpoint host: the net/http transport kmsload builds and its own
// HTTP/1.1 client (package h1) share one Counter, so that a run's cap and
// its most connections open at once cover whichever carries the requests.
package conns

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
)

// Counter caps connections per host and counts those open. A nil
// *Counter caps and counts nothing. It is safe for use by several
// goroutines at once.
type Counter struct {
	max  int // 0: no cap
	open atomic.Int64
	peak atomic.Int64
}

// NewCounter returns a counter capping connections per host at n; 0 or
// less means no cap.
func NewCounter(n int) *Counter {
	return &Counter{max: max(n, 0)}
}

// Max returns the cap on connections per host; 0 means none.
func (c *Counter) Max() int {
	if c == nil {
		return 0
	}
	return c.max
}

// Open returns how many counted connections are open now.
func (c *Counter) Open() int {
	if c == nil {
		return 0
	}
	return int(c.open.Load())
}

// Peak returns the most counted connections open at once so far.
func (c *Counter) Peak() int {
	if c == nil {
		return 0
	}
	return int(c.peak.Load())
}

// Apply caps tr's connections per host and counts the connections it
// dials.
func (c *Counter) Apply(tr *http.Transport) {
	if c == nil {
		return
	}
	tr.MaxConnsPerHost = c.max
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return c.Track(conn), nil
	}
}

// Track counts conn open until its first Close and returns the counted
// connection; its NetConn method returns conn. A nil c returns conn.
func (c *Counter) Track(conn net.Conn) net.Conn {
	if c == nil {
		return conn
	}
	n := c.open.Add(1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	return &countedConn{Conn: conn, c: c}
}

// countedConn is a connection counted open until its first Close.
type countedConn struct {
	net.Conn
	c      *Counter
	closed atomic.Bool
}

// Close closes the connection and counts it closed.
func (cc *countedConn) Close() error {
	if cc.closed.CompareAndSwap(false, true) {
		cc.c.open.Add(-1)
	}
	return cc.Conn.Close()
}

// NetConn returns the connection counted, as tls.Conn's NetConn does.
func (cc *countedConn) NetConn() net.Conn { return cc.Conn }
