package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/cluster"
	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// clusterFlags are the flags of `kmsload agent` and of a distributed
// `kmsload run`.
type clusterFlags struct {
	nsqd    string
	lookupd []string
	topic   string
}

func (c clusterFlags) conn() cluster.Conn {
	return cluster.Conn{NSQD: c.nsqd, Lookupd: c.lookupd, Topic: c.topic}
}

func newAgentCmd() *cobra.Command {
	var f clusterFlags
	var name, cpuProfile, httpClient string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "agent --nsqd HOST:PORT",
		Short: "Serve as a driver of distributed runs (kmsload run --agents N)",
		Long: `Agent connects to nsqd and waits for plans from a coordinator
(kmsload run SCENARIO --agents N --nsqd HOST:PORT). For each plan it runs its
share of every workload's rate (1/N) through the same driver as kmsload run,
against the plan's target: embedded (its own in-process emulator, with each
quota divided by N) or endpoint (one KMS endpoint all agents share). It
publishes 1-second snapshots of its observations for the coordinator to
merge, and keeps them until the run ends. It runs until SIGINT or SIGTERM.`,
		Example: `  kmsload agent --nsqd 127.0.0.1:4150
  kmsload agent --nsqd nsqd.internal:4150 --nsqlookupd nsqlookupd.internal:4161 --name $(hostname)`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.nsqd == "" {
				return usageErr(fmt.Errorf("--nsqd HOST:PORT is required"))
			}
			if err := checkHTTPClient(httpClient); err != nil {
				return err
			}
			if cpuProfile != "" {
				stopProfile, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
			if quiet {
				logf = func(string, ...any) {}
			}
			prepare := func(ctx context.Context, p *cluster.Plan, opts *driver.Options) (func(), error) {
				opts.HTTPClient = httpClient
				return prepareAgent(ctx, p, opts)
			}
			a, err := cluster.NewAgent(cluster.AgentOptions{Conn: f.conn(), Name: name, Prepare: prepare, Logf: logf})
			if err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(os.Stderr, "kmsload agent %s: waiting for plans on nsqd %s\n", a.Name(), f.nsqd)
			return a.Run(ctx)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.nsqd, "nsqd", "", "nsqd TCP address, HOST:PORT (required)")
	fl.StringSliceVar(&f.lookupd, "nsqlookupd", nil, "nsqlookupd HTTP address to discover nsqd through (repeatable)")
	fl.StringVar(&f.topic, "topic", cluster.DefaultTopic, "NSQ topic prefix shared with the coordinator")
	fl.StringVar(&name, "name", "", "agent name, unique per topic (default HOSTNAME-PID)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no log lines")
	fl.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the agent's whole life to this file, until it stops (go tool pprof)")
	fl.StringVar(&httpClient, "http-client", "", httpClientHelp)
	return cmd
}

// prepareAgent sets up an agent's target for plan p, as `kmsload run`
// does: embedded starts an emulator (quotas divided among the agents, so
// that together they meet the scenario's quota), endpoint uses the plan's
// URL.
func prepareAgent(ctx context.Context, p *cluster.Plan, opts *driver.Options) (func(), error) {
	f := windowFlags{quotas: p.Target.Quotas, algorithm: p.Target.QuotaAlgorithm, latency: p.Target.Latency}
	scale := opts.Scenario.RunScale(p.Scale)
	qcfg, quotasOn, err := quotaConfig(opts.Scenario, f, scale/float64(len(p.Agents)))
	if err != nil {
		return nil, err
	}
	opts.Quota = qcfg
	switch p.Target.Kind {
	case "embedded":
		srv, url, shutdown, err := startEmbedded(f, "")
		if err != nil {
			return nil, err
		}
		opts.Target = driver.Target{Kind: driver.TargetEmbedded, Endpoint: url}
		opts.BeforeMeasure = armQuotas(srv, qcfg, quotasOn)
		return shutdown, nil
	case "endpoint":
		opts.Target = driver.Target{Kind: driver.TargetEndpoint, Endpoint: p.Target.Endpoint}
		return nil, nil
	}
	return nil, fmt.Errorf("agent: target %q is not supported in distributed runs", p.Target.Kind)
}

