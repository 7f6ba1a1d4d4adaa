package sim_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// Equivalence runs: each library scenario at half its own scale (its
// rates and quotas together), for a few seconds, with --isolate.
const (
	equivScaleDiv = 2
	equivDuration = 4 * time.Second
	// equivPoints is the agreement required of throttled shares and
	// coupling: 2 points.
	equivPoints = 0.02
	// equivJitterSeed fixes the SDK's backoff jitter per request in the
	// runs with retries, the same in the driver and the simulation
	// (driver.Options.JitterSeed, sim.Options.JitterSeed): the emulator
	// run and the simulation then back off request for request alike, and
	// what differs is the model. With the SDK's own random jitter the
	// emulator run is one draw among many: the simulations' spread over
	// jitter seeds was 0.3 to 1 point for workloads of a few hundred
	// attempts and 2 to 9 points for those of a few dozen, and emulator
	// runs of one scenario differed by 0.6 points from each other. That the
	// SDK's jitter has the distribution of traffic.BackoffDelay's is
	// traffic's TestBackoffDelayIsTheSDKs.
	equivJitterSeed = 1
	// equivParallel is how many emulator runs go side by side. With all
	// thirty at once, their provisioning stalled the first measured
	// windows for seconds on a 2-core machine: arrivals completed after
	// the window, outside its goodput, and most runs needed their second
	// try, alone.
	equivParallel = 8
)

// alignLead is how far after a whole second of the quota clock both the
// simulation and the emulator start each measured window: the quota
// windows start alignLead before each whole second of the window. An
// arrival reaches the emulator a little after its intended time (its lag)
// and lands in the next quota window when it was intended less than its
// lag before a boundary. Constant arrivals at the library's rates fall on
// every whole second of the window, so with the boundary just before
// them (1 ms, which absorbs rounding of arrival times) an arrival must be
// late by almost its workload's spacing to cross.
const alignLead = time.Millisecond

// equivStart is the simulation's start and the emulator's quota clock at
// the driver's window start.
var equivStart = time.Unix(1_800_000_000, 0).Add(alignLead)

// notModelled lists library scenarios whose features the simulation does
// not model, with the reason; they are skipped by the equivalence test.
var notModelled = map[string]string{}

// alignedEmulator is the emulator on httptest with a clock that reads
// equivStart at the instant each measured window of the driver starts
// (driver.Options.Start), so that the emulator and the simulation see the
// same fixed quota windows.
type alignedEmulator struct {
	srv    *emulator.Server
	url    string
	close  func()
	offset atomic.Int64
}

func newAlignedEmulator() (*alignedEmulator, error) {
	e := &alignedEmulator{}
	srv, err := emulator.New(emulator.Options{
		Clock: func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) },
	})
	if err != nil {
		return nil, err
	}
	e.srv = srv
	ts := httptest.NewServer(srv)
	e.close = ts.Close
	e.url = ts.URL
	return e, nil
}

// startWindow returns the instant the driver's next window is to start,
// a little ahead, and sets the emulator clock to read equivStart then.
func (e *alignedEmulator) startWindow() time.Time {
	at := time.Now().Add(20 * time.Millisecond)
	e.offset.Store(int64(equivStart.Sub(at)))
	return at
}

// armer returns a BeforeMeasure func that arms srv with a fresh quota
// model of cfg (none when on is false) before each measured window, and
// where it leaves the error of making the model.
func armer(srv *emulator.Server, cfg quota.Config, on bool) (func(), *error) {
	var armErr error
	return func() {
		if !on {
			srv.SetQuota(nil)
			return
		}
		m, err := quota.New(cfg)
		if err != nil {
			armErr = err
			return
		}
		srv.SetQuota(m)
	}, &armErr
}

// quotaOf returns the quota configuration a run of s at scale applies,
// and whether quotas are on, as `kmsload run` builds it.
func quotaOf(s *scenario.Scenario, scale float64) (quota.Config, bool, error) {
	cfg := quota.DefaultConfig()
	switch s.Quotas.Mode {
	case "", "aws", "off":
	default:
		path := s.Quotas.Mode
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(s.File), path)
		}
		c, err := quota.LoadFile(path)
		if err != nil {
			return cfg, false, err
		}
		cfg = c
	}
	if s.Quotas.Algorithm != "" {
		cfg.Algorithm = quota.Algorithm(s.Quotas.Algorithm)
	}
	cfg.Scale = scale
	return cfg, s.Quotas.Mode != "off", nil
}

