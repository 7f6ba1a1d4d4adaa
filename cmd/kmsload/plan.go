package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

type planFlags struct {
	scale       float64
	quotas      string
	algorithm   string
	retry       string
	windowPhase string
	json        bool
}

func newPlanCmd() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan SCENARIO.yaml",
		Short: "Predict load, headroom, throttling and monthly cost per quota bucket, sending nothing",
		Long: `Plan predicts, without sending a request, what the scenario does to each
AWS KMS quota bucket (caller account x Region x class): demand, quota,
headroom, utilisation, the throttled share of attempts with retries off and
with the workloads' retries, the bucket that saturates first and the growth
factor at which it does, and the monthly cost of the layout at real size
(keys, replicas, rotated material, requests by class, free tier).

The numbers are at the scenario's scale (as 'kmsload run' uses it) unless
--scale is given; --scale 1 plans at real size. The cost is always at real
size. 'kmsload run' writes the same prediction next to its measurement.

Each workload's SDK client is resolved as 'kmsload run' resolves it:
--retry, then the scenario's client settings, then the SDK's environment
(AWS_RETRY_MODE, AWS_MAX_ATTEMPTS) and shared config file, then the SDK's
defaults. A client's retry token bucket (500 tokens by default) is scaled
with the plan, as a run scales it. Adaptive mode is not modelled: it is
estimated as sdk-standard, and the plan says so (retry model
adaptive-not-modelled); 'kmsload simulate' models it.`,
		Example: `  kmsload plan scenarios/quickstart.yaml
  kmsload plan my.yaml --scale 1 --quotas my-quotas.yaml
  kmsload plan my.yaml --json | jq .saturation`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return planScenario(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.scale, "scale", 0, "multiply quotas and rates by this (default: the scenario's scale)")
	fl.StringVar(&f.quotas, "quotas", "", "quota values: aws or a quota override file (default: the scenario's, aws)")
	fl.StringVar(&f.algorithm, "quota-algorithm", "", "quota window: fixed-window or token-bucket (default: the scenario's, fixed-window)")
	fl.StringVar(&f.retry, "retry", "", retryFlagHelp)
	fl.StringVar(&f.windowPhase, "window-phase", "", windowPhaseHelp)
	fl.BoolVar(&f.json, "json", false, "print the plan as JSON")
	return cmd
}

func planScenario(cmd *cobra.Command, path string, f planFlags) error {
	s, err := loadScenario(path)
	if err != nil {
		return err
	}
	if f.scale < 0 {
		return usageErr(fmt.Errorf("--scale %g: must be positive", f.scale))
	}
	if f.quotas == "off" {
		return usageErr(errors.New("--quotas off: with quotas off nothing throttles and there is nothing to plan"))
	}
	scale := s.RunScale(f.scale)
	p, err := predict(s, windowFlags{quotas: f.quotas, algorithm: f.algorithm, retry: f.retry, windowPhase: f.windowPhase}, scale)
	if err != nil {
		return usageErr(err)
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	return plan.WriteText(out, p)
}

// retryFlagHelp is the help of the --retry flag of every command that has
// one: one spelling of the retry modes everywhere.
const retryFlagHelp = "SDK retry mode for every workload: sdk-standard (or standard), adaptive or none " +
	"(default: the scenario's client settings, then AWS_RETRY_MODE or the shared config's retry_mode, then sdk-standard)"

// windowPhaseHelp is the help of --window-phase, one rule for run,
// simulate and plan.
const windowPhaseHelp = "where each measured window starts against the quota's one-second windows: random, aligned, " +
	"or an offset into the second such as 250ms (default random; a fixed phase needs run's embedded target); " +
	"run, simulate and plan read it alike and results record it"

// predict plans scenario s with the quota configuration, retry settings
// (--retry, the scenario, the SDK's environment and shared config) and
// duration a run with flags f would use, at scale.
func predict(s *scenario.Scenario, f windowFlags, scale float64) (*plan.Plan, error) {
	qcfg, _, err := quotaConfig(s, f, scale)
	if err != nil {
		return nil, err
	}
	env, err := driver.LoadSDKEnv(context.Background())
	if err != nil {
		return nil, err
	}
	phase, err := quota.ParseWindowPhase(f.windowPhase)
	if err != nil {
		return nil, fmt.Errorf("--window-phase: %w", err)
	}
	return plan.Predict(s, plan.Options{Scale: scale, Duration: f.duration, Quota: qcfg, Retry: f.retry,
		SDKEnv: scenario.ClientEnv(env), WindowPhase: phase})
}
