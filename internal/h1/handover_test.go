package h1

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/kmsload/kmsload/internal/conns"
)

// TestClientHandOverToCancelledWaiters cancels every request waiting for
// the only connection at the instant the connection (or, when it is
// closed, its slot) is handed over, many times: a waiter that gives up
// must pass on what it was handed, so that no connection and no slot is
// left in a channel nobody reads.
func TestClientHandOverToCancelledWaiters(t *testing.T) {
	var pipes []net.Conn
	defer func() {
		for _, c := range pipes {
			c.Close()
		}
	}()
	dial := func(context.Context, string, string) (net.Conn, error) {
		c, s := net.Pipe()
		pipes = append(pipes, s) // dials are serialised by the cap of 1
		return c, nil
	}
	const waiters = 16
	iterations := handOverIterations
	if testing.Short() {
		iterations = handOverIterations / 10
	}
	for i := range iterations {
		counter := conns.NewCounter(1)
		h := New("pipe", dial, counter)
		held, err := h.get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		cancels := make([]context.CancelFunc, waiters)
		for j := range cancels {
			ctx, cancel := context.WithCancel(context.Background())
			cancels[j] = cancel
			wg.Go(func() {
				if cn, err := h.get(ctx); err == nil {
					h.put(cn)
				}
			})
		}
		spinUntil(t, func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return len(h.wait) == waiters
		})
		start := make(chan struct{})
		for _, cancel := range cancels {
			wg.Go(func() { <-start; cancel() })
		}
		close(start)
		if i%2 == 0 {
			h.put(held) // the connection is handed over
		} else {
			h.discard(held) // its slot is
		}
		wg.Wait()
		h.CloseIdleConnections()
		if open, taken := counter.Open(), len(h.slots); open != 0 || taken != 0 {
			t.Fatalf("iteration %d: %d connections open, %d slots taken after every waiter returned; want 0, 0", i, open, taken)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cn, err := h.get(ctx)
		cancel()
		if err != nil {
			t.Fatalf("iteration %d: a new request: %v; want a connection", i, err)
		}
		h.discard(cn)
	}
}

// spinUntil yields until cond holds, for up to 5 s.
func spinUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); runtime.Gosched() {
		if time.Now().After(end) {
			t.Fatal("condition not met within 5 s")
		}
	}
}
