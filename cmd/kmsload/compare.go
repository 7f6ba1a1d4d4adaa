package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/report"
)

func newCompareCmd() *cobra.Command {
	var maxReg, html string
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json",
		Short: "Compare two runs side by side, with a regression verdict",
		Long: `Compare puts two results.json files side by side, per workload: goodput,
throttled-attempt share and p99 per second, and the p50/p99/p999 totals.

A metric regressed when it got worse by more than --max-regression (goodput
down or p99 up by that fraction of the base, p99 also by more than 1 ms;
the throttled share up by that many percentage points) AND a two-sided
Mann-Whitney U test on the runs' per-second samples finds the difference
significant (p < 0.01). Runs shorter than 5 seconds cannot be tested.

Exit codes: 0 no regression, 1 regression, 2 bad usage or unreadable files.`,
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
			if err := report.WriteCompareText(cmd.OutOrStdout(), c); err != nil {
				return err
			}
			if html != "" {
				if err := writeFile(html, func(w io.Writer) error { return report.WriteCompareHTML(w, c) }); err != nil {
					return err
				}
			}
			if c.Regression {
				return &exitError{code: exitRuntime, err: errors.New("regression: " + strings.TrimPrefix(c.Summary(), "REGRESSION: "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&maxReg, "max-regression", "5%", "allowed change before a significant change is a regression: a percentage (5%) or a fraction (0.05)")
	cmd.Flags().StringVar(&html, "html", "", "also write the comparison as a self-contained HTML page to this file")
	return cmd
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
