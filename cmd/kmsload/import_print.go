package main

import (
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/internal/textout"
)

var thousands = textout.Thousands

// writeTraceFile writes res's trace, gzipped when the name ends .gz.
func writeTraceFile(path string, res *importer.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	var w io.Writer = f
	var gz *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		gz = gzip.NewWriter(f)
		w = gz
	}
	_, err = res.Trace.WriteTo(w)
	if gz != nil && err == nil {
		err = gz.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("import: writing %s: %w", path, err)
	}
	return nil
}

// printReadSummary says what was read, skipped and left out, and why.
func printReadSummary(w io.Writer, src importSource, is importer.Summary, took time.Duration) {
	out := &textout.Writer{W: w}
	out.Printf("kmsload import: %s KMS calls in %.1f s", thousands(float64(is.Events)), took.Seconds())
	if took > time.Second {
		out.Printf(" (%s/s)", thousands(float64(is.Events)/took.Seconds()))
	}
	out.Printf("\n")
	rows := src.rows()
	if is.OutsideWindow > 0 {
		rows = append(rows, fmt.Sprintf("outside window\t%s", thousands(float64(is.OutsideWindow))))
	}
	if is.Duplicates > 0 {
		rows = append(rows, fmt.Sprintf("second copies\t%s (a cross-account call is logged in two accounts with one sharedEventID: counted once)", thousands(float64(is.Duplicates))))
	}
	if len(is.NotReplayed) > 0 {
		var parts []string
		for _, op := range slices.Sorted(maps.Keys(is.NotReplayed)) {
			parts = append(parts, fmt.Sprintf("%s %s", op, thousands(float64(is.NotReplayed[op]))))
		}
		rows = append(rows, fmt.Sprintf("not replayed\t%s (calls a workload cannot make)", strings.Join(parts, ", ")))
	}
	if is.Throttled > 0 {
		rows = append(rows, fmt.Sprintf("throttled\t%s ThrottlingException events", thousands(float64(is.Throttled))))
	}
	if is.UnresolvedKey > 0 {
		rows = append(rows, fmt.Sprintf("key not named\t%s calls whose record named no key that could be told: given to the key their caller used most", thousands(float64(is.UnresolvedKey))))
	}
	for _, d := range is.Dropped {
		rows = append(rows, "left out\t"+d)
	}
	out.Aligned("  ", rows)
	skipped := src.skipped()
	for _, k := range skipped[:min(len(skipped), 10)] {
		out.Printf("    %s\n", k)
	}
	if len(skipped) > 10 {
		out.Printf("    ... %d more lines\n", len(skipped)-10)
	}
}

// throttledNote says what the trace replays where KMS throttled.
func throttledNote(mode string) string {
	switch mode {
	case importer.ThrottledServed:
		return "only the calls KMS served are replayed (less than the callers asked where it throttled)"
	case importer.ThrottledReplay:
		return "every recorded attempt is replayed, retries included, with the SDK's retries off"
	}
	return "the callers' requests are replayed, estimated from the recorded attempts; the SDK's retries make the attempts again"
}

// printImport prints the read summary and the workloads written.
func printImport(w io.Writer, src importSource, res *importer.Result, took time.Duration) {
	printReadSummary(w, src, res.Summary, took)
	out := &textout.Writer{W: w}
	out.Printf("  window          %s to %s (%s)\n", res.Start.Format(time.RFC3339), res.End.Format(time.RFC3339), res.End.Sub(res.Start))
	if res.Summary.Throttled > 0 {
		out.Printf("  throttling      %s\n", throttledNote(res.Throttled))
	}
	var peak float64
	for _, series := range res.Trace.Series {
		peak += series.Peak()
	}
	out.Printf("  scale           %g (the workloads' busiest seconds add up to %s/s)\n\n", res.Scale, thousands(peak))
	rows := []string{"workload\trequests\tbusiest/s\tthrottled\terrors"}
	for _, wl := range res.Workloads {
		var errs []string
		for _, code := range slices.Sorted(maps.Keys(wl.Errors)) {
			errs = append(errs, fmt.Sprintf("%s %d", code, wl.Errors[code]))
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%s\t%s", wl.Name, thousands(wl.Requests), thousands(wl.Peak),
			thousands(wl.Throttled), cmp.Or(strings.Join(errs, ", "), "-")))
	}
	out.Printf("Workloads (requests replayed; throttled: ThrottlingException events recorded)\n")
	out.Aligned("  ", rows)
}
