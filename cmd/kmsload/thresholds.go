package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/render"
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
		if err := writeFile(junit, func(w io.Writer) error { return render.WriteJUnit(w, res) }); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if summaryMD != "" {
		f, err := os.OpenFile(summaryMD, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--summary-md: %w", err)
		}
		if err := render.WriteMarkdown(f, res); err != nil {
			f.Close()
			return fmt.Errorf("--summary-md: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("--summary-md: %w", err)
		}
	}
	return nil
}

// conclude evaluates the scenario's thresholds on res and judges it
// (report.Judge) with the error budget (budget, or the scenario's when
// budget is "") and the failures the scenario expects of each workload:
// the one place where run, simulate and distributed runs reach their
// verdict, so every report and the exit code read the same one.
func conclude(s *scenario.Scenario, res *report.Results, budget string) error {
	p, err := verdictPolicy(s, budget)
	if err != nil {
		return err
	}
	if _, err := report.EvaluateThresholds(s.Thresholds, res); err != nil {
		return err // parsed in loadScenario; cannot happen
	}
	report.Judge(res, p)
	return nil
}

// verdictPolicy is the error budget (--error-budget, else the scenario's)
// and every workload's expected failures.
func verdictPolicy(s *scenario.Scenario, budget string) (report.Policy, error) {
	p := report.Policy{ErrorBudget: s.ErrorBudget, Expected: map[string][]failure.Expectation{}}
	if budget != "" {
		b, ok := scenario.ParseShare(budget)
		if !ok {
			return p, usageErr(fmt.Errorf("--error-budget %q: want a share from 0 to 1 or a percentage such as 1%%", budget))
		}
		p.ErrorBudget = b
	}
	for _, w := range s.Workloads {
		p.Expected[w.Name] = s.Expectations(w)
	}
	return p, nil
}

// errorBudgetUsage is the help text of --error-budget.
const errorBudgetUsage = "share of a workload's arrivals that may fail other than by throttling (and other than the scenario expects) before the verdict fails with exit 99, e.g. 1% or 0.05 (default: the scenario's error_budget, 1%)"

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
// the threshold outcome and the verdict's headline, and returns the
// command's exit error: exit 1 for a run that stopped early, 99 when the
// verdict failed (a threshold, the error budget, a workload that measured
// nothing), nil otherwise.
func runOutcome(w io.Writer, resultsPath, extra string, res *report.Results) error {
	fmt.Fprintf(w, "\nresults: %s%s\n", resultsPath, extra)
	if line := thresholdsLine(res.Thresholds); line != "" {
		fmt.Fprintln(w, line)
	}
	v := res.Verdict
	if v != nil {
		fmt.Fprintln(w, "verdict:", v.Headline)
	}
	if res.Partial {
		return partialError(res)
	}
	if v != nil && !v.Pass {
		return &exitError{code: exitThresholds, err: fmt.Errorf("verdict %s", v.Headline)}
	}
	return nil
}
