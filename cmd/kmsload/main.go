// Command kmsload load-tests AWS KMS key layouts: it replays scenario files
// open-loop through the AWS SDK against an embedded KMS emulator with AWS's
// quota rules, another KMS endpoint, or real KMS, and reports latency,
// throttling and coupling per workload and per quota bucket.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes, as documented in the README.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
	// exitInconclusive: compare could not tell whether the new run
	// regressed.
	exitInconclusive = 98
	// exitThresholds: the run's verdict failed.
	exitThresholds = 99
	// exitRegression: compare found a regression.
	exitRegression = 99
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// stderrLogf prints one line, prefixed "kmsload: ", to stderr.
func stderrLogf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kmsload: "+format+"\n", args...)
}

// usageErr marks err as bad usage or an invalid scenario (exit 2).
func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

// gcPercent is the garbage collector's target when GOGC is not set: the
// driver's SDK calls and the emulator's handlers allocate tens of KB per
// request over a live heap of a few MB, so the default (100) collects many
// times a second at high rates. 400 trades some MB of heap for CPU.
const gcPercent = 400

// defaultGCPercent sets the garbage collector's target to p unless the
// environment's GOGC chose one.
func defaultGCPercent(p int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(p)
	}
}

func main() {
	defaultGCPercent(gcPercent)
	root := newRootCmd()
	err := root.Execute()
	if err == nil {
		os.Exit(exitOK)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "kmsload:", ee.err)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "kmsload:", err)
	os.Exit(exitRuntime)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "kmsload",
		Short: "Load-test AWS KMS key layouts against AWS's quota rules",
		Long: `kmsload turns claims about AWS KMS key layouts into measurements.

A scenario file describes accounts, keys and workloads. kmsload replays the
workloads open-loop through aws-sdk-go-v2 against an embedded KMS emulator
that applies AWS's request quotas (per caller account, Region and class),
and reports latency, throttling and coupling per workload and quota bucket.

Exit codes: 0 ok, 1 runtime error, 2 bad usage or invalid scenario,
99 a FAIL verdict (a threshold failed, or a workload's failures other than
throttling exceeded the error budget); compare: 98 inconclusive,
99 regression.`,
		Example: `  kmsload validate scenarios/*.yaml
  kmsload plan scenarios/quickstart.yaml
  kmsload run scenarios/quickstart.yaml --isolate
  kmsload simulate scenarios/quickstart.yaml --scale 1 --duration 1h
  kmsload compare base/results.json new/results.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath()))
	})
	root.AddCommand(newRunCmd(), newValidateCmd(), newSchemaCmd(), newEmulatorCmd(), newReportCmd(), newVersionCmd(), newCompareCmd(), newPlanCmd())
	root.AddCommand(newCleanupCmd())
	root.AddCommand(newStudyCmd())
	root.AddCommand(newAgentCmd())
	root.AddCommand(newSimulateCmd(), newCapacityCmd())
	root.AddCommand(newImportCmd(), newCalibrateCmd())
	return root
}

// exactArgs is cobra.ExactArgs with a usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageErr(fmt.Errorf("%w\nusage: %s", err, cmd.UseLine()))
		}
		return nil
	}
}
