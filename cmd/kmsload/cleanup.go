package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/kmscall"
)

type cleanupFlags struct {
	runID    string
	list     bool
	scenario string
	accounts []string
	roles    []string
	regions  []string
	yes      bool
}

func newCleanupCmd() *cobra.Command {
	var f cleanupFlags
	cmd := &cobra.Command{
		Use:   "cleanup (--run-id ID | --list) [flags]",
		Short: "Find keys that real-AWS runs left and schedule them for deletion",
		Long: `Cleanup searches real AWS KMS for keys tagged kmsload:run-id, the tag every
key a --target aws run creates carries. A run schedules its own keys for
deletion at its end, on Ctrl-C and on a crash of its driver loop; cleanup
finishes what a killed run (kill -9, lost machine) left.

--list prints every run id found with its keys (state, creation time).
--run-id ID schedules each key of that run that is not already pending
deletion for deletion after 7 days, after confirmation (--yes to skip).

Where it searches: the accounts and Regions of --scenario (roles included),
plus --account (default credentials, which must belong to it), --role-arn
(assumed through STS) and --region; with none of them, the default
credentials' account in $AWS_REGION. It reads with ListKeys,
ListResourceTags and DescribeKey at 20 calls/s per API, and changes nothing
but keys carrying the tag.`,
		Example: `  kmsload cleanup --list --scenario my.yaml
  kmsload cleanup --run-id 20260102T150405Z-1a2b3c4d --scenario my.yaml
  kmsload cleanup --run-id 20260102T150405Z-1a2b3c4d --account 111111111111 --region us-east-1 --region eu-west-1 --yes`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCleanup(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.runID, "run-id", "", "schedule the keys of this run for deletion")
	fl.BoolVar(&f.list, "list", false, "list run ids and their keys; change nothing")
	fl.StringVar(&f.scenario, "scenario", "", "search the accounts (with their role_arn) and Regions of this scenario")
	fl.StringSliceVar(&f.accounts, "account", nil, "account id to search with the default credentials (repeatable)")
	fl.StringSliceVar(&f.roles, "role-arn", nil, "role to assume through STS; its account is searched (repeatable)")
	fl.StringSliceVar(&f.regions, "region", nil, "Region to search (repeatable; default: the scenario's, else $AWS_REGION)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "schedule without asking for confirmation")
	return cmd
}

func runCleanup(cmd *cobra.Command, f cleanupFlags) error {
	if f.list == (f.runID != "") {
		return usageErr(errors.New("give exactly one of --run-id ID and --list"))
	}
	var accts []guard.SweepAccount
	var regions []string
	if f.scenario != "" {
		s, err := loadScenario(f.scenario)
		if err != nil {
			return err
		}
		accts, regions = guard.SweepAccountsOf(s)
	}
	for _, a := range f.accounts {
		accts = append(accts, guard.SweepAccount{ID: a})
	}
	for _, r := range f.roles {
		parts := strings.SplitN(r, ":", 6)
		if len(parts) < 6 || parts[0] != "arn" {
			return usageErr(fmt.Errorf("--role-arn %q is not a role ARN", r))
		}
		accts = append(accts, guard.SweepAccount{ID: parts[4], RoleARN: r})
	}
	if len(f.regions) > 0 {
		regions = f.regions
	}
	if len(regions) == 0 {
		if r := cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")); r != "" {
			regions = []string{r}
		} else {
			return usageErr(errors.New("no Region to search: give --region, --scenario or AWS_REGION"))
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := stderrLogf
	sw, err := guard.NewSweep(ctx, nil, dedupAccounts(accts), regions, logf)
	if err != nil {
		return err
	}
	keys, err := sw.Find(ctx, f.runID)
	if err != nil {
		return err
	}
	stdout := cmd.OutOrStdout()
	if len(keys) == 0 {
		if f.list {
			fmt.Fprintln(stdout, "no keys tagged "+guard.RunIDTag)
		} else {
			fmt.Fprintf(stdout, "no keys tagged %s=%s\n", guard.RunIDTag, f.runID)
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "run id\taccount\tregion\tkey id\tstate\tcreated\tdeletion date")
	pending := 0
	for _, k := range keys {
		del := "-"
		if !k.DeletionDate.IsZero() {
			del = k.DeletionDate.UTC().Format(time.RFC3339)
		}
		if k.State != "PendingDeletion" && k.State != "PendingReplicaDeletion" {
			pending++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.RunID, k.Account, k.Region, k.KeyID, k.State,
			k.Created.UTC().Format(time.RFC3339), del)
	}
	tw.Flush()
	if f.list {
		return nil
	}
	if pending == 0 {
		fmt.Fprintln(stdout, "every key of the run is already pending deletion")
		return nil
	}
	if !f.yes {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return usageErr(errors.New("cleanup needs confirmation: stdin is not a terminal, so pass --yes"))
		}
		fmt.Fprintf(os.Stderr, "Schedule %d keys for deletion in %d days? [y/N] ", pending, kmscall.CleanupWindowDays)
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return usageErr(errors.New("not confirmed: nothing was changed"))
		}
	}
	n, err := sw.Schedule(ctx, keys)
	fmt.Fprintf(stdout, "scheduled %d keys for deletion (%d-day waiting period)\n", n, kmscall.CleanupWindowDays)
	return err
}

// dedupAccounts keeps the first entry of each account id, preferring one
// with a role.
func dedupAccounts(in []guard.SweepAccount) []guard.SweepAccount {
	idx := map[string]int{}
	var out []guard.SweepAccount
	for _, a := range in {
		if i, ok := idx[a.ID]; ok {
			if out[i].RoleARN == "" {
				out[i].RoleARN = a.RoleARN
			}
			continue
		}
		idx[a.ID] = len(out)
		out = append(out, a)
	}
	return out
}