// TestSimMatchesEmulator replays every scenario of the library (glob
// scenarios/*.yaml) at half its scale for a few seconds, with --isolate,
// on the emulator through the driver and in the simulation, twice: with
// retries off, and with the scenario's own SDK retry settings, the backoff
// jitter fixed per request alike on both sides (equivJitterSeed). Every
// workload's throttled-attempt share and coupling must agree within 2
// points, or one request's share for workloads of a few dozen attempts.
//
// The runs go side by side (their rates are small), at most
// equivParallel at a time, not limited by -parallel.
func TestSimMatchesEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the driver against the emulator for about half a minute")
	}
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob scenarios: %v (%d files)", err, len(files))
	}
	type outcome struct {
		skip      string
		err       error
		scenario  *scenario.Scenario
		measured  *report.Results
		simulated *report.Results
	}
	modes := []struct{ name, retry string }{{"retries-off", scenario.RetryNone}, {"sdk-retries", ""}}
	outs := make([][]outcome, len(files))
	var wg sync.WaitGroup
	slots := make(chan struct{}, equivParallel)
	for i, file := range files {
		outs[i] = make([]outcome, len(modes))
		for j, mode := range modes {
			wg.Go(func() {
				slots <- struct{}{}
				defer func() { <-slots }()
				o := &outs[i][j]
				s, err := scenario.Load(file)
				if err != nil {
					o.err = err
					return
				}
				if why, ok := notModelled[s.Name]; ok {
					o.skip = why
					return
				}
				o.scenario = s
				o.measured, o.simulated, o.err = equivRun(s, mode.retry)
			})
		}
	}
	wg.Wait()
	for i, file := range files {
		for j, mode := range modes {
			t.Run(filepath.Base(file)+"/"+mode.name, func(t *testing.T) {
				o := outs[i][j]
				switch {
				case o.skip != "":
					t.Skipf("not modelled by the simulation: %s", o.skip)
				case o.err != nil:
					t.Fatal(o.err)
				}
				if r := o.simulated; !r.Simulated || r.Target.Kind != sim.TargetKind {
					t.Errorf("simulated results: Simulated = %v, Target.Kind = %q; want true, %q",
						r.Simulated, r.Target.Kind, sim.TargetKind)
				}
				if o.measured.Simulated {
					t.Errorf("emulator results: Simulated = true; want false")
				}
				check := func(measured, simulated *report.Results) []string {
					c := &collector{t: t}
					compare(c, measured, simulated)
					if mode.retry == scenario.RetryNone {
						comparePlan(c, o.scenario, measured)
					}
					return c.errs
				}
				errs := check(o.measured, o.simulated)
				if len(errs) == 0 {
					return
				}
				// The emulator run is real time: on a busy machine a stall
				// can move an arrival into the next quota second. Such a
				// run gets one more try, alone; the model must agree then.
				t.Logf("emulator run off (%s); running it once more", strings.Join(errs, "; "))
				measured, simulated, err := equivRun(o.scenario, mode.retry)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range check(measured, simulated) {
					t.Error(e)
				}
			})
		}
	}
}

// checker is what the comparisons report to: a *testing.T, or a
// collector.
type checker interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// collector logs through t and keeps the errors instead of failing t.
type collector struct {
	t    *testing.T
	errs []string
}

func (c *collector) Helper()                         { c.t.Helper() }
func (c *collector) Logf(format string, args ...any) { c.t.Logf(format, args...) }
func (c *collector) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}
func (c *collector) Fatalf(format string, args ...any) { c.t.Fatalf(format, args...) }

// comparePlan checks, for a constant-rate scenario (constant arrivals, no
// data-key cache, no events), that `kmsload plan`'s predicted throttled
// share of every workload is within 2 points of the share measured on the
// emulator in the same run (retries off, so attempts are first attempts;
// windows aligned, as the plan is told). Per workload rather than per
// bucket: the client cannot tell which of a request's buckets (its
// account's or its custom key store's) throttled it.
func comparePlan(t checker, s *scenario.Scenario, measured *report.Results) {
	t.Helper()
	if len(s.Events) > 0 {
		return
	}
	for _, w := range s.Workloads {
		if (w.Arrival != "" && w.Arrival != scenario.ArrivalConstant) || w.DataKeyCache != nil {
			return
		}
	}
	scale := firstPositive(s.Scale, 1) / equivScaleDiv
	cfg, quotasOn, err := quotaOf(s, scale)
	if err != nil || !quotasOn {
		return
	}
	p, err := plan.Predict(shorten(s, equivDuration), plan.Options{
		Scale: scale, Duration: equivDuration, Quota: cfg, Retry: scenario.RetryNone, WindowPhase: quota.WindowPhase{Fixed: true},
	})
	if err != nil {
		t.Fatalf("plan.Predict: %v", err)
	}
	got := map[string]report.Workload{}
	for _, w := range measured.Workloads {
		got[w.Name] = w
	}
	for _, pw := range p.Workloads {
		mw, ok := got[pw.Name]
		if !ok {
			t.Errorf("plan: workload %s not in the measured results", pw.Name)
			continue
		}
		m := share(mw.ThrottledAttempts, mw.Attempts)
		t.Logf("plan %-22s predicted %6.2f%%  measured %6.2f%%", pw.Name, 100*pw.ThrottledShare, 100*m)
		if math.Abs(pw.ThrottledShare-m) > equivPoints {
			t.Errorf("plan: workload %s: predicted throttled share %.2f%%, measured %.2f%%; want within %.0f points",
				pw.Name, 100*pw.ThrottledShare, 100*m, 100*equivPoints)
		}
	}
}

