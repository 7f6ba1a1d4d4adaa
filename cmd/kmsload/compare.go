package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

func newCompareCmd() *cobra.Command {
	var maxReg, html string
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json",
		Short: "Compare two runs side by side, with a regression verdict",
		Long: `Compare puts two results.json files side by side, per workload: goodput,
p50 and p99 per second, the throttled-attempt share, the error share
(requests that failed other than by throttling) and the dropped share
(arrivals dropped at the in-flight bound), with the runs' totals.

A change is large when it is worse than the tolerance: goodput down, or p50
or p99 up, by more than --max-regression of the base (latencies also by more
than 1 ms); the throttled share up by more than that many percentage points;
the error or dropped share up by more than that many points, at most 1 point.

With at least 5 whole seconds in both runs, a two-sided Mann-Whitney U test
on the per-second samples says whether a change is significant (p < 0.01):
a significant large change is a regression (or an improvement), a
significant small one is within tolerance. A large change the test does not
find significant is a regression only when the totals show it (below), and
inconclusive otherwise.

With fewer seconds, or without per-second data (p50 in results written
before p50_ms), the totals decide: a share by a two-proportion z-test on its
counts (p < 0.01; a change it does not find significant counts as none only
when the runs have enough requests for a change of the tolerance to be
significant); goodput, p50 and p99 are a regression when worse by a factor
of 2 or more, an improvement when better by as much, and inconclusive
otherwise.

The outcome is a regression when any metric of any workload regressed;
inconclusive when, short of that, any metric is inconclusive or the runs do
not have the same workloads; no regression only when every metric was
tested and none regressed.

Exit codes: 0 no regression, 1 runtime error, 2 bad usage or unreadable
files, 98 inconclusive, 99 regression.`,
		Example: `  kmsload compare base/results.json new/results.json
  kmsload compare base/results.json new/results.json --max-regression 10% --html compare.html`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mr, err := parseShare(maxReg)
			if err != nil {
				return usageErr(fmt.Errorf("--max-regression %q: %w", maxReg, err))
			}
			base, err := readResults(args[0])
			if err != nil {
				return err
			}
			nw, err := readResults(args[1])
			if err != nil {
				return err
			}
			c := report.Compare(base, nw, mr)
			c.Base.Path, c.New.Path = args[0], args[1]
			if err := render.WriteCompareText(cmd.OutOrStdout(), c); err != nil {
				return err
			}
			if html != "" {
				if err := writeFile(html, func(w io.Writer) error { return render.WriteCompareHTML(w, c) }); err != nil {
					return err
				}
			}
			return compareExit(c)
		},
	}
	cmd.Flags().StringVar(&maxReg, "max-regression", "5%", "tolerance: the change allowed before a change is large, a percentage (5%) or a fraction (0.05) of the base for goodput and latency, as many points for the shares (errors and dropped: at most 1 point)")
	cmd.Flags().StringVar(&html, "html", "", "also write the comparison as a self-contained HTML page to this file")
	return cmd
}

// compareExit is the exit of a comparison: nil for no regression, exit
// 98 when inconclusive and 99 on a regression, with the summary.
func compareExit(c *report.Comparison) error {
	switch c.Outcome {
	case report.OutcomeRegression:
		return &exitError{code: exitRegression, err: errors.New("regression: " + strings.TrimPrefix(c.Summary(), "REGRESSION: "))}
	case report.OutcomeInconclusive:
		return &exitError{code: exitInconclusive, err: errors.New("inconclusive: " + strings.TrimPrefix(c.Summary(), "INCONCLUSIVE: "))}
	}
	return nil
}

// readResults reads a results.json file; problems are usage errors.
func readResults(path string) (*report.Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr(err)
	}
	defer f.Close()
	res, err := report.ReadJSON(f)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s: %w", path, err))
	}
	return res, nil
}

// parseShare parses "5%" or "0.05" as 0.05.
func parseShare(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil || v < 0 || v != v {
		return 0, errors.New("want a percentage such as 5% or a fraction such as 0.05")
	}
	if pct {
		v /= 100
	}
	return v, nil
}
