package sim_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// Equivalence runs: each library scenario at a quarter of its own scale
// (its rates and quotas together), for a few seconds, with --isolate.
const (
	equivScaleDiv = 2
	equivDuration = 4 * time.Second
	equivPoints   = 0.02
)

// alignLead is how far after a whole second the emulator's clock puts the
// first request of a window.
const alignLead = 5 * time.Millisecond

// notModelled lists library scenarios whose features the simulation does
// not model, with the reason; they are skipped by the equivalence test.
var notModelled = map[string]string{}

// alignedEmulator is the emulator on httptest with a clock shifted so that
// the first KMS request of each measured window falls on a whole second:
// its fixed quota windows then start with the measured window, as the
// simulation's do (Options.Start is a whole second). The first request
// lands alignLead after the whole second: it may reach the emulator later
// than arrivals intended on later second boundaries (a new connection),
// which would otherwise fall at the end of the previous, full, window,
// where the simulation puts them at the start of the next.
type alignedEmulator struct {
	srv       *emulator.Server
	url       string
	close     func()
	offset    atomic.Int64
	alignNext atomic.Bool
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
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && e.alignNext.CompareAndSwap(true, false) {
			now := time.Now()
			e.offset.Store(int64(now.Truncate(time.Second).Add(time.Second + alignLead).Sub(now)))
		}
		srv.ServeHTTP(w, r)
	}))
	e.close = ts.Close
	e.url = ts.URL
	return e, nil
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
// on the emulator through the driver and in the simulation, and checks
// that every workload's throttled-attempt share and coupling agree within
// 2 points, or within three binomial standard errors of the difference
// when that is larger: at this size (half the scenario's scale, 4 s) one
// emulator run differs from the next by about 2 points in its busiest
// workloads (backoff jitter, scheduling), and by far more in workloads of
// a few dozen requests. The
// scenarios run side by side (their rates are small), not limited by
// -parallel, so the test takes about a minute.
func TestSimMatchesEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the driver against the emulator for about a minute")
	}
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob scenarios: %v (%d files)", err, len(files))
	}
	type outcome struct {
		skip                string
		err                 error
		measured, simulated *report.Results
	}
	outs := make([]outcome, len(files))
	var wg sync.WaitGroup
	for i, file := range files {
		wg.Go(func() {
			o := &outs[i]
			s, err := scenario.Load(file)
			if err != nil {
				o.err = err
				return
			}
			if why, ok := notModelled[s.Name]; ok {
				o.skip = why
				return
			}
			o.measured, o.simulated, o.err = equivRun(s)
		})
	}
	wg.Wait()
	for i, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			o := outs[i]
			switch {
			case o.skip != "":
				t.Skipf("not modelled by the simulation: %s", o.skip)
			case o.err != nil:
				t.Fatal(o.err)
			}
			if !o.simulated.Simulated || o.simulated.Target.Kind != sim.TargetKind {
				t.Errorf("simulated results: Simulated = %v, Target.Kind = %q; want true, %q",
					o.simulated.Simulated, o.simulated.Target.Kind, sim.TargetKind)
			}
			if o.measured.Simulated {
				t.Errorf("emulator results: Simulated = true; want false")
			}
			compare(t, o.measured, o.simulated)
		})
	}
}