// equivRun runs s at half its scale for equivDuration with --isolate on
// an aligned emulator and in the simulation, the backoff jitter of both
// fixed by equivJitterSeed. retry overrides every workload's retry mode
// ("" = the scenario's).
func equivRun(s *scenario.Scenario, retry string) (measured, simulated *report.Results, err error) {
	scale := firstPositive(s.Scale, 1) / equivScaleDiv
	cfg, quotasOn, err := quotaOf(s, scale)
	if err != nil {
		return nil, nil, err
	}
	s = shorten(s, equivDuration)
	// The SDK's environment decides what the scenario leaves unset, for
	// the driver and the simulation alike.
	env, err := driver.LoadSDKEnv(context.Background())
	if err != nil {
		return nil, nil, err
	}
	e, err := newAlignedEmulator()
	if err != nil {
		return nil, nil, err
	}
	defer e.close()
	arm, armErr := armer(e.srv, cfg, quotasOn)
	d, err := driver.New(driver.Options{
		Scenario:      s,
		Target:        driver.Target{Kind: driver.TargetEmbedded, Endpoint: e.url},
		Scale:         scale,
		Isolate:       true,
		Quota:         cfg,
		Retry:         retry,
		SDKEnv:        &env,
		JitterSeed:    equivJitterSeed,
		BeforeMeasure: arm,
		Start:         e.startWindow,
	})
	if err != nil {
		return nil, nil, err
	}
	out, err := d.Run(context.Background())
	if err != nil {
		return nil, nil, err
	}
	if *armErr != nil {
		return nil, nil, *armErr
	}
	sm, err := sim.New(sim.Options{
		Scenario: s, Scale: scale, Quota: cfg, QuotasOff: !quotasOn, Isolate: true, Retry: retry,
		SDKEnv: scenario.ClientEnv(env), Start: equivStart, JitterSeed: equivJitterSeed,
	})
	if err != nil {
		return nil, nil, err
	}
	sout, err := sm.Run(context.Background())
	if err != nil {
		return nil, nil, err
	}
	return out.Results, sout.Results, nil
}

// compare checks every workload's throttled-attempt share and coupling
// in the emulator run against the simulation's, within equivPoints, or
// within one request's share when a workload has so few attempts that one
// is more (an arrival a few milliseconds late on the emulator can land in
// the next quota second, and the request it displaces in that second is
// throttled instead).
func compare(t checker, measured, simulated *report.Results) {
	t.Helper()
	attempts := map[string]int64{}
	for _, m := range measured.Workloads {
		attempts[m.Name] = m.Attempts
	}
	check := func(what, name string, got, want float64) {
		tol := equivPoints
		if n := attempts[name]; n > 0 {
			tol = max(tol, 1.01/float64(n))
		}
		t.Logf("%-22s %-9s emulator %6.2f%%  simulation %6.2f%% (delta %+.2f, tolerance %.1f points)",
			name, what, 100*got, 100*want, 100*(got-want), 100*tol)
		if math.Abs(got-want) > tol {
			t.Errorf("%s: %s: emulator %.2f%%, simulation %.2f%%; want within %.1f points", name, what, 100*got, 100*want, 100*tol)
		}
	}
	sims := map[string]report.Workload{}
	for _, w := range simulated.Workloads {
		sims[w.Name] = w
	}
	for _, m := range measured.Workloads {
		w, ok := sims[m.Name]
		if !ok {
			t.Errorf("%s: no simulated results", m.Name)
			continue
		}
		check("thr-att", m.Name, share(m.ThrottledAttempts, m.Attempts), share(w.ThrottledAttempts, w.Attempts))
	}
	coupling := map[string]float64{}
	for _, c := range simulated.Coupling {
		coupling[c.Workload] = c.Coupling
	}
	for _, mc := range measured.Coupling {
		c, ok := coupling[mc.Workload]
		if !ok {
			t.Errorf("%s: no simulated coupling", mc.Workload)
			continue
		}
		check("coupling", mc.Workload, mc.Coupling, c)
	}
}

func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func firstPositive(vs ...float64) float64 {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// shorten returns a copy of s lasting d, every event moved to the same
// fraction of the run as in the file.
func shorten(s *scenario.Scenario, d time.Duration) *scenario.Scenario {
	c := *s
	c.Events = append([]scenario.Event(nil), s.Events...)
	for i := range c.Events {
		c.Events[i].At = time.Duration(float64(c.Events[i].At) * float64(d) / float64(s.Duration))
	}
	c.Duration = d
	return &c
}
