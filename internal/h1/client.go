package h1

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kmsload/kmsload/internal/conns"
)

// maxResponseBody bounds a response body Client reads into memory. KMS
// responses are small (the largest, GenerateDataKeyPair, is a few KB).
const maxResponseBody = 8 << 20

// Client is a plain-HTTP/1.1 client for one endpoint. The goroutine that
// sends a request writes it and reads the answer itself, on a pooled
// keep-alive connection: net/http's Transport hands every request to two
// goroutines per connection (a writer and a reader) and copies the
// request and its headers, which at tens of thousands of requests a
// second costs more CPU than the SDK's signing does. What the caller sees
// is the same: an *http.Response with status, headers and body.
//
// Connections are capped and counted by the Counter given to New (nil: no
// cap, nothing counted): a request that finds every connection busy waits
// for one to come back or for a slot to dial. Nothing reads an idle
// connection, so one idle for longer than idleCheck is checked before
// reuse, and dropped when the server has closed it. Failed requests are
// not sent again here: the caller's retryer decides, as it does for any
// connection error.
//
// A Client is safe for use by several goroutines at once.
type Client struct {
	addr    string // host:port dialled
	dial    DialFunc
	counter *conns.Counter

	slots chan struct{} // one per open connection when capped; nil: no cap

	mu   sync.Mutex
	idle []*conn      // most recently used last
	wait []chan *conn // requests waiting for a connection, oldest first (handOver)
}

// DialFunc opens a connection to addr on network, as net.Dialer's
// DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// idleCheck is how long a connection may sit idle before it is checked for
// a close by the server ahead of reuse.
const idleCheck = time.Second

// conn is one keep-alive connection with its buffers.
//
// Cancelling a request's context makes the I/O of its connection fail.
// The connection watches the context of the requests it carries (through
// their Done channel) from one request to the next rather than once per
// request: the requests of a measured window share one, and registering
// with a context walks the SDK's long chain of context values twice per
// request. A connection whose watched context ended is not used again.
type conn struct {
	c        net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	lastUsed time.Time
	watching <-chan struct{} // Done of the context watched; nil: none
	unwatch  func() bool     // stops the watch; false when it has fired
}

// Buffer sizes of a connection: a request, headers and body, leaves in one
// write (the largest KMS request body is under 8 KiB); a response's status
// line and headers fit in the read buffer many times over.
const (
	writeBuf = 16 << 10
	readBuf  = 4 << 10
)

// New returns a client dialling addr (host:port) through dial, its
// connections capped and counted by counter (nil: no cap, nothing
// counted).
func New(addr string, dial DialFunc, counter *conns.Counter) *Client {
	h := &Client{addr: addr, dial: dial, counter: counter}
	if n := counter.Max(); n > 0 {
		h.slots = make(chan struct{}, n)
	}
	return h
}

// aLongTimeAgo is a deadline in the past: it makes blocked I/O return.
var aLongTimeAgo = time.Unix(1, 0)

