package sim_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// TestWindowPhaseOneRule runs the quickstart scenario (120% of its
// bucket) for 10 s with one window phase (--window-phase 400ms) as
// kmsload run does it on the embedded emulator, as kmsload simulate does
// it, and as kmsload plan predicts it, with retries off and with the
// SDK's standard retries: every workload's throttled-attempt share must
// agree within 2 points, and all three results record the phase.
func TestWindowPhaseOneRule(t *testing.T) {
	if testing.Short() {
		t.Skip("two 10 s emulator runs")
	}
	s, err := scenario.Load("../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	phase, err := quota.ParseWindowPhase("400ms")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := quotaOf(s, s.Scale)
	if err != nil {
		t.Fatal(err)
	}
	env, err := driver.LoadSDKEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	modes := []string{scenario.RetryNone, scenario.RetryStandard}
	runs := make([]*report.Results, len(modes))
	errs := make([]error, len(modes))
	var wg sync.WaitGroup
	for i, mode := range modes {
		wg.Go(func() { runs[i], errs[i] = phasedRun(s, cfg, mode, phase, env) })
	}
	wg.Wait()
	for i, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			measured := runs[i]
			sm, err := sim.New(sim.Options{Scenario: s, Scale: s.Scale, Quota: cfg, Retry: mode, WindowPhase: phase,
				SDKEnv: scenario.ClientEnv(env), JitterSeed: equivJitterSeed})
			if err != nil {
				t.Fatal(err)
			}
			out, err := sm.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			simulated := out.Results
			p, err := plan.Predict(s, plan.Options{Scale: s.Scale, Quota: cfg, Retry: mode, WindowPhase: phase, SDKEnv: scenario.ClientEnv(env)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []*report.Results{measured, simulated} {
				if r.Scenario.WindowPhase != "400ms" || r.Scenario.WindowPhaseS == nil || math.Abs(*r.Scenario.WindowPhaseS-0.4) > 0.002 {
					t.Errorf("simulated %v: window phase %q started at %v; want 400ms, 0.4 s", r.Simulated, r.Scenario.WindowPhase, r.Scenario.WindowPhaseS)
				}
			}
			if p.WindowPhase != "400ms" {
				t.Errorf("plan window phase %q; want 400ms", p.WindowPhase)
			}
			sims := map[string]report.Workload{}
			for _, w := range simulated.Workloads {
				sims[w.Name] = w
			}
			for _, pw := range p.Workloads {
				m := measured.Workloads[indexOf(measured, pw.Name)]
				got := map[string]float64{
					"run":      share(m.ThrottledAttempts, m.Attempts),
					"simulate": share(sims[pw.Name].ThrottledAttempts, sims[pw.Name].Attempts),
					"plan":     pw.AttemptThrottledShare,
				}
				t.Logf("%-10s thr-att run %.2f%%  simulate %.2f%%  plan %.2f%%", pw.Name, 100*got["run"], 100*got["simulate"], 100*got["plan"])
				for _, other := range []string{"simulate", "plan"} {
					if d := got[other] - got["run"]; math.Abs(d) > equivPoints {
						t.Errorf("%s: %s %.2f%% vs run %.2f%%; want within %.0f points", pw.Name, other, 100*got[other], 100*got["run"], 100*equivPoints)
					}
				}
			}
		})
	}
}

// phasedRun runs s on the embedded emulator (wall clock) as kmsload run
// --window-phase does, with retry mode mode.
func phasedRun(s *scenario.Scenario, cfg quota.Config, mode string, phase quota.WindowPhase, env driver.SDKEnv) (*report.Results, error) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		return nil, err
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	arm, armErr := armer(srv, cfg, true)
	d, err := driver.New(driver.Options{
		Scenario: s, Target: driver.Target{Kind: driver.TargetEmbedded, Endpoint: ts.URL},
		Scale: s.Scale, Quota: cfg, Retry: mode, SDKEnv: &env, JitterSeed: equivJitterSeed, WindowPhase: phase,
		BeforeMeasure: arm,
	})
	if err != nil {
		return nil, err
	}
	out, err := d.Run(context.Background())
	if err != nil {
		return nil, err
	}
	if *armErr != nil {
		return nil, *armErr
	}
	return out.Results, nil
}

func indexOf(r *report.Results, name string) int {
	for i, w := range r.Workloads {
		if w.Name == name {
			return i
		}
	}
	panic(fmt.Sprintf("no workload %s", name))
}
