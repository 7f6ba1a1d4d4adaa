package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/kmsload/kmsload/metrics"
)

// metricsServer serves a run's Prometheus metrics (--metrics-addr) from
// before provisioning until the command returns. Its methods do nothing on
// a nil *metricsServer (no --metrics-addr).
type metricsServer struct {
	m      *metrics.Metrics
	url    string
	hs     *http.Server
	served chan struct{} // closed when Serve has returned
	linger time.Duration
	log    io.Writer
}

// startMetrics listens on addr exactly as given and serves /metrics on a
// goroutine it owns until close. With addr "" it returns nil (metrics off).
// A host other than a loopback address is allowed, with a warning: the
// metrics name the run's accounts, keys and workloads.
func startMetrics(addr string, linger time.Duration, scenarioName, target string, log io.Writer) (*metricsServer, error) {
	if addr == "" {
		if linger != 0 {
			return nil, usageErr(errors.New("--metrics-linger needs --metrics-addr"))
		}
		return nil, nil
	}
	if linger < 0 {
		return nil, usageErr(fmt.Errorf("--metrics-linger %v: must not be negative", linger))
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--metrics-addr %q: want HOST:PORT, e.g. 127.0.0.1:9464: %w", addr, err))
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(log, "kmsload: warning: --metrics-addr %s is not a loopback address: whoever reaches it can read the run's metrics\n", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	m := metrics.New()
	m.SetRun(scenarioName, target)
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	s := &metricsServer{
		m:      m,
		url:    "http://" + ln.Addr().String() + "/metrics",
		hs:     &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		served: make(chan struct{}),
		linger: linger,
		log:    log,
	}
	go func() {
		defer close(s.served)
		s.hs.Serve(ln) //nolint:errcheck // ErrServerClosed after close
	}()
	fmt.Fprintf(log, "metrics: %s\n", s.url)
	return s, nil
}

// runDone marks the run as over: every counter is final.
func (s *metricsServer) runDone() {
	if s != nil {
		s.m.SetPhase(metrics.PhaseDone)
	}
}

// wait keeps serving the final values for --metrics-linger, or until ctx
// is cancelled (Ctrl-C), so that they can be scraped once more.
func (s *metricsServer) wait(ctx context.Context) {
	if s == nil || s.linger <= 0 || ctx.Err() != nil {
		return
	}
	fmt.Fprintf(s.log, "metrics: final values at %s for %v (Ctrl-C ends)\n", s.url, s.linger)
	t := time.NewTimer(s.linger)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// close stops the server and waits for its goroutine.
func (s *metricsServer) close() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.hs.Shutdown(ctx); err != nil {
		s.hs.Close()
	}
	<-s.served
}
