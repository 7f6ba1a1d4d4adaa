// Package nsqdtest runs nsqd inside a test process, on loopback ports, for
// the tests of cluster/ and of the CLI: no nsqd binary is needed.
package nsqdtest

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/nsqio/nsq/nsqd"
)

// NSQD is an nsqd running in the test process. Stop and Restart are safe
// to call from any goroutine; the test's cleanup stops it.
type NSQD struct {
	t    testing.TB
	mu   sync.Mutex
	n    *nsqd.NSQD
	addr string // TCP address, kept across restarts
	done chan struct{}
}

// Start starts nsqd on 127.0.0.1 (TCP on a free port, HTTP on another) with
// its data in a temporary directory and its logs, warnings and worse,
// sent to t.Log.
func Start(t testing.TB) *NSQD {
	t.Helper()
	s := &NSQD{t: t, addr: "127.0.0.1:0"}
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
