package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/scenario"
)

func newImportCloudWatchCmd() *cobra.Command {
	var f importFlags
	var cw usageSource
	cmd := &cobra.Command{
		Use:   "cloudwatch FILE[=ACCOUNT/REGION]... -o SCENARIO.yaml",
		Short: "Import KMS usage metrics (CloudWatch AWS/Usage CallCount) when there is no trail",
		Long: `Import cloudwatch reads KMS usage metrics as 'aws cloudwatch get-metric-data'
writes them - namespace AWS/Usage, metric CallCount, dimensions Service KMS,
Type API, Class None and Resource the operation, statistic Sum, one result
per operation - and writes a scenario and its trace, as import cloudtrail
does. It is coarser than a trail: the metrics say how many calls each
operation got per period, not who made them or on which key, so there is
one workload per account x Region x operation, on a stand-in key of the
account (symmetric; RSA_2048 for Sign and Verify, HMAC_256 for MACs), and
each period's calls are spread evenly over its seconds. A result names its
operation by its Label or Id (Decrypt, generate-data-key, ...).

The metrics do not say their account or Region: give them with --account
and --region, or per file as FILE=ACCOUNT/REGION.

  aws cloudwatch get-metric-data --start-time 2026-11-30T09:00:00Z \
    --end-time 2026-11-30T10:00:00Z --metric-data-queries file://queries.json \
    --region eu-west-1 > usage.json
  # queries.json: [{"Id": "decrypt", "Label": "Decrypt", "MetricStat": {"Metric":
  #   {"Namespace": "AWS/Usage", "MetricName": "CallCount", "Dimensions": [
  #   {"Name": "Service", "Value": "KMS"}, {"Name": "Type", "Value": "API"},
  #   {"Name": "Resource", "Value": "Decrypt"}, {"Name": "Class", "Value": "None"}]},
  #   "Period": 60, "Stat": "Sum"}}, ...]`,
		Example: `  kmsload import cloudwatch usage.json --account 111122223333 --region eu-west-1 -o prod.yaml
  kmsload import cloudwatch prod.json=111122223333/eu-west-1 dev.json=444455556666/eu-west-1 -o org.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("import cloudwatch needs at least one FILE\nusage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cw.files = args
			return importThenCheck(cmd, &cw, f)
		},
	}
	f.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&cw.account, "account", "", "12-digit account id of the metrics (files without =ACCOUNT/REGION)")
	cmd.Flags().StringVar(&cw.region, "region", "", "Region of the metrics (files without =ACCOUNT/REGION)")
	cmd.Flags().DurationVar(&cw.period, "period", time.Minute, "period of the data points (the queries' Period)")
	return cmd
}

// usageSource is CloudWatch usage metrics files.
type usageSource struct {
	files           []string
	account, region string
	period          time.Duration
	sum             importer.UsageSummary
}

func (u *usageSource) read(im *importer.Importer, tick func()) error {
	for _, arg := range u.files {
		file, acct, region, err := u.target(arg)
		if err != nil {
			return usageErr(err)
		}
		fh, err := os.Open(file)
		if err != nil {
			return usageErr(fmt.Errorf("import: %w", err))
		}
		s, err := im.ReadUsage(file, fh, acct, region, u.period)
		fh.Close()
		if err != nil {
			return usageErr(err)
		}
		u.sum.Results += s.Results
		u.sum.Points += s.Points
		u.sum.Skipped = append(u.sum.Skipped, s.Skipped...)
		tick()
	}
	return nil
}

// target is a FILE[=ACCOUNT/REGION] argument's file, account and Region.
func (u *usageSource) target(arg string) (file, acct, region string, err error) {
	file, where, named := strings.Cut(arg, "=")
	acct, region = u.account, u.region
	if named {
		acct, region, _ = strings.Cut(where, "/")
	}
	switch {
	case len(acct) != 12 || strings.Trim(acct, "0123456789") != "":
		return "", "", "", fmt.Errorf("%s: want a 12-digit account id (--account or FILE=ACCOUNT/REGION), got %q", file, acct)
	case !scenario.ValidRegion(region):
		return "", "", "", fmt.Errorf("%s: want a Region such as eu-west-1 (--region or FILE=ACCOUNT/REGION), got %q", file, region)
	}
	return file, acct, region, nil
}

func (u *usageSource) describe() string {
	return fmt.Sprintf("CloudWatch usage metrics %s (%d results)", strings.Join(u.files, ", "), u.sum.Results)
}

func (u *usageSource) rows() []string {
	return []string{
		fmt.Sprintf("read\t%d files, %d metric results, %s data points", len(u.files), u.sum.Results, thousands(float64(u.sum.Points))),
		fmt.Sprintf("left out\t%d results or points (listed below)", len(u.sum.Skipped)),
	}
}

func (u *usageSource) skipped() []string { return u.sum.Skipped }
