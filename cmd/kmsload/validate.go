package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/lint"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

func newValidateCmd() *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate SCENARIO.yaml...",
		Short: "Check scenario files strictly; report every problem as file:line:col",
		Long: `Validate loads each scenario file strictly and reports every problem as
file:line:col: error: message. In a valid file it then reports what it can
prove would still go wrong in a run, as file:line:col: warning: message
[rule], with a fix on the next line:

  caller-never-admitted  a workload's caller account that no key policy
                         (allow_accounts), grant or put-key-policy event
                         ever lets use its key: every request would fail
                         with AccessDeniedException
  rate-over-quota        a workload that alone, in its busiest second at
                         real size, sends more to a quota bucket (account x
                         Region x class, or a custom key store) than the
                         bucket's quota: it throttles with no other traffic

Warnings leave the exit code at 0; --strict makes them errors (exit 2).
A file with errors exits 2.`,
		Example: `  kmsload validate scenarios/*.yaml
  kmsload validate --strict my.yaml    # warnings fail too, for CI`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("validate needs at least one scenario file\nusage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, path := range args {
				if !validateFile(cmd.OutOrStdout(), os.Stderr, path, strict) {
					bad++
				}
			}
			if bad > 0 {
				return &exitError{code: exitUsage, err: fmt.Errorf("%d of %d scenario files invalid", bad, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings as errors (exit 2)")
	return cmd
}

// validateFile loads and lints the scenario at path, prints its problems
// to stderr and its summary to stdout, and reports whether it passed:
// no errors, and no warnings when strict.
func validateFile(stdout, stderr io.Writer, path string, strict bool) bool {
	s, err := loadScenario(path)
	if err != nil {
		printLoadError(stderr, err)
		return false
	}
	cfg, on, err := quotaConfig(s, windowFlags{}, 1)
	if err != nil {
		fmt.Fprintf(stderr, "%s: quotas: %v\n", path, err)
		return false
	}
	findings, err := lint.Lint(s, lint.Options{Quota: cfg, QuotasOff: !on})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return false
	}
	level := "warning"
	if strict {
		level = "error"
	}
	printFindings(stderr, level, findings)
	if strict && len(findings) > 0 {
		return false
	}
	fmt.Fprintf(stdout, "%s: ok (%d accounts, %d keys, %d workloads, %d events, %s)\n",
		path, len(s.Accounts), len(s.Keys), len(s.Workloads), len(s.Events), plural(len(findings), "warning"))
	return true
}

// printLoadError writes each problem of a scenario file as
// "file:line:col: error: message", and any other error as it is.
func printLoadError(w io.Writer, err error) {
	var errs scenario.Errors
	if !errors.As(err, &errs) {
		fmt.Fprintln(w, err)
		return
	}
	for _, e := range errs {
		fmt.Fprintf(w, "%s: error: %s\n", scenario.Position{File: e.File, Line: e.Line, Col: e.Col}, e.Msg)
	}
}

// printFindings writes each finding as "file:line:col: level: message
// [rule]" and its fix on an indented line.
func printFindings(w io.Writer, level string, findings []lint.Finding) {
	for _, f := range findings {
		fmt.Fprintf(w, "%s: %s: %s [%s]\n    fix: %s\n", f.Pos, level, f.Message, f.Rule, f.Fix)
	}
}

// warnFindings prints the warnings of s under the quota configuration a
// run applies, before the run; a lint that fails only says so.
func warnFindings(w io.Writer, s *scenario.Scenario, cfg quota.Config, quotasOn bool) {
	findings, err := lint.Lint(s, lint.Options{Quota: cfg, QuotasOff: !quotasOn})
	if err != nil {
		fmt.Fprintln(w, "kmsload: lint:", err)
		return
	}
	printFindings(w, "warning", findings)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// loadScenario loads a scenario; every problem is an exit-2 error whose text
// lists file:line:col for each problem.
func loadScenario(path string) (*scenario.Scenario, error) {
	s, err := scenario.Load(path)
	if err != nil {
		return nil, usageErr(err)
	}
	if err := checkThresholds(path, s); err != nil {
		return nil, usageErr(err)
	}
	return s, nil
}

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files (for editors)",
		Example: `  kmsload schema > scenario.schema.json
  # then, first line of a scenario file, for yaml-language-server:
  # yaml-language-server: $schema=scenario.schema.json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(scenario.Schema())
			return err
		},
	}
}
