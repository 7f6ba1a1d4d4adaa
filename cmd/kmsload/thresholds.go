package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// checkThresholds parses every threshold expression of s before anything
// runs; each problem names the file, the workload and the expression.
func checkThresholds(path string, s *scenario.Scenario) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.Thresholds)) {
		for i, expr := range s.Thresholds[name] {
			if _, err := report.ParseThreshold(expr); err != nil {
				errs = append(errs, fmt.Errorf("%s: thresholds.%s[%d]: %w", path, name, i, err))
			}
		}
	}
	return errors.Join(errs...)
}

// writeCIOutputs writes the JUnit XML file and appends the Markdown summary
// (appended, so that $GITHUB_STEP_SUMMARY keeps what earlier steps wrote).
func writeCIOutputs(junit, summaryMD string, res *report.Results) error {
	if junit != "" {
		if err := writeFile(junit, func(w io.Writer) error { return report.WriteJUnit(w, res) }); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if summaryMD != "" {
		f, err := os.OpenFile(summaryMD, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--summary-md: %w", err)
		}
		if err := report.WriteMarkdown(f, res); err != nil {
			f.Close()
			return fmt.Errorf("--summary-md: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("--summary-md: %w", err)
		}
	}
	return nil
}

// thresholdsLine is the one-line threshold outcome printed after the
// summary ("" without thresholds).
func thresholdsLine(ts []report.Threshold) string {
	if len(ts) == 0 {
		return ""
	}
	failed := report.ThresholdsFailed(ts)
	if failed == 0 {
		return fmt.Sprintf("thresholds: all %d passed", len(ts))
	}
	return fmt.Sprintf("thresholds: %d of %d FAILED", failed, len(ts))
}

// runOutcome prints the line naming results.json (with extra after it),
// the threshold outcome, and returns the command's exit error: exit 1 for
// a run that stopped early, 99 when a threshold failed, nil otherwise.
func runOutcome(w io.Writer, resultsPath, extra string, res *report.Results, ths []report.Threshold) error {
	fmt.Fprintf(w, "\nresults: %s%s\n", resultsPath, extra)
	if line := thresholdsLine(ths); line != "" {
		fmt.Fprintln(w, line)
	}
	if res.Partial {
		return partialError(res)
	}
	if n := report.ThresholdsFailed(ths); n > 0 {
		return &exitError{code: exitThresholds, err: fmt.Errorf("%d of %d thresholds failed", n, len(ths))}
	}
	return nil
}
