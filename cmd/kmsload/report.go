package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

func newReportCmd() *cobra.Command {
	var htmlOut string
	cmd := &cobra.Command{
		Use:   "report RESULTS.json",
		Short: "Print the summary of a stored run",
		Long: `Report prints the text summary of a stored run. With --html FILE it also
writes the HTML report (charts and tables in one self-contained file) to
FILE; --html - writes the HTML to standard output instead of the summary.`,
		Example: `  kmsload report kmsload-results/results.json
  kmsload report kmsload-results/results.json --html report.html`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return usageErr(err)
			}
			defer f.Close()
			res, err := report.ReadJSON(f)
			if err != nil {
				return usageErr(fmt.Errorf("%s: %w", args[0], err))
			}
			switch htmlOut {
			case "":
			case "-":
				return render.WriteHTML(cmd.OutOrStdout(), res)
			default:
				if err := writeFile(htmlOut, func(w io.Writer) error {
					return render.WriteHTML(w, res)
				}); err != nil {
					return err
				}
			}
			return render.WriteText(cmd.OutOrStdout(), res)
		},
	}
	cmd.Flags().StringVar(&htmlOut, "html", "", "also write the HTML report to this file (- for standard output, instead of the summary)")
	return cmd
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kmsload's version and its Go and AWS SDK versions",
		Args:  exactArgs(0),
		Run: func(cmd *cobra.Command, args []string) {
			v := versions()
			for _, k := range slices.Sorted(maps.Keys(v)) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", k, v[k])
			}
		},
	}
}

// versions returns kmsload's, Go's and the AWS SDK's versions from the
// build information.
func versions() map[string]string {
	v := map[string]string{"go": runtime.Version(), "kmsload": "(devel)"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v["kmsload"] = bi.Main.Version
		}
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-sdk-go-v2/service/kms":
				v[d.Path] = d.Version
			}
		}
	}
	return v
}
