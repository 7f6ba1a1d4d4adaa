package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// windowFlags are the flags run and simulate share: the measured window,
// the scale, seeds, the retry mode, the quota model and the service-time
// model, the error budget, and where results go.
type windowFlags struct {
	out          string
	duration     time.Duration
	scale        float64
	isolate      bool
	retry        string
	seed         int64
	jitterSeed   int64
	quotas       string
	algorithm    string
	latency      string
	quiet        bool
	drainTimeout time.Duration
	errorBudget  string // --error-budget ("" = the scenario's)
	force        bool   // --force: overwrite the other command's results in --out
	windowPhase  string // --window-phase (quota.ParseWindowPhase)
}

// windowHelp is the help text of each window flag that run and simulate
// word apart (simulate's windows are virtual), and --out's default.
type windowHelp struct {
	outDefault                                             string
	out, duration, scale, isolate, seed, jitterSeed        string
	quotas, algorithm, latency, quiet, drainTimeout, force string
}

// addFlags defines the window flags on fl, worded by h.
func (f *windowFlags) addFlags(fl *pflag.FlagSet, h windowHelp) {
	fl.StringVar(&f.out, "out", h.outDefault, h.out)
	fl.DurationVar(&f.duration, "duration", 0, h.duration)
	fl.Float64Var(&f.scale, "scale", 0, h.scale)
	fl.BoolVar(&f.isolate, "isolate", false, h.isolate)
	fl.StringVar(&f.retry, "retry", "", retryFlagHelp)
	fl.StringVar(&f.windowPhase, "window-phase", "", windowPhaseHelp)
	fl.Int64Var(&f.seed, "seed", 0, h.seed)
	fl.Int64Var(&f.jitterSeed, "jitter-seed", 0, h.jitterSeed)
	fl.StringVar(&f.quotas, "quotas", "", h.quotas)
	fl.StringVar(&f.algorithm, "quota-algorithm", "", h.algorithm)
	fl.StringVar(&f.latency, "latency", "", h.latency)
	fl.BoolVarP(&f.quiet, "quiet", "q", false, h.quiet)
	fl.DurationVar(&f.drainTimeout, "drain-timeout", 5*time.Second, h.drainTimeout)
	fl.StringVar(&f.errorBudget, "error-budget", "", errorBudgetUsage)
	fl.BoolVar(&f.force, "force", false, h.force)
}

