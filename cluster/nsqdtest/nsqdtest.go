// Package nsqdtest runs nsqd, and nsqlookupd, inside a test process, on
// loopback ports, for the tests of cluster/ and of the CLI: no NSQ binary
// is needed.
package nsqdtest

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/nsqio/nsq/nsqd"
	"github.com/nsqio/nsq/nsqlookupd"
)

// NSQD is an nsqd running in the test process. Stop and Restart are safe
// to call from any goroutine; the test's cleanup stops it.
type NSQD struct {
	t       testing.TB
	lookupd []string // nsqlookupd TCP addresses it registers with
	mu      sync.Mutex
	n       *nsqd.NSQD
	addr    string // TCP address, kept across restarts
	done    chan struct{}
}

// Start starts nsqd on 127.0.0.1 (TCP on a free port, HTTP on another) with
// its data in a temporary directory and its logs, warnings and worse,
// sent to t.Log.
func Start(t testing.TB) *NSQD {
	t.Helper()
	return StartRegistered(t)
}

// StartRegistered starts nsqd as Start does, registered with the
// nsqlookupds at the TCP addresses lookupd (Lookupd.TCPAddr), so that
// consumers can find it through them.
func StartRegistered(t testing.TB, lookupd ...string) *NSQD {
	t.Helper()
	s := &NSQD{t: t, addr: "127.0.0.1:0", lookupd: lookupd}
	if err := s.start(); err != nil {
		t.Fatalf("nsqdtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Addr is nsqd's TCP address, host:port.
func (s *NSQD) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

type logger struct{ t testing.TB }

func (l logger) Output(_ int, msg string) error {
	l.t.Log(msg)
	return nil
}

func (s *NSQD) start() error {
	opts := nsqd.NewOptions()
	opts.TCPAddress = s.addr
	opts.HTTPAddress = "127.0.0.1:0"
	opts.HTTPSAddress = ""
	opts.BroadcastAddress = "127.0.0.1"
	opts.NSQLookupdTCPAddresses = s.lookupd
	opts.Logger = logger{s.t}
	opts.LogLevel = nsqd.LOG_WARN
	dir, err := os.MkdirTemp("", "nsqdtest-")
	if err != nil {
		return err
	}
	opts.DataPath = dir
	n, err := nsqd.New(opts)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("start nsqd on %s: %w", s.addr, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer os.RemoveAll(dir)
		if err := n.Main(); err != nil {
			s.t.Logf("nsqdtest: nsqd: %v", err)
		}
	}()
	s.n, s.done = n, done
	s.addr = n.RealTCPAddr().String()
	return nil
}

// Stop stops nsqd; messages it held are lost. Stopping a stopped nsqd
// does nothing.
func (s *NSQD) Stop() {
	s.mu.Lock()
	n, done := s.n, s.done
	s.n = nil
	s.mu.Unlock()
	if n != nil {
		n.Exit()
		<-done
	}
}

// Restart stops nsqd and starts a new one, with no messages, on the same
// TCP port.
func (s *NSQD) Restart() error {
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.start()
}

// Lookupd is an nsqlookupd running in the test process; the test's
// cleanup stops it.
type Lookupd struct {
	l    *nsqlookupd.NSQLookupd
	done chan struct{}
}

// StartLookupd starts nsqlookupd on 127.0.0.1 (TCP and HTTP on free
// ports), its logs, warnings and worse, sent to t.Log.
func StartLookupd(t testing.TB) *Lookupd {
	t.Helper()
	opts := nsqlookupd.NewOptions()
	opts.TCPAddress = "127.0.0.1:0"
	opts.HTTPAddress = "127.0.0.1:0"
	opts.BroadcastAddress = "127.0.0.1"
	opts.Logger = logger{t}
	opts.LogLevel = nsqlookupd.LOG_WARN
	l, err := nsqlookupd.New(opts)
	if err != nil {
		t.Fatalf("nsqdtest: start nsqlookupd: %v", err)
	}
	s := &Lookupd{l: l, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := l.Main(); err != nil {
			t.Logf("nsqdtest: nsqlookupd: %v", err)
		}
	}()
	t.Cleanup(func() {
		l.Exit()
		<-s.done
	})
	return s
}

// TCPAddr is the address nsqds register at (nsqd --lookupd-tcp-address).
func (s *Lookupd) TCPAddr() string { return s.l.RealTCPAddr().String() }

// HTTPAddr is the address consumers query (cluster.Conn.Lookupd,
// kmsload --nsqlookupd).
func (s *Lookupd) HTTPAddr() string { return s.l.RealHTTPAddr().String() }