// Do sends req and returns its response with the body read into memory.
func (h *Client) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	cn, err := h.get(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := cn.roundTrip(req)
	cancelled := false
	if cn.watching != nil {
		select {
		case <-cn.watching:
			cancelled = true
		default:
		}
	}
	if err != nil || cancelled || resp.Close || req.Close {
		h.discard(cn)
	} else {
		cn.lastUsed = time.Now()
		h.put(cn)
	}
	if cancelled {
		return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return resp, err
}

// doneOnly is a context that is only a Done channel: watching it keeps no
// request's context values alive.
type doneOnly struct{ done <-chan struct{} }

func (doneOnly) Deadline() (time.Time, bool) { return time.Time{}, false }
func (d doneOnly) Done() <-chan struct{}     { return d.done }
func (doneOnly) Value(any) any               { return nil }
func (d doneOnly) Err() error {
	select {
	case <-d.done:
		return context.Canceled
	default:
		return nil
	}
}

// watch makes cn's I/O fail once ctx is cancelled. It returns false, and
// cn must be discarded, when a context cn watched before has been
// cancelled (its I/O may fail).
func (cn *conn) watch(ctx context.Context) bool {
	done := ctx.Done()
	if done == cn.watching {
		return true
	}
	if cn.unwatch != nil && !cn.unwatch() {
		return false
	}
	cn.watching, cn.unwatch = done, nil
	if done != nil {
		c := cn.c
		cn.unwatch = context.AfterFunc(doneOnly{done}, func() { _ = c.SetDeadline(aLongTimeAgo) })
	}
	return true
}

// roundTrip writes req on cn and reads the whole answer.
func (cn *conn) roundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Write(cn.bw); err != nil {
		return nil, fmt.Errorf("write request: %w", err)
	}
	if err := cn.bw.Flush(); err != nil {
		return nil, fmt.Errorf("write request: %w", err)
	}
	if resp, err, ok := cn.readSimple(req); ok {
		return resp, err
	}
	resp, err := http.ReadResponse(cn.br, req)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	resp.Body.Close()
	if err == nil && len(body) > maxResponseBody {
		err = fmt.Errorf("response body over %d bytes", maxResponseBody)
	}
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// usable reports whether an idle connection can carry a request: one idle
// for longer than idleCheck is unusable when the server has closed it (or
// sent something unasked), which peerClosed sees without blocking.
func (cn *conn) usable(now time.Time) bool {
	return now.Sub(cn.lastUsed) < idleCheck || !peerClosed(cn.c)
}

// get returns an idle connection or a new one, watching ctx, waiting for
// one when the cap is reached.
func (h *Client) get(ctx context.Context) (*conn, error) {
	for {
		cn, err := h.take(ctx)
		if err != nil {
			return nil, err
		}
		if cn.watch(ctx) {
			return cn, nil
		}
		h.discard(cn)
	}
}

// take returns an idle connection or a new one, waiting for one when the
// cap is reached.
func (h *Client) take(ctx context.Context) (cn *conn, err error) {
	h.mu.Lock()
	for n := len(h.idle); n > 0; n = len(h.idle) {
		cn = h.idle[n-1]
		h.idle = h.idle[:n-1]
		if cn.usable(time.Now()) {
			h.mu.Unlock()
			return cn, nil
		}
		h.mu.Unlock()
		h.discard(cn)
		h.mu.Lock()
	}
	if h.slots == nil {
		h.mu.Unlock()
		return h.dialConn(ctx)
	}
	select {
	case h.slots <- struct{}{}:
		h.mu.Unlock()
		return h.dialConn(ctx)
	default:
	}
	ch := make(chan *conn, 1)
	h.wait = append(h.wait, ch)
	h.mu.Unlock()
	select {
	case cn = <-ch:
		if cn == nil { // a connection closed: its slot is ours to dial
			return h.dialConn(ctx)
		}
		return cn, nil
	case <-ctx.Done():
		if !h.leave(ch) { // handed over meanwhile: pass it on
			if cn = <-ch; cn == nil {
				h.release()
			} else {
				h.put(cn)
			}
		}
		return nil, ctx.Err()
	}
}

// leave takes the waiting request of ch off the list and reports whether
// it was still there. When it was not, a connection or a slot has been
// handed over in ch already: handOver sends under the lock.
func (h *Client) leave(ch chan *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, w := range h.wait {
		if w == ch {
			h.wait = append(h.wait[:i], h.wait[i+1:]...)
			return true
		}
	}
	return false
}

// handOver gives cn, or with cn nil a slot to dial in, to the oldest
// waiting request, and reports whether there was one. The caller holds
// h.mu. The send cannot block: a request's channel has room for one and
// is taken off the list as it gets it.
func (h *Client) handOver(cn *conn) bool {
	if len(h.wait) == 0 {
		return false
	}
	ch := h.wait[0]
	h.wait = h.wait[1:]
	ch <- cn
	return true
}

// dialConn opens a counted connection in the slot the caller holds; the
// slot is freed when the dial fails.
func (h *Client) dialConn(ctx context.Context) (*conn, error) {
	c, err := h.dial(ctx, "tcp", h.addr)
	if err != nil {
		h.release()
		return nil, err
	}
	c = h.counter.Track(c)
	return &conn{c: c, br: bufio.NewReaderSize(c, readBuf), bw: bufio.NewWriterSize(c, writeBuf)}, nil
}

// put hands cn to the oldest waiting request, or makes it idle.
func (h *Client) put(cn *conn) {
	h.mu.Lock()
	if !h.handOver(cn) {
		h.idle = append(h.idle, cn)
	}
	h.mu.Unlock()
}

// discard closes cn and frees its slot.
func (h *Client) discard(cn *conn) {
	if cn.unwatch != nil {
		cn.unwatch()
	}
	cn.c.Close()
	h.release()
}

// release frees a connection slot: a waiting request may dial.
func (h *Client) release() {
	if h.slots == nil {
		return
	}
	h.mu.Lock()
	if !h.handOver(nil) { // else the slot passes to the waiter
		<-h.slots
	}
	h.mu.Unlock()
}

// CloseIdleConnections closes the idle connections.
func (h *Client) CloseIdleConnections() {
	h.mu.Lock()
	idle := h.idle
	h.idle = nil
	h.mu.Unlock()
	for _, cn := range idle {
		h.discard(cn)
	}
}
