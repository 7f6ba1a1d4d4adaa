package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// defaultSimOut is simulate's --out: its own directory, so that a
// simulation never overwrites a measured run's results by default.
const defaultSimOut = "kmsload-results/simulated"

type simFlags struct{ windowFlags }

func newSimulateCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "simulate SCENARIO.yaml",
		Short: "Replay a scenario in virtual time, at any scale up to real size, sending nothing",
		Long: `Simulate replays the scenario as a discrete-event simulation in virtual
time: the same arrival processes and seeds as run, every attempt decided by
the same quota model, the AWS SDK's retry behaviour reproduced (standard:
3 attempts, full-jitter backoff from 1 s after a throttle, the 500-token
retry quota; adaptive: its client-side rate limiter), data-key caches,
in-flight bounds, lifecycle events and traffic shifts, and the emulator's
service-time model (--latency; default none: every answer is immediate).

It runs at the scenario's scale, as run and plan do (--scale 1: real
size, whatever the scenario says); every result records the scale. It runs
far faster than real time (README.md gives a measured figure). It writes the same results.json
(marked "simulated": true), summary.txt, report.html and .hlog files as
run, and prints the summary.`,
		Example: `  kmsload simulate scenarios/quickstart.yaml --isolate
  kmsload simulate my.yaml --duration 1h --out results/my-sim`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return simulateScenario(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	f.windowFlags.addFlags(fl, windowHelp{
		outDefault:   defaultSimOut,
		out:          "directory for results.json, summary.txt, report.html and .hlog files (kept apart from run's kmsload-results)",
		duration:     "virtual length of each measured window (default: the scenario's duration)",
		scale:        "multiply quotas and rates by this; 1 = real size (default: the scenario's scale, as run and plan use it)",
		isolate:      "simulate each workload alone, then all together, and report coupling",
		seed:         "seed for Poisson arrivals and backoff jitter (default: the scenario's seed)",
		jitterSeed:   "seed for the backoff jitter alone (default: --seed); kmsload run --jitter-seed with the same seed backs off request for request alike",
		quotas:       "quota model: aws, off, or a quota override file (default: the scenario's, aws)",
		algorithm:    "quota window: fixed-window or token-bucket (default: the scenario's, fixed-window)",
		latency:      "service-time model, as the emulator's --latency (default none)",
		quiet:        "no progress; print only the summary",
		drainTimeout: "virtual wait for requests in flight after arrivals stop",
		force:        "write into --out even when it holds a measured run's results",
	})
	return cmd
}

// simOptions builds the simulation's options from the scenario and flags.
func simOptions(s *scenario.Scenario, f simFlags) (sim.Options, error) {
	if _, ok := scenario.ParseRetryMode(f.retry); f.retry != "" && !ok {
		return sim.Options{}, usageErr(fmt.Errorf("--retry %q: want sdk-standard (or standard), adaptive or none", f.retry))
	}
	if f.scale < 0 || math.IsNaN(f.scale) || math.IsInf(f.scale, 0) {
		return sim.Options{}, usageErr(fmt.Errorf("--scale %g: must be positive", f.scale))
	}
	f.scale = s.RunScale(f.scale)
	phase, err := quota.ParseWindowPhase(f.windowPhase)
	if err != nil {
		return sim.Options{}, usageErr(fmt.Errorf("--window-phase: %w", err))
	}
	qcfg, quotasOn, err := quotaConfig(s, f.windowFlags, f.scale)
	if err != nil {
		return sim.Options{}, usageErr(err)
	}
	delay, err := emulator.ParseLatency(f.latency)
	if err != nil {
		return sim.Options{}, usageErr(fmt.Errorf("--latency: %w", err))
	}
	// What the scenario leaves unset comes from the SDK's environment, as
	// in kmsload run.
	env, err := driver.LoadSDKEnv(context.Background())
	if err != nil {
		return sim.Options{}, usageErr(err)
	}
	return sim.Options{
		Scenario:     s,
		Duration:     f.duration,
		Scale:        f.scale,
		WindowPhase:  phase,
		Quota:        qcfg,
		QuotasOff:    !quotasOn,
		Retry:        f.retry,
		SDKEnv:       scenario.ClientEnv(env),
		Seed:         f.seed,
		JitterSeed:   f.jitterSeed,
		Isolate:      f.isolate,
		Latency:      delay,
		DrainTimeout: f.drainTimeout,
	}, nil
}

// simGCPercent is the garbage collector's target for simulate when GOGC
// is not set. A simulation allocates little per request (unlike run's SDK
// calls, for which main sets a higher target), so collecting at twice the
// live heap costs little CPU and keeps the peak heap smaller.
const simGCPercent = 100

func simulateScenario(cmd *cobra.Command, path string, f simFlags) error {
	defaultGCPercent(simGCPercent)
	s, err := loadScenario(path)
	if err != nil {
		return err
	}
	opts, err := simOptions(s, f)
	if err != nil {
		return err
	}
	warnFindings(os.Stderr, s, opts.Quota, !opts.QuotasOff)
	if err := checkOutDir(f.out, true, f.force); err != nil {
		return err
	}
	if !f.quiet {
		opts.Progress = simProgress(os.Stderr)
	}
	sm, err := sim.New(opts)
	if err != nil {
		return usageErr(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	out, err := sm.Run(ctx)
	if err != nil {
		return err
	}
	wall := time.Since(began)
	res := out.Results
	if err := f.complete(s, res, opts.Scale, !opts.QuotasOff, nil); err != nil {
		return err
	}
	if err := writeOutputs(f.out, out); err != nil {
		return err
	}
	stdout := cmd.OutOrStdout()
	if err := render.WriteText(stdout, res); err != nil {
		return err
	}
	return runOutcome(stdout, filepath.Join(f.out, "results.json"),
		fmt.Sprintf(" (simulated %.0f s in %.1f s of wall time)", simulatedSeconds(res), wall.Seconds()), res)
}

// simulatedSeconds is the virtual time of all the run's windows.
func simulatedSeconds(res *report.Results) float64 {
	n := 1 + len(res.Isolated)
	return float64(n) * res.DurationS
}

// simProgress prints a line every 60 virtual seconds (every 5 when the
// window is short), with the wall time so far.
func simProgress(w *os.File) func(string, record.Progress) {
	began := time.Now()
	return func(phase string, p record.Progress) {
		sec := int(p.Elapsed.Seconds())
		if sec%60 != 0 && !(sec < 60 && sec%5 == 0) {
			return
		}
		fmt.Fprintf(w, "[%s] virtual %5ds  sent %9.1f/s  ok %9.1f/s  throttled %5.1f%%  p99 %8.1fms  dropped %d  (wall %.1fs)\n",
			phase, sec, p.SentPerS, p.OKPerS, 100*p.ThrottledShare, p.P99Ms, p.Dropped, time.Since(began).Seconds())
	}
}
