package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

type runFlags struct {
	target       string
	endpoint     string
	out          string
	duration     time.Duration
	scale        float64
	isolate      bool
	retry        string
	seed         int64
	quotas       string
	algorithm    string
	latency      string
	quiet        bool
	drainTimeout time.Duration
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Replay a scenario and report latency, throttling and coupling",
		Long: `Run provisions the scenario's keys, aliases and key policies on the target,
then replays every workload open-loop for the scenario's duration and writes
DIR/results.json, DIR/summary.txt and one DIR/<workload>.hlog per workload,
and prints the summary.

Targets:
  embedded  (default) an in-process KMS emulator on a loopback port, with
            AWS's request quotas scaled by the scenario's scale
  endpoint  any KMS-compatible endpoint: --endpoint URL, or the SDK's
            AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL
  aws       real AWS KMS (guarded; not available in this version)

Ctrl-C stops the arrivals, waits for requests in flight and writes the
partial results, marked "partial": true.`,
		Example: `  kmsload run scenarios/quickstart.yaml --isolate
  kmsload run my.yaml --duration 30s --scale 0.005 --out results/my
  kmsload run my.yaml --target endpoint --endpoint http://127.0.0.1:4566`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "embedded", "where requests go: embedded, endpoint or aws")
	fl.StringVar(&f.endpoint, "endpoint", "", "KMS endpoint URL for --target endpoint (default $AWS_ENDPOINT_URL_KMS, then $AWS_ENDPOINT_URL)")
	fl.StringVar(&f.out, "out", "kmsload-results", "directory for results.json, summary.txt and .hlog files")
	fl.DurationVar(&f.duration, "duration", 0, "measured window per run (default: the scenario's duration)")
	fl.Float64Var(&f.scale, "scale", 0, "multiply quotas and rates by this (default: the scenario's scale)")
	fl.BoolVar(&f.isolate, "isolate", false, "run each workload alone, then all together, and report coupling")
	fl.StringVar(&f.retry, "retry", "", "SDK retry mode for every workload: sdk-standard, none or adaptive (default: per workload, sdk-standard)")
	fl.Int64Var(&f.seed, "seed", 0, "seed for Poisson arrivals (default: the scenario's seed)")
	fl.StringVar(&f.quotas, "quotas", "", "embedded quota model: aws, off, or a quota override file (default: the scenario's, aws)")
	fl.StringVar(&f.algorithm, "quota-algorithm", "", "embedded quota window: fixed-window or token-bucket (default: the scenario's, fixed-window)")
	fl.StringVar(&f.latency, "latency", "", "embedded service-time model, e.g. 'lognormal:median=3ms,p99=12ms' (default none)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress; print only the summary")
	fl.DurationVar(&f.drainTimeout, "drain-timeout", 5*time.Second, "how long to wait for requests in flight after arrivals stop")
	return cmd
}

