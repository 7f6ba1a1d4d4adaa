// Package calibrate checks kmsload's quota model against the throttling a
// recording saw. An imported scenario's trace keeps, per workload and
// second, the calls KMS served and the ThrottlingException events the
// trail recorded. Check replays exactly the recorded attempts - retries
// included, with the SDK's retries off - through the simulator, and puts
// the throttled share of each quota bucket in each minute beside the
// recorded one, with the error in points and a plain statement of where
// the model and AWS disagree.
package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/sim"
)

// DefaultTolerance is the error, in points of throttled share, within
// which a minute counts as agreeing.
const DefaultTolerance = 2.0

// ErrNoRecording is wrapped by Check's error for a scenario that holds no
// recorded traffic to check against.
var ErrNoRecording = errors.New("calibrate: no recording")

// Minute is one quota bucket's minute: the attempts the recording holds,
// and the share throttled in the recording and in the model.
type Minute struct {
	Start     time.Time
	Attempts  float64 // recorded, at real size
	Recorded  float64 // throttled share, 0 to 1
	Simulated float64
}

// ErrorPts is the model's error in points (simulated - recorded).
func (m Minute) ErrorPts() float64 { return 100 * (m.Simulated - m.Recorded) }

// Points formats an error in points with its sign, to one decimal, "+0.0"
// for what rounds to nothing.
func Points(v float64) string { return fmt.Sprintf("%+.1f", math.Round(v*10)/10+0) }

// Bucket is one quota bucket's check.
type Bucket struct {
	Name      string
	QuotaPerS float64 // the model's quota, at real size
	Workloads []string
	// Over the whole recording: attempts and throttled shares.
	Attempts            float64
	Recorded, Simulated float64
	// Minutes with traffic, in time order.
	Minutes []Minute
	// Low and High count the minutes where the model throttled less, or
	// more, than the recording by more than the tolerance; MaxErrorPts
	// is the largest error in points (signed), at MaxErrorAt.
	Low, High   int
	MaxErrorPts float64
	MaxErrorAt  time.Time
	// Statement says in a sentence whether and where the model
	// disagrees.
	Statement string
}

// Report is a calibration.
type Report struct {
	Scenario  string
	Tolerance float64 // points
	Buckets   []Bucket
	// Agrees is true when every bucket's every minute agrees within the
	// tolerance; Conclusive when the recording or the model throttled
	// somewhere, so that the check says something of the quotas.
	Agrees, Conclusive bool
	// Verdict is the one-line answer.
	Verdict string
}

// Options of a check.
type Options struct {
	// Tolerance in points; 0 = DefaultTolerance.
	Tolerance float64
	// Quota is the model checked, already scaled to the scenario's
	// scale; a zero Config (no Algorithm) is quota.DefaultConfig, AWS's
	// quotas.
	Quota quota.Config
}

// Check replays s's recorded attempts through the simulator and compares
// its throttling with the recording's.
func Check(ctx context.Context, s *scenario.Scenario, opts Options) (*Report, error) {
	tol := opts.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	attempts, err := recordedAttempts(s)
	if err != nil {
		return nil, err
	}
	replay := *s
	replay.Workloads = append([]scenario.Workload(nil), s.Workloads...)
	for i := range replay.Workloads {
		w := &replay.Workloads[i]
		w.Series = attempts[w.Name]
	}
	start := s.Recording.Start
	if start.IsZero() {
		start = time.Unix(1_800_000_000, 0)
	}
	sm, err := sim.New(sim.Options{Scenario: &replay, Retry: scenario.RetryNone, Start: start, Quota: opts.Quota})
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	out, err := sm.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	rep := &Report{Scenario: s.Name, Tolerance: tol}
	quotas := map[string]float64{}
	for _, b := range out.Results.Buckets {
		quotas[b.Name] = b.QuotaPerS / s.Scale
	}
	acc := newAccumulator(start)
	for _, w := range out.Results.Workloads {
		acc.add(w.Bucket, w.Name, attempts[w.Name], s.Recording.Throttled[w.Name], w.Series)
	}
	for _, name := range acc.names() {
		rep.Buckets = append(rep.Buckets, acc.bucket(name, quotas[name], tol))
	}
	rep.judge()
	return rep, nil
}

// recordedAttempts is, per trace workload, the attempts the recording
// holds each second, served or throttled, retries included.
func recordedAttempts(s *scenario.Scenario) (map[string]*scenario.Series, error) {
	rec := s.Recording
	if rec == nil {
		return nil, fmt.Errorf("%w: scenario %s replays no trace (kmsload import writes one)", ErrNoRecording, s.Name)
	}
	out := map[string]*scenario.Series{}
	for _, w := range s.Workloads {
		if w.Arrival != scenario.ArrivalTrace || w.Series == nil {
			return nil, fmt.Errorf("%w: workload %s does not replay the trace (arrival %s); calibration needs every workload recorded", ErrNoRecording, w.Name, w.Arrival)
		}
		a := rec.RecordedAttempts(w.Name)
		if a == nil {
			return nil, fmt.Errorf("%w: the trace has no recording of workload %s", ErrNoRecording, w.Name)
		}
		out[w.Name] = a
	}
	return out, nil
}
