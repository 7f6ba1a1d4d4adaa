package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/capacity"
	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

type capacityFlags struct {
	run       runFlags
	workload  string
	slo       string
	simulate  bool
	precision float64
	maxRuns   int
	json      bool
}

func newCapacityCmd() *cobra.Command {
	var f capacityFlags
	cmd := &cobra.Command{
		Use:   "capacity SCENARIO.yaml --workload W --slo EXPRS",
		Short: "Find the highest rate of one workload that keeps its SLO",
		Long: `Capacity finds the highest rate of workload W that keeps the SLO, with every
other workload at its scenario rate. It starts from kmsload plan's
prediction (W's rate plus the headroom of its tightest quota bucket), grows
or shrinks the rate by 1.25x until one rate keeps the SLO and another
breaks it, then bisects to --precision.

Each probe is a measured run of the scenario (as kmsload run, against
--target embedded, endpoint or localstack), or, with --simulate, a
simulation in virtual time (as kmsload simulate: seconds per probe, at
real size). Rates are at real size: --scale shrinks rates and quotas of
measured runs together, as in run.

The SLO takes threshold expressions separated by commas:
p50 p90 p99 p999 max, throttled_attempts, throttled_requests, errors,
goodput, sent, dropped (see the README's thresholds).`,
		Example: `  kmsload capacity scenarios/quickstart.yaml --workload orders-api --slo "p99<50ms,throttled_requests<0.1%" --simulate
  kmsload capacity my.yaml --workload api --slo "throttled_requests<0.1%" --duration 20s`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return capacityScenario(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.workload, "workload", "", "the workload whose rate is searched (required)")
	fl.StringVar(&f.slo, "slo", "", `what the workload must keep, e.g. "p99<50ms,throttled_requests<0.1%" (required)`)
	fl.BoolVar(&f.simulate, "simulate", false, "probe by simulation in virtual time (fast mode) instead of measured runs")
	fl.Float64Var(&f.precision, "precision", capacity.DefaultPrecision, "stop when the bracket is narrower than this share of the rate")
	fl.IntVar(&f.maxRuns, "max-runs", capacity.DefaultMaxRuns, "at most this many probes")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON")
	fl.StringVar(&f.run.target, "target", "embedded", "measured runs: embedded, endpoint or localstack")
	fl.StringVar(&f.run.endpoint, "endpoint", "", "KMS endpoint URL for --target endpoint")
	fl.BoolVar(&f.run.throttle, "throttle", false, "endpoint and localstack targets: put kmsload's quota model in front")
	fl.DurationVar(&f.run.healthTimeout, "health-timeout", 30*time.Second, "--target localstack: how long to wait for its health")
	fl.DurationVar(&f.run.duration, "duration", 0, "length of each probe (default: the scenario's duration)")
	fl.Float64Var(&f.run.scale, "scale", 0, "measured runs: multiply quotas and rates by this (default: the scenario's; --simulate: 1)")
	fl.StringVar(&f.run.retry, "retry", "", retryFlagHelp)
	fl.Int64Var(&f.run.seed, "seed", 0, "seed for Poisson arrivals (default: the scenario's)")
	fl.StringVar(&f.run.quotas, "quotas", "", "quota model: aws, off, or a quota override file")
	fl.StringVar(&f.run.algorithm, "quota-algorithm", "", "quota window: fixed-window or token-bucket")
	fl.StringVar(&f.run.latency, "latency", "", "embedded (and simulated) service-time model")
	fl.DurationVar(&f.run.drainTimeout, "drain-timeout", 5*time.Second, "wait for requests in flight after arrivals stop")
	fl.StringVar(&f.run.httpClient, "http-client", "", "measured runs: "+httpClientHelp)
	return cmd
}

func capacityScenario(cmd *cobra.Command, path string, f capacityFlags) error {
	s, err := loadScenario(path)
	if err != nil {
		return err
	}
	if f.workload == "" || f.slo == "" {
		return usageErr(fmt.Errorf("--workload and --slo are required"))
	}
	if _, err := capacity.WithRate(s, f.workload, 1); err != nil {
		return usageErr(fmt.Errorf("--workload %q: not a workload of %s", f.workload, s.Name))
	}
	slo, err := capacity.ParseSLO(f.slo)
	if err != nil {
		return usageErr(err)
	}
	scale := s.RunScale(f.run.scale)
	if f.simulate && f.run.scale == 0 {
		scale = 1 // a simulated search runs at real size unless --scale says otherwise
	}
	p, err := predict(s, f.run.windowFlags, scale)
	if err != nil {
		return usageErr(err)
	}
	seed := capacity.Seed(p, f.workload)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var run capacity.Runner
	if f.simulate {
		run = simulateRunner(s, f, scale)
	} else {
		run, err = measuredRunner(s, f.workload, f.run, scale)
		if err != nil {
			return err
		}
	}
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	mode := "measured runs on " + f.run.target
	if f.simulate {
		mode = "simulation"
	}
	logf("capacity of %s under %s, by %s, seeded by the plan at %.6g/s", f.workload, slo, mode, seed)
	res, err := capacity.Search(ctx, capacity.Options{
		Workload: f.workload, SLO: slo, Run: run, Seed: seed,
		Precision: f.precision, MaxRuns: f.maxRuns, Logf: logf,
	})
	if res != nil {
		if werr := writeCapacity(cmd.OutOrStdout(), res, f.json, mode); werr != nil {
			return werr
		}
	}
	return err
}

func writeCapacity(w io.Writer, res *capacity.Result, asJSON bool, mode string) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	bound := "no probed rate broke it"
	if res.Bound > 0 {
		bound = fmt.Sprintf("breaks it at %.6g/s", res.Bound)
	}
	_, err := fmt.Fprintf(w, "%s keeps %s up to %.6g/s (real size; %s; %d probes by %s; plan seed %.6g/s)\n",
		res.Workload, res.SLO, res.Rate, bound, len(res.Probes), mode, res.Seed)
	return err
}