// runCluster is `kmsload run --agents N`: it coordinates the agents and
// writes the merged results like a local run.
func runCluster(cmd *cobra.Command, path string, s *scenario.Scenario, f runFlags, scale float64, qcfg quota.Config) error {
	if f.cluster.nsqd == "" {
		return usageErr(fmt.Errorf("--agents needs --nsqd HOST:PORT"))
	}
	endpoint := f.endpoint
	switch f.target {
	case "embedded":
	case "endpoint":
		if endpoint == "" {
			endpoint = cmp.Or(os.Getenv("AWS_ENDPOINT_URL_KMS"), os.Getenv("AWS_ENDPOINT_URL"))
		}
		if endpoint == "" {
			return usageErr(fmt.Errorf("--target endpoint needs --endpoint URL"))
		}
	default:
		return usageErr(fmt.Errorf("--agents supports --target embedded or endpoint, not %q", f.target))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	rs, err := scenario.Resolve(s, scenario.Overrides{Duration: f.duration, Scale: scale, Seed: f.seed})
	if err != nil {
		return usageErr(err)
	}
	dur, seed := rs.Duration, rs.Seed
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	if f.quiet {
		logf = func(string, ...any) {}
	}
	files, err := scenarioFiles(path, s)
	if err != nil {
		return err
	}
	c, err := cluster.NewCoordinator(cluster.CoordinatorOptions{Conn: f.cluster.conn(), Agents: f.agents, Logf: logf})
	if err != nil {
		return usageErr(err)
	}
	res, err := c.Run(ctx, cluster.Spec{
		Plan: cluster.Plan{
			ScenarioFile: filepath.Base(path), Scenario: data, Files: files, Duration: dur, Scale: scale, Seed: seed, JitterSeed: f.jitterSeed,
			Retry: f.retry, DrainTimeout: f.drainTimeout, Isolate: f.isolate,
			Target: cluster.Target{Kind: f.target, Endpoint: endpoint, Quotas: f.quotas, QuotaAlgorithm: f.algorithm, Latency: f.latency},
		},
		ScenarioInfo: report.ScenarioInfo{Name: s.Name, File: s.File, SHA256: s.SHA256(), Description: s.Description, Scale: scale, Seed: seed, JitterSeed: f.jitterSeed},
		QuotaPerS:    qcfg.LimitOf,
	})
	if err != nil {
		return err
	}
	r := res.Results
	r.Target.Versions = versions()
	if err := conclude(s, r, f.errorBudget); err != nil {
		return err
	}
	if err := writeOutputs(f.out, &report.Output{Results: r, Hlog: res.Hlog}); err != nil {
		return err
	}
	if err := writeCIOutputs(f.junit, f.summaryMD, r); err != nil {
		return err
	}
	stdout := cmd.OutOrStdout()
	if err := render.WriteText(stdout, r); err != nil {
		return err
	}
	for _, a := range r.Cluster.Agents {
		fmt.Fprintf(stdout, "agent %-20s share %d/%d  clock offset %+.3f ms (rtt %.3f ms)  start lag %.1f ms  snapshots %d  duplicates %d  resent %d%s\n",
			a.Name, a.Index+1, len(r.Cluster.Agents), a.ClockOffsetMs, a.RTTMs, a.StartLagMs, a.Snapshots, a.Duplicates, a.Resent+a.Rerequested, lostNote(a))
	}
	return runOutcome(stdout, filepath.Join(f.out, "results.json"), "", r)
}

func lostNote(a report.ClusterAgent) string {
	if !a.Lost {
		return ""
	}
	return fmt.Sprintf("  LOST (seconds %d-%d missing)", a.MissingFromS, a.MissingToS)
}

// scenarioFiles reads the files scenario s (at path) names, for agents:
// its trace.
func scenarioFiles(path string, s *scenario.Scenario) (map[string][]byte, error) {
	if s.Trace == "" {
		return nil, nil
	}
	name := s.Trace
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(path), name)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: trace: %w", path, err)
	}
	return map[string][]byte{s.Trace: b}, nil
}