// equivRun runs s at half its scale for equivDuration with --isolate on
// an aligned emulator and in the simulation.
func equivRun(s *scenario.Scenario) (measured, simulated *report.Results, err error) {
	scale := firstPositive(s.Scale, 1) / equivScaleDiv
	cfg, quotasOn, err := quotaOf(s, scale)
	if err != nil {
		return nil, nil, err
	}
	s = shorten(s, equivDuration)
	e, err := newAlignedEmulator()
	if err != nil {
		return nil, nil, err
	}
	defer e.close()
	var armErr error
	d, err := driver.New(driver.Options{
		Scenario: s,
		Target:   driver.Target{Kind: driver.TargetEmbedded, Endpoint: e.url},
		Scale:    scale,
		Isolate:  true,
		Quota:    cfg,
		BeforeMeasure: func() {
			if !quotasOn {
				e.srv.SetQuota(nil)
				return
			}
			m, err := quota.New(cfg)
			if err != nil {
				armErr = err
				return
			}
			e.srv.SetQuota(m)
			e.alignNext.Store(true)
		},
	})
	if err != nil {
		return nil, nil, err
	}
	out, err := d.Run(context.Background())
	if err != nil {
		return nil, nil, err
	}
	if armErr != nil {
		return nil, nil, armErr
	}
	sm, err := sim.New(sim.Options{
		Scenario: s, Scale: scale, Quota: cfg, QuotasOff: !quotasOn, Isolate: true,
		Start: time.Unix(1_800_000_000, 0),
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

// compare checks every workload's throttled-attempt share and coupling.
func compare(t *testing.T, measured, simulated *report.Results) {
	t.Helper()
	simW := map[string]report.Workload{}
	for _, w := range simulated.Workloads {
		simW[w.Name] = w
	}
	simC := map[string]report.Coupling{}
	for _, c := range simulated.Coupling {
		simC[c.Workload] = c
	}
	for _, m := range measured.Workloads {
		s, ok := simW[m.Name]
		if !ok {
			t.Errorf("%s: no simulated results", m.Name)
			continue
		}
		ms, ss := share(m.ThrottledAttempts, m.Attempts), share(s.ThrottledAttempts, s.Attempts)
		t.Logf("%-22s thr-att%% emulator %5.1f sim %5.1f | requests %6d / %6d | ok %6d / %6d | errors %v / %v",
			m.Name, 100*ms, 100*ss, m.Requests, s.Requests, m.OK, s.OK, m.Errors, s.Errors)
		p := (ms + ss) / 2
		tol := max(equivPoints, 3*math.Sqrt(p*(1-p)*(1/float64(max(m.Attempts, 1))+1/float64(max(s.Attempts, 1)))))
		if math.Abs(ms-ss) > tol {
			t.Errorf("%s: throttled-attempt share: emulator %.2f%%, simulation %.2f%%; want within %.1f points",
				m.Name, 100*ms, 100*ss, 100*tol)
		}
	}
	for _, mc := range measured.Coupling {
		sc, ok := simC[mc.Workload]
		if !ok {
			t.Errorf("%s: no simulated coupling", mc.Workload)
			continue
		}
		tol := max(equivPoints, 3*couplingSE(measured, simulated, mc.Workload))
		t.Logf("%-22s coupling%% emulator %5.1f sim %5.1f (tolerance %.1f points)", mc.Workload, 100*mc.Coupling, 100*sc.Coupling, 100*tol)
		if math.Abs(mc.Coupling-sc.Coupling) > tol {
			t.Errorf("%s: coupling: emulator %.2f%%, simulation %.2f%%; want within %.1f points",
				mc.Workload, 100*mc.Coupling, 100*sc.Coupling, 100*tol)
		}
	}
}

// couplingSE is the standard error of the difference of two couplings
// 1 - ok/okAlone of workload name, each request's success taken as an
// independent draw with the run's success share.
func couplingSE(measured, simulated *report.Results, name string) float64 {
	v := 0.0
	for _, r := range []*report.Results{measured, simulated} {
		alone, ok := r.Isolated[name]
		if !ok {
			continue
		}
		var comb report.Workload
		for _, w := range r.Workloads {
			if w.Name == name {
				comb = w
			}
		}
		variance := func(w report.Workload) (okN, v float64) {
			n := float64(max(w.Requests+w.CacheHits, 1))
			okN = float64(w.OK + w.CacheHits)
			p := okN / n
			return okN, n * p * (1 - p)
		}
		a, va := variance(comb)
		b, vb := variance(alone)
		b = max(b, 1)
		v += va/(b*b) + a*a*vb/(b*b*b*b)
	}
	return math.Sqrt(v)
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