// simulateRunner probes by simulation, as kmsload simulate runs.
func simulateRunner(s *scenario.Scenario, f capacityFlags, scale float64) capacity.Runner {
	return func(ctx context.Context, rate float64) (*report.Results, error) {
		sc, err := capacity.WithRate(s, f.workload, rate)
		if err != nil {
			return nil, err
		}
		opts, err := simOptions(sc, simFlags{windowFlags{
			duration: f.run.duration, scale: scale, retry: f.run.retry, seed: f.run.seed,
			quotas: f.run.quotas, algorithm: f.run.algorithm, latency: f.run.latency, drainTimeout: f.run.drainTimeout,
		}})
		if err != nil {
			return nil, err
		}
		sm, err := sim.New(opts)
		if err != nil {
			return nil, err
		}
		out, err := sm.Run(ctx)
		if err != nil {
			return nil, err
		}
		return out.Results, nil
	}
}

// measuredRunner probes by running the driver against the target, wired
// as kmsload run wires it: a fresh embedded emulator (or the endpoint,
// behind the throttling proxy with --throttle) per probe, quotas armed
// after provisioning.
func measuredRunner(s *scenario.Scenario, workload string, f runFlags, scale float64) (capacity.Runner, error) {
	switch f.target {
	case "embedded", "endpoint", "localstack":
	case driver.TargetAWS:
		return nil, usageErr(fmt.Errorf("--target aws: capacity makes many runs; use --simulate, or kmsload run at chosen rates"))
	default:
		return nil, usageErr(fmt.Errorf("--target %q: want embedded, endpoint or localstack", f.target))
	}
	qcfg, quotasOn, err := quotaConfig(s, f.windowFlags, scale)
	if err != nil {
		return nil, usageErr(err)
	}
	if err := checkHTTPClient(f.httpClient); err != nil {
		return nil, err
	}
	return func(ctx context.Context, rate float64) (*report.Results, error) {
		sc, err := capacity.WithRate(s, workload, rate)
		if err != nil {
			return nil, err
		}
		opts := driver.Options{
			Scenario: sc, Duration: f.duration, Scale: scale, Retry: f.retry, Seed: f.seed,
			Quota: qcfg, DrainTimeout: f.drainTimeout, HTTPClient: f.httpClient,
		}
		if f.target == "embedded" {
			srv, url, shutdown, err := startEmbedded(f.windowFlags, "")
			if err != nil {
				return nil, err
			}
			defer shutdown()
			opts.Target = driver.Target{Kind: driver.TargetEmbedded, Endpoint: url}
			opts.BeforeMeasure = armQuotas(srv, qcfg, quotasOn)
		} else {
			_, shutdown, err := setupEndpoint(ctx, f, &opts, qcfg, quotasOn)
			if err != nil {
				return nil, err
			}
			defer shutdown()
		}
		d, err := driver.New(opts)
		if err != nil {
			return nil, usageErr(err)
		}
		out, err := d.Run(ctx)
		if err != nil {
			return nil, err
		}
		if out.Results.Partial {
			return nil, partialError(out.Results)
		}
		return out.Results, nil
	}, nil
}