func runScenario(cmd *cobra.Command, path string, f runFlags) error {
	s, err := loadScenario(path)
	if err != nil {
		return err
	}
	if f.retry != "" {
		switch f.retry {
		case scenario.RetryStandard, scenario.RetryNone, scenario.RetryAdaptive:
		default:
			return usageErr(fmt.Errorf("--retry %q: want sdk-standard, none or adaptive", f.retry))
		}
	}
	if f.scale < 0 {
		return usageErr(fmt.Errorf("--scale %g: must be positive", f.scale))
	}
	scale := s.Scale
	if f.scale > 0 {
		scale = f.scale
	}
	qcfg, quotasOn, err := quotaConfig(s, f, scale)
	if err != nil {
		return usageErr(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := driver.Options{
		Scenario:     s,
		Duration:     f.duration,
		Scale:        scale,
		Retry:        f.retry,
		Seed:         f.seed,
		Isolate:      f.isolate,
		Quota:        qcfg,
		DrainTimeout: f.drainTimeout,
	}
	switch f.target {
	case "embedded":
		srv, url, shutdown, err := startEmbedded(f)
		if err != nil {
			return err
		}
		defer shutdown()
		opts.Target = driver.Target{Kind: "embedded", Endpoint: url}
		opts.BeforeMeasure = func() {
			if !quotasOn {
				srv.SetQuota(nil)
				return
			}
			m, err := quota.New(qcfg)
			if err != nil { // validated above; cannot happen
				panic(err)
			}
			srv.SetQuota(m)
		}
	case "endpoint":
		ep := firstNonEmpty(f.endpoint, os.Getenv("AWS_ENDPOINT_URL_KMS"), os.Getenv("AWS_ENDPOINT_URL"))
		if ep == "" {
			return usageErr(errors.New("--target endpoint needs --endpoint URL (or AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL)"))
		}
		opts.Target = driver.Target{Kind: "endpoint", Endpoint: ep}
	case "aws":
		return usageErr(errors.New("--target aws is not available in this version: real-AWS runs need the guards (--allow-account, cost caps, cleanup) first"))
	default:
		return usageErr(fmt.Errorf("--target %q: want embedded, endpoint or aws", f.target))
	}

	stdout := cmd.OutOrStdout()
	if !f.quiet {
		opts.Progress = progressPrinter(os.Stderr)
	}
	d, err := driver.New(opts)
	if err != nil {
		return usageErr(err)
	}
	out, err := d.Run(ctx)
	if err != nil {
		return err
	}
	if !f.quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		fmt.Fprintln(os.Stderr)
	}
	res := out.Results
	res.Scenario.SHA256 = s.SHA256()
	res.Target.Versions = versions()
	if err := writeOutputs(f.out, out); err != nil {
		return err
	}
	if err := report.WriteText(stdout, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nresults: %s\n", filepath.Join(f.out, "results.json"))
	if res.Partial {
		return &exitError{code: exitRuntime, err: errors.New("run interrupted: partial results written")}
	}
	return nil
}

// quotaConfig builds the embedded emulator's quota configuration from the
// scenario and the flags. It reports whether quotas are on.
func quotaConfig(s *scenario.Scenario, f runFlags, scale float64) (quota.Config, bool, error) {
	mode := firstNonEmpty(f.quotas, s.Quotas.Mode, "aws")
	cfg := quota.DefaultConfig()
	switch mode {
	case "aws", "off":
	default:
		var err error
		if cfg, err = quota.LoadFile(mode); err != nil {
			return cfg, false, err
		}
	}
	if alg := firstNonEmpty(f.algorithm, s.Quotas.Algorithm); alg != "" {
		cfg.Algorithm = quota.Algorithm(alg)
	}
	cfg.Scale = scale
	if err := cfg.Validate(); err != nil {
		return cfg, false, err
	}
	return cfg, mode != "off", nil
}

// startEmbedded starts the emulator on a loopback port. Quotas are armed
// by the driver's BeforeMeasure hook, after provisioning.
func startEmbedded(f runFlags) (*emulator.Server, string, func(), error) {
	delay, err := emulator.ParseLatency(f.latency)
	if err != nil {
		return nil, "", nil, usageErr(fmt.Errorf("--latency: %w", err))
	}
	srv, err := emulator.New(emulator.Options{Delay: delay})
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("embedded emulator: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with Close below
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(ctx) //nolint:errcheck
	}
	return srv, "http://" + ln.Addr().String(), shutdown, nil
}

// writeOutputs writes results.json, summary.txt and the .hlog files.
func writeOutputs(dir string, out *driver.Output) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "results.json"), func(w io.Writer) error {
		return report.WriteJSON(w, out.Results)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "summary.txt"), func(w io.Writer) error {
		return report.WriteText(w, out.Results)
	}); err != nil {
		return err
	}
	for name, data := range out.Hlog {
		if err := os.WriteFile(filepath.Join(dir, safeName(name)+".hlog"), data, 0o644); err != nil {
			return fmt.Errorf("hlog: %w", err)
		}
	}
	return nil
}

// writeFile writes through a temporary file and renames it, so a reader
// never sees half a file.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kmsload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// progressPrinter prints a live one-line status each second on a terminal,
// and a plain line every 5 seconds otherwise.
func progressPrinter(w *os.File) func(string, report.Progress) {
	tty := term.IsTerminal(int(w.Fd()))
	last := ""
	return func(phase string, p report.Progress) {
		line := fmt.Sprintf("[%s] %5.0fs  sent %7.1f/s  ok %7.1f/s  throttled %5.1f%%  p99 %7.1fms  dropped %d",
			phase, p.Elapsed.Seconds(), p.SentPerS, p.OKPerS, 100*p.ThrottledShare, p.P99Ms, p.Dropped)
		if tty {
			if phase != last && last != "" {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "\r\033[K%s", line)
		} else if int(p.Elapsed.Seconds())%5 == 0 || phase != last {
			fmt.Fprintln(w, line)
		}
		last = phase
	}
}
