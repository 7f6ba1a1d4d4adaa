package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
	"github.com/kmsload/kmsload/study"
	"github.com/kmsload/kmsload/whatif"
)

type studyFlags struct {
	duration time.Duration
	scale    float64
	markdown bool
	title    string
	intro    string
	quiet    bool
	vary     []string
	slo      string
	http     string // --http-client
	whatIf   []string
	simulate bool
}

func newStudyCmd() *cobra.Command {
	var f studyFlags
	cmd := &cobra.Command{
		Use:   "study SCENARIO.yaml...",
		Short: "Run several key layouts and compare coupling, throttling, p99, blast radius and cost",
		Long: `Study runs each scenario on its own embedded emulator (AWS quotas, scaled),
each workload alone and then all together, and prints one comparison:
per layout the coupling of each workload (1 - goodput together / goodput
alone), the worst throttled share, the worst p99, the blast radius of
losing one key (the workloads on the most used key), and the monthly cost
at real size (as 'kmsload plan' predicts it); then, per scenario, its
claim (the description) and a verdict drawn from the numbers.

--duration shortens every run to the same window and moves each event to
the same fraction of it (a failover halfway through stays halfway through).

With --markdown it writes the same as a Markdown document, with the
capacity-planning reading of each layout (make layouts writes
docs/layouts.md so).

With --vary (or a variants: block in the scenario file) study runs one
scenario once per combination of client settings, on the same layout and
load (no isolated runs), and prints one table: goodput, throttled
attempts, failed requests, retry-quota exhaustions (QuotaExceededError),
p99/p999, and the extra load retries put on the quota bucket (attempts /
requests - 1); with --slo, the best variant that meets it. A variant's
settings apply to every workload; --vary flags replace the file's
variants.

With --what-if FILE (repeatable) study compares one scenario with its
re-layouts by each transform file - keys moved to another account, a key
split per workload, team or caller, workloads moved to another account or
Region, data-key caching added - on the same traffic: rates, or the
recorded traffic of a scenario kmsload import wrote. For windows of two
minutes or more the verdict also looks at each workload's worst minute,
where a burst's coupling shows that the whole window's average hides.
--simulate studies every layout in virtual time (kmsload simulate's
model) instead of on the embedded emulator: minutes of recorded traffic
in seconds.`,
		Example: `  kmsload study scenarios/single-env-key.yaml scenarios/per-service-keys.yaml scenarios/per-account-keys.yaml
  kmsload study scenarios/*.yaml --duration 4s --markdown > layouts.md
  kmsload study --vary client.retry=standard,adaptive,none --vary client.max_attempts=3,10 --slo "p99<50ms,throttled_requests<0.1%" app.yaml
  kmsload study prod.yaml --what-if central-keys.yaml --what-if split-per-team.yaml --simulate`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("study needs at least one scenario file\nusage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStudy(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.duration, "duration", 0, "measured window of each run, events moved to the same fraction of it (default: each scenario's duration)")
	fl.Float64Var(&f.scale, "scale", 0, "multiply quotas and rates by this (default: each scenario's scale)")
	fl.BoolVar(&f.markdown, "markdown", false, "write a Markdown document instead of the text tables")
	fl.StringVar(&f.title, "title", "Key layouts, measured", "title of the Markdown document")
	fl.StringVar(&f.intro, "intro", "", "paragraph after the Markdown title")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines on stderr")
	fl.StringArrayVar(&f.vary, "vary", nil, "client setting and values to try, one run per combination, e.g. client.retry=standard,adaptive,none (repeatable)")
	fl.StringVar(&f.slo, "slo", "", `with --vary: objective for the best variant, e.g. "p99<50ms,throttled_requests<0.1%"`)
	fl.StringVar(&f.http, "http-client", "", httpClientHelp)
	fl.StringArrayVar(&f.whatIf, "what-if", nil, "transform file that re-lays out the one scenario (move keys, split a key, move workloads, add data-key caching); the study compares the scenario with each (repeatable)")
	fl.BoolVar(&f.simulate, "simulate", false, "simulate each layout in virtual time (kmsload simulate's model) instead of running it on the embedded emulator: minutes of recorded traffic in seconds")
	return cmd
}

func runStudy(cmd *cobra.Command, paths []string, f studyFlags) error {
	if f.scale < 0 {
		return usageErr(fmt.Errorf("--scale %g: must be positive", f.scale))
	}
	if f.duration < 0 {
		return usageErr(fmt.Errorf("--duration %v: must be positive", f.duration))
	}
	if err := checkHTTPClient(f.http); err != nil {
		return err
	}
	scs := make([]*scenario.Scenario, 0, len(paths))
	for _, p := range paths {
		s, err := loadScenario(p)
		if err != nil {
			return err
		}
		scs = append(scs, s)
	}
	scs, err := withWhatIfs(scs, f.whatIf)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(f.vary) > 0 || f.slo != "" || (len(scs) == 1 && len(scs[0].Variants) > 0) {
		return runVariants(ctx, cmd, scs, f)
	}
	if d := f.duration; d > 0 && d < report.CouplingMinSeconds*time.Second {
		fmt.Fprintf(os.Stderr, "kmsload study: windows of %s are too short for coupling to be told from noise (at least %d s); every coupling is marked INCONCLUSIVE\n", d, report.CouplingMinSeconds)
	}
	var layouts []study.Layout
	for _, s := range scs {
		if !f.quiet {
			fmt.Fprintf(os.Stderr, "kmsload study: %s (%d workloads, each alone, then together)\n", s.File, len(s.Workloads))
		}
		if !f.quiet && !f.simulate && s.Recording != nil && s.Duration > 2*time.Minute {
			fmt.Fprintf(os.Stderr, "kmsload study: %s replays %s of recorded traffic per run; --simulate studies it in virtual time\n", s.File, s.Duration)
		}
		run, err := studyRun(ctx, s, f, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", s.File, err)
		}
		if run.Results.Partial {
			return &exitError{code: exitRuntime, err: errors.New("study interrupted")}
		}
		layouts = append(layouts, study.Summarize(run))
	}
	study.Disambiguate(layouts)
	out := cmd.OutOrStdout()
	if f.markdown {
		return study.WriteMarkdown(out, f.title, f.intro, layouts)
	}
	return study.WriteText(out, layouts)
}

// studyRun runs scenario s with --isolate on a fresh embedded emulator and
// predicts its monthly cost.
func studyRun(ctx context.Context, s *scenario.Scenario, f studyFlags, v *study.Variant) (study.Run, error) {
	s = withDuration(s, f.duration)
	f.duration = 0
	scale := s.RunScale(f.scale)
	rf := windowFlags{duration: f.duration}
	qcfg, quotasOn, err := quotaConfig(s, rf, scale)
	if err != nil {
		return study.Run{}, usageErr(err)
	}
	if f.simulate {
		return studySim(ctx, s, f, v, scale, qcfg, quotasOn)
	}
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		return study.Run{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return study.Run{}, fmt.Errorf("embedded emulator: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx) //nolint:errcheck
	}()
	url := "http://" + ln.Addr().String()
	d, err := driver.New(driver.Options{
		Scenario:      s,
		Target:        driver.Target{Kind: driver.TargetEmbedded, Endpoint: url},
		Duration:      f.duration,
		Scale:         scale,
		Isolate:       v == nil,
		Quota:         qcfg,
		Client:        variantClient(v),
		BeforeMeasure: armQuotas(srv, qcfg, quotasOn),
		HTTPClient:    f.http,
	})
	return runStudied(ctx, d, err, s, f, v, scale)
}

// runStudied runs r, built with error err, and adds the layout's cost.
func runStudied(ctx context.Context, r interface {
	Run(context.Context) (*report.Output, error)
}, err error, s *scenario.Scenario, f studyFlags, v *study.Variant, scale float64) (study.Run, error) {
	if err != nil {
		return study.Run{}, usageErr(err)
	}
	out, err := r.Run(ctx)
	if err != nil {
		return study.Run{}, err
	}
	return studyCost(study.Run{Scenario: s, Results: out.Results, MonthlyCostUSD: -1}, f, v, scale), nil
}

// studyCost adds the layout's predicted monthly cost to run (not for a
// variant: the combined run only, no cost).
func studyCost(run study.Run, f studyFlags, v *study.Variant, scale float64) study.Run {
	if v != nil {
		return run
	}
	if p, err := predict(run.Scenario, windowFlags{}, scale); err == nil {
		run.MonthlyCostUSD = p.Cost.TotalUSD
	} else if !f.quiet {
		fmt.Fprintln(os.Stderr, "kmsload study: plan:", err)
	}
	return run
}

// studySim is studyRun in virtual time: the simulator, isolated runs
// included.
func studySim(ctx context.Context, s *scenario.Scenario, f studyFlags, v *study.Variant, scale float64, qcfg quota.Config, quotasOn bool) (study.Run, error) {
	sm, err := sim.New(sim.Options{Scenario: s, Scale: scale, Quota: qcfg, QuotasOff: !quotasOn,
		Isolate: v == nil, Client: variantClient(v)})
	return runStudied(ctx, sm, err, s, f, v, scale)
}

// withWhatIfs adds to the one scenario of scs its re-layouts by each
// transform file.
func withWhatIfs(scs []*scenario.Scenario, files []string) ([]*scenario.Scenario, error) {
	if len(files) == 0 {
		return scs, nil
	}
	if len(scs) != 1 {
		return nil, usageErr(fmt.Errorf("--what-if re-lays out one scenario; got %d scenario files", len(scs)))
	}
	for _, file := range files {
		t, err := whatif.LoadFile(file)
		if err != nil {
			return nil, usageErr(err)
		}
		s, err := whatif.Apply(scs[0], t)
		if err != nil {
			return nil, usageErr(fmt.Errorf("%s: %w", file, err))
		}
		s.File = file
		scs = append(scs, s)
	}
	return scs, nil
}

// withDuration returns s shortened (or lengthened) to d, with every event
// moved to the same fraction of the run, so that a failover halfway
// through stays halfway through. d <= 0 keeps s.
func withDuration(s *scenario.Scenario, d time.Duration) *scenario.Scenario {
	if d <= 0 || d == s.Duration || s.Duration <= 0 {
		return s
	}
	c := *s
	c.Events = slices.Clone(s.Events)
	for i := range c.Events {
		c.Events[i].At = time.Duration(float64(c.Events[i].At) * float64(d) / float64(s.Duration))
	}
	c.Duration = d
	return &c
}

// variantClient is the client override of variant v (none for nil).
func variantClient(v *study.Variant) scenario.Client {
	if v == nil {
		return scenario.Client{}
	}
	return v.Client
}

// runVariants runs the one scenario of scs once per combination of the
// --vary flags (or its variants: block) and prints the variants table.
func runVariants(ctx context.Context, cmd *cobra.Command, scs []*scenario.Scenario, f studyFlags) error {
	if len(scs) != 1 {
		return usageErr(fmt.Errorf("--vary, --slo and variants: compare client settings on one scenario; got %d scenario files", len(scs)))
	}
	s := scs[0]
	dims := s.Variants
	if len(f.vary) > 0 {
		var err error
		if dims, err = study.ParseVary(f.vary); err != nil {
			return usageErr(err)
		}
	}
	if len(dims) == 0 {
		return usageErr(fmt.Errorf("--slo needs --vary or a variants: block in %s", s.File))
	}
	vs, err := study.Combinations(dims)
	if err != nil {
		return usageErr(err)
	}
	slo, err := study.ParseSLO(f.slo)
	if err != nil {
		return usageErr(err)
	}
	rows := make([]study.VariantRow, 0, len(vs))
	var durationS float64
	for i := range vs {
		if !f.quiet {
			fmt.Fprintf(os.Stderr, "kmsload study: %s: variant %d/%d: %s\n", s.File, i+1, len(vs), vs[i].Name)
		}
		run, err := studyRun(ctx, s, f, &vs[i])
		if err != nil {
			return fmt.Errorf("%s: %s: %w", s.File, vs[i].Name, err)
		}
		if run.Results.Partial {
			return &exitError{code: exitRuntime, err: errors.New("study interrupted")}
		}
		row, err := study.SummarizeVariant(vs[i], run.Results, slo)
		if err != nil {
			return usageErr(err)
		}
		rows = append(rows, row)
		durationS = run.Results.DurationS
	}
	return study.WriteVariantsText(cmd.OutOrStdout(), s.Name, durationS, rows, slo)
}
