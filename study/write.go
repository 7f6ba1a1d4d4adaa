package study

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kmsload/kmsload/internal/textout"
)

// WriteText prints the comparison of ls: one row per layout, one row per
// workload, then the verdict lines of each layout.
func WriteText(w io.Writer, ls []Layout) error {
	ew := &textout.Writer{W: w}
	ew.Printf("Layouts (coupling = 1 - goodput together / goodput alone; thr%% = throttled attempts / attempts; cost at real size)\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  layout\tworkloads\tbuckets\tmax coupling\tworst thr%\tworst p99ms\tlargest blast radius\tcost/month")
	for _, l := range ls {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", l.Name, len(l.Workloads), len(l.Buckets),
			couplingCell(l.HasCoupling, l.MaxCoupling, l.MaxCouplingWorkload),
			fmt.Sprintf("%.1f (%s)", 100*l.WorstThrottled, l.WorstThrottledWorkload),
			fmt.Sprintf("%.1f (%s)", l.WorstP99Ms, l.WorstP99Workload),
			l.Blast, costCell(l.MonthlyCostUSD))
	}
	tw.Flush()
	ew.Printf("\nWorkloads\n")
	tw = tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  layout\tworkload\tcaller\tkey\tbucket\tcoupling%\tthr%\tp99ms\tgoodput/s")
	for _, l := range ls {
		for _, wl := range l.Workloads {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\n", l.Name, wl.Name, wl.Caller, orDash(wl.Key), wl.Bucket,
				pctCell(wl.HasCoupling, wl.Coupling), 100*wl.ThrottledShare, wl.P99Ms, wl.GoodputPerS)
		}
	}
	tw.Flush()
	ew.Printf("\nVerdicts\n")
	for _, l := range ls {
		ew.Printf("  %s\n", l.Name)
		if l.Claim != "" {
			ew.Printf("    claim:    %s\n", l.Claim)
		}
		for i, v := range l.Verdict {
			label := "          "
			if i == 0 {
				label = "measured: "
			}
			ew.Printf("    %s%s\n", label, v)
		}
	}
	return ew.Err
}

// WriteMarkdown writes ls as a Markdown document: a comparison table, one
// verdict line per claim, and per layout the claim, the measured table,
// the verdict and what it means for capacity planning. title heads the
// document; intro follows it as a paragraph ("" for none).
func WriteMarkdown(w io.Writer, title, intro string, ls []Layout) error {
	ew := &textout.Writer{W: w}
	ew.Printf("# %s\n\n", md(title))
	if intro != "" {
		ew.Printf("%s\n\n", intro)
	}
	ew.Printf("## Comparison\n\n")
	ew.Printf("Coupling = 1 − goodput together / goodput alone; throttled = throttled attempts / attempts; cost per month at real size. ")
	ew.Printf("Rates and quotas run at each scenario's scale.\n\n")
	ew.Printf("| layout | workloads | buckets | max coupling | worst throttled | worst p99 | largest blast radius (one key) | cost/month |\n")
	ew.Printf("|---|--:|--:|---|---|---|---|--:|\n")
	for _, l := range ls {
		ew.Printf("| [%s](#%s) | %d | %d | %s | %s | %s | %s | %s |\n", md(l.Name), anchor(l.Name), len(l.Workloads), len(l.Buckets),
			md(couplingCell(l.HasCoupling, l.MaxCoupling, l.MaxCouplingWorkload)),
			md(fmt.Sprintf("%.1f%% (%s)", 100*l.WorstThrottled, l.WorstThrottledWorkload)),
			md(fmt.Sprintf("%.0f ms (%s)", l.WorstP99Ms, l.WorstP99Workload)),
			md(l.Blast.String()), costCell(l.MonthlyCostUSD))
	}
	ew.Printf("\n## Verdicts\n\n")
	for _, l := range ls {
		ew.Printf("- **%s**: %s\n", md(l.Name), md(strings.Join(l.Verdict, " ")))
	}
	for _, l := range ls {
		ew.Printf("\n## %s\n\n", md(l.Name))
		if l.Claim != "" {
			ew.Printf("**Claim.** %s\n\n", md(l.Claim))
		}
		ew.Printf("**Measured** (`%s`, scale %g, %.0f s windows, each workload alone and then all together):\n\n", l.File, l.Scale, l.DurationS)
		ew.Printf("| workload | caller | key | bucket | coupling | throttled | p99 | goodput/s |\n")
		ew.Printf("|---|---|---|---|--:|--:|--:|--:|\n")
		for _, wl := range l.Workloads {
			ew.Printf("| %s | %s | %s | `%s` | %s | %.1f%% | %.0f ms | %.1f |\n", md(wl.Name), md(wl.Caller), md(orDash(wl.Key)), wl.Bucket,
				pctCell(wl.HasCoupling, wl.Coupling)+pctSign(wl.HasCoupling), 100*wl.ThrottledShare, wl.P99Ms, wl.GoodputPerS)
		}
		ew.Printf("\n**Verdict.**\n\n")
		for _, v := range l.Verdict {
			ew.Printf("- %s\n", md(v))
		}
		if len(l.Planning) > 0 {
			ew.Printf("\n**Capacity planning.**\n\n")
			for _, p := range l.Planning {
				ew.Printf("- %s\n", md(p))
			}
		}
	}
	return ew.Err
}

func couplingCell(has bool, c float64, w string) string {
	if !has {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%s)", 100*c, w)
}

func pctCell(has bool, v float64) string {
	if !has {
		return "-"
	}
	return fmt.Sprintf("%.1f", 100*v)
}

func pctSign(has bool) string {
	if has {
		return "%"
	}
	return ""
}

func costCell(usd float64) string {
	if usd < 0 {
		return "-"
	}
	return "$" + textout.Thousands(usd)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// anchor returns the GitHub heading anchor of a layout name.
func anchor(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", "-"))
}

var mdReplacer = strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;")

// md escapes s for Markdown text and table cells.
func md(s string) string { return mdReplacer.Replace(s) }
