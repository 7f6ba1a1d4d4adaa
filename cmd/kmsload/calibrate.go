package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/calibrate"
	"github.com/kmsload/kmsload/internal/textout"
	"github.com/kmsload/kmsload/scenario"
)

// calibrateFlags are the flags of kmsload calibrate (and import --check).
type calibrateFlags struct {
	tolerance float64
	quotas    string
}

func (f *calibrateFlags) add(fl interface {
	Float64Var(*float64, string, float64, string)
	StringVar(*string, string, string, string)
}) {
	fl.Float64Var(&f.tolerance, "tolerance", calibrate.DefaultTolerance, "points of throttled share within which a minute agrees")
	fl.StringVar(&f.quotas, "quotas", "", "quota model to check: aws (AWS's defaults) or a quota file (default: the scenario's quotas.mode)")
}

func newCalibrateCmd() *cobra.Command {
	var f calibrateFlags
	cmd := &cobra.Command{
		Use:   "calibrate SCENARIO.yaml",
		Short: "Check the quota model against the throttling a recorded trail saw",
		Long: `Calibrate takes a scenario written by kmsload import, whose trace keeps
the throttled calls (ThrottlingException events) the trail recorded beside
the calls KMS served, and replays exactly the recorded attempts - retries
included, with the SDK's own retries off - through the simulator. For each
quota bucket it prints the throttled share the trail recorded and the
model's, minute by minute, the error in points, and a statement of where
the model disagrees and what that may mean (a raised or lower quota,
traffic the trail does not hold).

Exit codes: 0 the model agrees within the tolerance in every bucket and
minute; 98 inconclusive (nothing was throttled, recorded or modelled, so
the quotas' values are untested); 99 the model disagrees; 2 bad usage.`,
		Example: `  kmsload import cloudtrail logs/ -o prod.yaml
  kmsload calibrate prod.yaml
  kmsload calibrate prod.yaml --quotas raised-quotas.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := loadScenario(args[0])
			if err != nil {
				return err
			}
			return runCalibrate(cmd.Context(), cmd.OutOrStdout(), s, f)
		},
	}
	f.add(cmd.Flags())
	return cmd
}

// runCalibrate checks s and prints the report; the exit code follows the
// verdict.
func runCalibrate(ctx context.Context, w io.Writer, s *scenario.Scenario, f calibrateFlags) error {
	cfg, _, err := quotaConfig(s, windowFlags{quotas: f.quotas}, s.Scale)
	if err != nil {
		return usageErr(err)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := calibrate.Check(ctx, s, calibrate.Options{Tolerance: f.tolerance, Quota: cfg})
	if errors.Is(err, calibrate.ErrNoRecording) {
		return usageErr(err)
	} else if err != nil {
		return err
	}
	printCalibration(w, rep)
	switch {
	case !rep.Conclusive:
		return &exitError{code: exitInconclusive, err: errors.New(rep.Verdict)}
	case !rep.Agrees:
		return &exitError{code: exitThresholds, err: errors.New(rep.Verdict)}
	}
	return nil
}

// printCalibration writes the buckets, the minutes that throttled and the
// verdict.
func printCalibration(w io.Writer, r *calibrate.Report) {
	out := &textout.Writer{W: w}
	out.Printf("kmsload calibrate: %s (the recorded attempts replayed, retries included, with the SDK's retries off)\n\n", r.Scenario)
	rows := []string{"bucket\tquota/s\tattempts\trecorded%\tmodel%\tmax-error(pts)"}
	var statements []string
	for _, b := range r.Buckets {
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%.1f\t%.1f\t%s", b.Name, thousands(b.QuotaPerS), thousands(b.Attempts),
			100*b.Recorded, 100*b.Simulated, calibrate.Points(b.MaxErrorPts)))
		statements = append(statements, fmt.Sprintf("  %s: %s", b.Name, b.Statement))
	}
	out.Printf("Buckets (throttled share of the attempts, as the trail recorded it and as the model has it)\n")
	out.Aligned("  ", rows)
	out.Printf("\n%s\n", strings.Join(statements, "\n"))
	rows = []string{"bucket\tminute\tattempts\trecorded%\tmodel%\terror(pts)"}
	for _, b := range r.Buckets {
		for _, m := range b.Minutes {
			if m.Recorded > 0 || m.Simulated > 0 {
				rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%.1f\t%.1f\t%s", b.Name, m.Start.UTC().Format(time.RFC3339),
					thousands(m.Attempts), 100*m.Recorded, 100*m.Simulated, calibrate.Points(m.ErrorPts())))
			}
		}
	}
	if len(rows) > 1 {
		out.Printf("\nMinutes with throttling, recorded or modelled\n")
		out.Aligned("  ", rows)
	}
	out.Printf("\nVerdict\n  %s\n", r.Verdict)
}
