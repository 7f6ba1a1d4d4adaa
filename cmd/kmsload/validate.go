package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/scenario"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate SCENARIO.yaml...",
		Short: "Check scenario files strictly; report every problem as file:line:col",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("validate needs at least one scenario file\nusage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, path := range args {
				s, err := loadScenario(path)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d accounts, %d keys, %d workloads, %d events)\n",
					path, len(s.Accounts), len(s.Keys), len(s.Workloads), len(s.Events))
			}
			if bad > 0 {
				return &exitError{code: exitUsage, err: fmt.Errorf("%d of %d scenario files invalid", bad, len(args))}
			}
			return nil
		},
	}
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
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(scenario.Schema())
			return err
		},
	}
}