type runFlags struct {
	windowFlags
	target        string
	endpoint      string
	junit         string
	summaryMD     string
	throttle      bool
	healthTimeout time.Duration
	guard         guardFlags
	agents        int          // distributed run over this many agents (cluster.go)
	cluster       clusterFlags // nsqd of a distributed run
	metricsAddr   string
	metricsLinger time.Duration
	cpuProfile    string // write a pprof CPU profile of the run here
	maxConns      int
	httpClient    string // --http-client ("" = driver.DefaultHTTPClient)
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Replay a scenario and report latency, throttling and coupling",
		Long: `Run provisions the scenario's keys, aliases and key policies on the target,
then replays every workload open-loop for the scenario's duration and writes
DIR/results.json, DIR/summary.txt, DIR/report.html (charts and tables, one
self-contained file) and one DIR/<workload>.hlog per workload,
and prints the summary.

Targets:
  embedded  (default) an in-process KMS emulator on a loopback port, with
            AWS's request quotas scaled by the scenario's scale
  endpoint  any KMS-compatible endpoint: --endpoint URL, or the SDK's
            AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL (moto_server, local-kms,
            kmsload emulator, ...); checked before provisioning: a scenario
            needing what the target lacks fails with the list
  localstack  LocalStack at http://127.0.0.1:4566 (or --endpoint); waits for
            /_localstack/health to report KMS, accounts = access key ids
  aws       real AWS KMS through the default credential chain (and each
            account's role_arn), guarded: --allow-account must list every
            account touched; prints predicted requests and cost and asks
            before starting (--yes); created keys are tagged kmsload:run-id,
            aliases get the alias/kmsload- prefix, and every created key is
            scheduled for deletion (7 days) at the end, on Ctrl-C and on a
            crash (see docs/aws.md; leftovers: kmsload cleanup)

With --throttle, an endpoint or localstack target gets kmsload's quota
model in front of it (an in-process throttling proxy, armed after
provisioning): the report says the quotas were applied by kmsload.

Ctrl-C stops the arrivals, waits for requests in flight and writes the
partial results, marked "partial": true.`,
		Example: `  kmsload run scenarios/quickstart.yaml --isolate
  kmsload run my.yaml --duration 30s --scale 0.005 --out results/my
  kmsload run my.yaml --target endpoint --endpoint http://127.0.0.1:5000 --throttle
  kmsload run my.yaml --target localstack --throttle`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	f.windowFlags.addFlags(fl, windowHelp{
		outDefault:   "kmsload-results",
		out:          "directory for results.json, summary.txt, report.html and .hlog files",
		duration:     "measured window per run (default: the scenario's duration)",
		scale:        "multiply quotas and rates by this (default: the scenario's scale)",
		isolate:      "run each workload alone, then all together, and report coupling",
		seed:         "seed for Poisson arrivals (default: the scenario's seed)",
		jitterSeed:   "fix the SDK's backoff jitter per request by this seed, as kmsload simulate --jitter-seed draws it, to compare a run with a simulation request for request (default: the SDK's random jitter)",
		quotas:       "embedded quota model: aws, off, or a quota override file (default: the scenario's, aws)",
		algorithm:    "embedded quota window: fixed-window or token-bucket (default: the scenario's, fixed-window)",
		latency:      "embedded service-time model, e.g. 'lognormal:median=3ms,p99=12ms' (default none)",
		quiet:        "no live progress; print only the summary",
		drainTimeout: "how long to wait for requests in flight after arrivals stop",
		force:        "write into --out even when it holds a simulation's results",
	})
	fl.StringVar(&f.target, "target", "embedded", "where requests go: embedded, endpoint, localstack or aws")
	fl.BoolVar(&f.throttle, "throttle", false, "endpoint and localstack targets: put kmsload's quota model in front (in-process throttling proxy)")
	fl.DurationVar(&f.healthTimeout, "health-timeout", 30*time.Second, "--target localstack: how long to wait for /_localstack/health to report KMS")
	fl.StringVar(&f.endpoint, "endpoint", "", "KMS endpoint URL for --target endpoint (default $AWS_ENDPOINT_URL_KMS, then $AWS_ENDPOINT_URL)")
	fl.StringVar(&f.junit, "junit", "", "write the scenario's thresholds as JUnit XML test cases to this file")
	fl.StringVar(&f.summaryMD, "summary-md", "", "append a Markdown summary to this file (e.g. \"$GITHUB_STEP_SUMMARY\")")
	addGuardFlags(fl, &f.guard)
	fl.IntVar(&f.agents, "agents", 0, "run on `N` kmsload agents through nsqd (--nsqd) and merge their results (see docs/distributed.md)")
	fl.StringVar(&f.cluster.nsqd, "nsqd", "", "nsqd TCP address HOST:PORT of a distributed run (--agents)")
	fl.StringSliceVar(&f.cluster.lookupd, "nsqlookupd", nil, "nsqlookupd HTTP address of a distributed run (repeatable)")
	fl.StringVar(&f.cluster.topic, "topic", "kmsload", "NSQ topic prefix of a distributed run, shared with the agents")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics on this address during the run, e.g. 127.0.0.1:9464 (bound exactly as given; default off)")
	fl.DurationVar(&f.metricsLinger, "metrics-linger", 0, "after the results are written, keep serving the final metrics this long (Ctrl-C ends it)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	fl.IntVar(&f.maxConns, "max-conns", driver.DefaultMaxConns, "connections per KMS endpoint host; a request finding all busy waits for one (in its service time); 0 = no cap")
	fl.StringVar(&f.httpClient, "http-client", "", httpClientHelp+" (with --agents, give it to each kmsload agent instead)")
	return cmd
}

func runScenario(cmd *cobra.Command, path string, f runFlags) error {
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	s, err := loadScenario(path)
	if err != nil {
		return err
	}
	if f.retry != "" {
		m, ok := scenario.ParseRetryMode(f.retry)
		if !ok {
			return usageErr(fmt.Errorf("--retry %q: want standard, none or adaptive", f.retry))
		}
		f.retry = m
	}
	if f.scale < 0 {
		return usageErr(fmt.Errorf("--scale %g: must be positive", f.scale))
	}
	if err := checkHTTPClient(f.httpClient); err != nil {
		return err
	}
	if f.httpClient != "" && f.agents > 0 {
		return usageErr(fmt.Errorf("--http-client: with --agents the agents send the requests; give it to each kmsload agent"))
	}
	scale := s.RunScale(f.scale)
	qcfg, quotasOn, err := quotaConfig(s, f.windowFlags, scale)
	if err != nil {
		return usageErr(err)
	}
	warnFindings(os.Stderr, s, qcfg, quotasOn)
	if err := checkOutDir(f.out, false, f.force); err != nil {
		return err
	}
	if f.agents > 0 {
		return runCluster(cmd, path, s, f, scale, qcfg)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := driver.Options{
		Scenario:     s,
		Duration:     f.duration,
		Scale:        scale,
		Retry:        f.retry,
		Seed:         f.seed,
		JitterSeed:   f.jitterSeed,
		Isolate:      f.isolate,
		Quota:        qcfg,
		DrainTimeout: f.drainTimeout,
		MaxConns:     maxConnsOption(f.maxConns),
		HTTPClient:   f.httpClient,
		Logf:         stderrLogf,
	}
	if opts.WindowPhase, err = quota.ParseWindowPhase(f.windowPhase); err != nil {
		return usageErr(fmt.Errorf("--window-phase: %w", err))
	}
	if f.throttle && f.target != "endpoint" && f.target != "localstack" {
		return usageErr(fmt.Errorf("--throttle applies to --target endpoint and localstack (the embedded target always applies the quota model), not %q", f.target))
	}
	var ept *endpointTarget
	switch f.target {
	case "embedded":
		srv, url, shutdown, err := startEmbedded(f.windowFlags, "")
		if err != nil {
			return err
		}
		defer shutdown()
		opts.Target = driver.Target{Kind: "embedded", Endpoint: url}
		opts.BeforeMeasure = armQuotas(srv, qcfg, quotasOn)
	case "endpoint", "localstack":
		t, shutdown, err := setupEndpoint(ctx, f, &opts, qcfg, quotasOn)
		if err != nil {
			return err
		}
		defer shutdown()
		ept = t
	case "aws":
		opts.Target = driver.Target{Kind: driver.TargetAWS}
		opts.Quota.Scale = 1 // real quotas: scale shrinks only the rates
	default:
		return usageErr(fmt.Errorf("--target %q: want embedded, endpoint, localstack or aws", f.target))
	}

	stdout := cmd.OutOrStdout()
	if !f.quiet {
		opts.Progress = progressPrinter(os.Stderr)
	}
	if err := applyGuardFlags(&opts, f.target, f.guard); err != nil {
		return err
	}
	ms, err := startMetrics(f.metricsAddr, f.metricsLinger, s.Name, f.target, os.Stderr)
	if err != nil {
		return err
	}
	defer ms.close()
	if ms != nil {
		opts.Observer = ms.m.Window
	}
	d, err := driver.New(opts)
	if err != nil {
		return usageErr(err)
	}
	if f.target == driver.TargetAWS {
		if err := confirmAWS(ctx, d, opts, f.guard, os.Stdin, os.Stderr); err != nil {
			return err
		}
	}
	out, err := d.Run(ctx)
	ms.runDone()
	if err != nil {
		return err
	}
	res := out.Results
	var byTarget func(*report.Results)
	if ept != nil {
		byTarget = func(res *report.Results) { ept.annotate(res, qcfg, quotasOn) }
	}
	if err := f.complete(s, res, scale, quotasOn, byTarget); err != nil {
		return err
	}
	if err := writeOutputs(f.out, out); err != nil {
		return err
	}
	defer ms.wait(ctx) // --metrics-linger: before the server closes, after the summary
	if err := writeCIOutputs(f.junit, f.summaryMD, res); err != nil {
		return err
	}
	if err := render.WriteText(stdout, res); err != nil {
		return err
	}
	return runOutcome(stdout, filepath.Join(f.out, "results.json"), "", res)
}

// complete fills in what the results of a run or a simulation carry
// besides the measurement: the scenario's hash, the versions, what the
// target adds (byTarget, nil for none), and, when quotas are on, the
// prediction `kmsload plan` makes beside the measurement. Then it judges
// them (conclude). It ends the progress line first.
func (f windowFlags) complete(s *scenario.Scenario, res *report.Results, scale float64, quotasOn bool, byTarget func(*report.Results)) error {
	if !f.quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		fmt.Fprintln(os.Stderr)
	}
	res.Scenario.SHA256 = s.SHA256()
	res.Target.Versions = versions()
	if byTarget != nil {
		byTarget(res)
	}
	if quotasOn {
		if p, err := predict(s, f, scale); err == nil {
			p.Annotate(res)
		} else {
			fmt.Fprintln(os.Stderr, "kmsload: plan:", err)
		}
	}
	return conclude(s, res, f.errorBudget)
}

// quotaConfig builds the embedded emulator's quota configuration from the
// scenario and the flags. It reports whether quotas are on.
func quotaConfig(s *scenario.Scenario, f windowFlags, scale float64) (quota.Config, bool, error) {
	mode := cmp.Or(f.quotas, s.Quotas.Mode, "aws")
	cfg := quota.DefaultConfig()
	switch mode {
	case "aws", "off":
	default:
		var err error
		if cfg, err = quota.LoadFile(mode); err != nil {
			return cfg, false, err
		}
	}
	if alg := cmp.Or(f.algorithm, s.Quotas.Algorithm); alg != "" {
		cfg.Algorithm = quota.Algorithm(alg)
	}
	cfg.Scale = scale
	if err := cfg.Validate(); err != nil {
		return cfg, false, err
	}
	return cfg, mode != "off", nil
}

// startEmbedded starts the emulator on a loopback port; with upstream set
// it is the throttling proxy in front of that KMS endpoint. Quotas are
// armed by the driver's BeforeMeasure hook, after provisioning.
func startEmbedded(f windowFlags, upstream string) (*emulator.Server, string, func(), error) {
	delay, err := emulator.ParseLatency(f.latency)
	if err != nil {
		return nil, "", nil, usageErr(fmt.Errorf("--latency: %w", err))
	}
	srv, err := emulator.New(emulator.Options{Delay: delay, Upstream: upstream})
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

// checkOutDir refuses, before anything runs, to let a simulation
// overwrite a measured run's results in dir or a run overwrite a
// simulation's, unless force: a measured run cannot be repeated exactly.
// A directory without results.json, or with one of the same kind, is fine.
func checkOutDir(dir string, simulated, force bool) error {
	f, err := os.Open(filepath.Join(dir, "results.json"))
	if err != nil || force {
		return nil // nothing there yet (or unreadable: writing will say)
	}
	defer f.Close()
	old, err := report.ReadJSON(f)
	if err != nil || old.Simulated == simulated {
		return nil
	}
	kind, other := "a measured run", "simulation"
	if old.Simulated {
		kind, other = "a simulation", "run"
	}
	return usageErr(fmt.Errorf("--out %s holds the results of %s (%s, %s); this %s would overwrite them: choose another --out, or pass --force",
		dir, kind, old.Scenario.Name, old.StartedAt.Format(time.RFC3339), other))
}

// writeOutputs writes results.json, summary.txt, report.html and the .hlog
// files.
func writeOutputs(dir string, out *report.Output) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "results.json"), func(w io.Writer) error {
		return report.WriteJSON(w, out.Results)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "summary.txt"), func(w io.Writer) error {
		return render.WriteText(w, out.Results)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "report.html"), func(w io.Writer) error {
		return render.WriteHTML(w, out.Results)
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
	// CreateTemp makes the file private; results are meant to be shared.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
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

// progressPrinter prints a live one-line status each second on a terminal,
// and a plain line every 5 seconds otherwise.
func progressPrinter(w *os.File) func(string, record.Progress) {
	tty := term.IsTerminal(int(w.Fd()))
	last := ""
	return func(phase string, p record.Progress) {
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

// startCPUProfile starts a pprof CPU profile written to path; the returned
// function stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(fh); err != nil {
		fh.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		fh.Close()
	}, nil
}

// httpClientHelp is the help of --http-client, one text for every command
// that builds a driver.
const httpClientHelp = "HTTP client of the requests: fast (kmsload's own HTTP/1.1 client: each request written and read on its worker's goroutine, not copied) " +
	"or std (net/http's Transport); fast carries plain http:// endpoints that no proxy applies to, anything else goes through std; " +
	"results record which (target.http_client). Default fast: on make bench's null handler it took 0.81-0.94x std's CPU per request " +
	"and sustained 1.5-2.1x its highest rate"

// checkHTTPClient checks --http-client: "" (the default), std or fast.
func checkHTTPClient(s string) error {
	switch s {
	case "", driver.HTTPClientStd, driver.HTTPClientFast:
		return nil
	}
	return usageErr(fmt.Errorf("--http-client %q: want %s or %s", s, driver.HTTPClientStd, driver.HTTPClientFast))
}

// maxConnsOption turns --max-conns (0 = no cap) into driver.Options.MaxConns
// (0 = the default, negative = no cap).
func maxConnsOption(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
