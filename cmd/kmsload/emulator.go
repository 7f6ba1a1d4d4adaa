package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

type emulatorFlags struct {
	addr           string
	quotas         string
	algorithm      string
	scale          float64
	defaultAccount string
	latency        string
	upstream       string
	state          string
	stateEvery     time.Duration
	verifySigV4    bool
	credentials    string
	faults         []string
}

func newEmulatorCmd() *cobra.Command {
	var f emulatorFlags
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve the KMS emulator (with AWS's quota rules) for other clients",
		Long: `Emulator serves the AWS KMS JSON 1.1 protocol on --addr for any client
(aws-sdk-go-v2, awscli, boto3, ...). The caller account is the access key id
when it has 12 digits, else --default-account; the Region comes from the
SigV4 credential scope. Requests are throttled like AWS KMS: per caller
account, Region and class, with ThrottlingException on the wire.

With --upstream URL it is a throttling proxy: quotas are decided here and
allowed requests are forwarded to another KMS server (moto, local-kms,
LocalStack).

Admin endpoints: GET /_kmsload/health, GET /_kmsload/stats,
POST /_kmsload/reset, POST /_kmsload/clock {"advance":"720h"}.`,
		Example: `  kmsload emulator
  kmsload emulator --addr 127.0.0.1:4599 --scale 0.01 --state kms-state.json
  AWS_ACCESS_KEY_ID=111111111111 AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 \
    aws --endpoint-url http://127.0.0.1:4599 kms create-key`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return serveEmulator(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:4599", "listen address")
	fl.StringVar(&f.quotas, "quotas", "aws", "quota model: aws, off, or a quota override file")
	fl.StringVar(&f.algorithm, "quota-algorithm", "", "quota window: fixed-window (default) or token-bucket")
	fl.Float64Var(&f.scale, "scale", 1, "multiply every quota by this")
	fl.StringVar(&f.defaultAccount, "default-account", "123456789012", "caller account when the access key id is not 12 digits")
	fl.StringVar(&f.latency, "latency", "", "service-time model, e.g. 'lognormal:median=3ms,p99=12ms' (default none)")
	fl.StringVar(&f.upstream, "upstream", "", "forward allowed requests to this KMS endpoint (throttling proxy)")
	fl.StringVar(&f.state, "state", "", "keep keys in this file: loaded at start, written periodically and on shutdown")
	fl.DurationVar(&f.stateEvery, "state-interval", 30*time.Second, "how often to write --state")
	fl.BoolVar(&f.verifySigV4, "verify-sigv4", false, "verify SigV4 signatures against --credentials")
	fl.StringVar(&f.credentials, "credentials", "", "AWS shared-credentials file with the access keys --verify-sigv4 accepts")
	fl.StringArrayVar(&f.faults, "fault", nil, "fail a share of an operation's requests with KMSInternalException, e.g. Decrypt=0.01 (repeatable)")
	return cmd
}

func serveEmulator(cmd *cobra.Command, f emulatorFlags) error {
	opts := emulator.Options{DefaultAccount: f.defaultAccount, Upstream: f.upstream}
	var err error
	if opts.Delay, err = emulator.ParseLatency(f.latency); err != nil {
		return usageErr(fmt.Errorf("--latency: %w", err))
	}
	if opts.Faults, err = parseFaults(f.faults); err != nil {
		return usageErr(err)
	}
	if f.verifySigV4 {
		if f.credentials == "" {
			return usageErr(errors.New("--verify-sigv4 needs --credentials FILE"))
		}
		if opts.Credentials, err = emulator.LoadCredentials(f.credentials); err != nil {
			return usageErr(err)
		}
		opts.VerifySigV4 = true
	}
	if f.quotas != "off" {
		cfg := quota.DefaultConfig()
		if f.quotas != "aws" {
			if cfg, err = quota.LoadFile(f.quotas); err != nil {
				return usageErr(err)
			}
		}
		if f.algorithm != "" {
			cfg.Algorithm = quota.Algorithm(f.algorithm)
		}
		cfg.Scale = f.scale
		if opts.Quota, err = quota.New(cfg); err != nil {
			return usageErr(err)
		}
	}
	logger := log.New(os.Stderr, "kmsload emulator: ", log.LstdFlags)
	opts.Logf = logger.Printf
	srv, err := emulator.New(opts)
	if err != nil {
		return usageErr(err)
	}
	if f.state != "" {
		if err := srv.LoadState(f.state); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--state: %w", err)
		}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Printf("serving KMS on http://%s (quotas %s, scale %g)", ln.Addr(), f.quotas, f.scale)

	var tick <-chan time.Time
	if f.state != "" && f.stateEvery > 0 {
		t := time.NewTicker(f.stateEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-tick:
			if err := srv.SaveState(f.state); err != nil {
				logger.Printf("state: %v", err)
			}
		case <-ctx.Done():
			logger.Printf("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			hs.Shutdown(sctx) //nolint:errcheck // best effort: state is saved below either way
			if f.state != "" {
				if err := srv.SaveState(f.state); err != nil {
					return fmt.Errorf("state: %w", err)
				}
			}
			return nil
		}
	}
}

// parseFaults parses OP=SHARE pairs.
func parseFaults(specs []string) (map[string]float64, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	m := make(map[string]float64, len(specs))
	for _, s := range specs {
		op, v, ok := strings.Cut(s, "=")
		share, err := strconv.ParseFloat(v, 64)
		if !ok || op == "" || err != nil || share < 0 || share > 1 {
			return nil, fmt.Errorf("--fault %q: want OPERATION=SHARE with SHARE in 0..1, e.g. Decrypt=0.01", s)
		}
		m[op] = share
	}
	return m, nil
}
