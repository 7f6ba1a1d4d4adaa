package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/trail"
)

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Turn recorded KMS traffic (CloudTrail) into a scenario that replays it",
		Long: `Import reads an organisation's recorded KMS traffic and writes a scenario
whose workloads replay it second by second (arrival: trace), with the
accounts, Regions and keys the traffic used. Simulate or run the scenario
to see how the layout holds the traffic; study it with variants to try
another layout on the same traffic.`,
	}
	cmd.AddCommand(newImportCloudTrailCmd(), newImportCloudWatchCmd())
	return cmd
}

// importFlags are the flags of kmsload import cloudtrail.
type importFlags struct {
	out, trace, name, from, to, scrubKey string
	opts                                 importer.Options
	scale                                float64
	force, check                         bool
	cal                                  calibrateFlags
}

func newImportCloudTrailCmd() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "cloudtrail PATH... -o SCENARIO.yaml",
		Short: "Import CloudTrail log files (S3 delivery, Lake or Athena exports)",
		Long: `Import cloudtrail reads CloudTrail log files - a trail bucket's tree as
delivered to S3 ({"Records": [...]}, .json or .json.gz, in any order),
or CloudTrail Lake and Athena exports as JSON lines - and writes a scenario
and, beside it, the trace its workloads replay. PATH is a file or a
directory (read recursively); - reads standard input.

Calls are grouped into workloads by caller account x principal (the role,
user or AWS service; a role's session name is dropped) x operation x key x
Region; --group service or account groups coarser. The account a call
counts against is the caller's (userIdentity.accountId); the key and its
owner come from the record's resources (the key ARN), or from the keyId
the caller named, resolved through the caller's other calls. A call whose
record names no key that can be told (throttled calls often do not) is
given to the key its caller used most for the operation.

What is replayed:
  - every data-plane call a workload can make (Encrypt, Decrypt,
    GenerateDataKey, Sign, DescribeKey, ...), failed ones included; other
    calls (CreateGrant, ListAliases, ...) are counted and left out;
  - a call logged in two accounts (cross-account: the caller's and the key
    owner's trails, one sharedEventID) once;
  - where KMS throttled, the trail holds attempts (the calls served and
    the ThrottlingException events, retries among them), not the requests
    callers made. By default (--throttled estimate) the requests are
    estimated: with a share p of a workload's attempts throttled around a
    second, an SDK making up to m attempts (--max-attempts, 3) turns r
    requests into r(1+p+...+p^(m-1)) attempts, so r = attempts(1-p)/(1-p^m);
    replayed with the SDK's retries, they make the attempts again.
    --throttled served replays only what KMS served (less than the callers
    asked where it throttled); --throttled replay replays every recorded
    attempt with the SDK's retries off. The trace keeps the recorded
    attempts and throttles, per workload and second, for calibration.
Within each second the replay spreads a second's calls over equal slots,
each at a seeded random point of its slot (see arrival: trace).

Identities are scrubbed by default: principals become pseudonyms (role-,
user- and a keyed hash), encryption context keys and values too, and user
names, access key ids and source IPs are never written. The hash key is
random for each import unless --scrub-key (or KMSLOAD_SCRUB_KEY) gives
one, which makes pseudonyms the same across imports. --keep-identities
writes them as recorded. Account ids and key ARNs are kept: the layout is
what the scenario is about.

A bad record never stops the import: it is counted and named with its file
and record index in the summary. --check then calibrates the quota model
against the throttling the trail recorded (see kmsload calibrate).`,
		Example: `  kmsload import cloudtrail s3-trail-copy/AWSLogs -o prod.yaml
  kmsload import cloudtrail lake-export.jsonl -o burst.yaml --from 2026-11-30T09:00:00Z --to 2026-11-30T10:00:00Z
  kmsload import cloudtrail logs/ -o by-account.yaml --group account --compress 60
  kmsload import cloudtrail logs/ -o prod.yaml --check   # and calibrate
  kmsload simulate prod.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("import cloudtrail needs at least one PATH\nusage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return importThenCheck(cmd, &trailSource{paths: args}, f)
		},
	}
	f.addFlags(cmd.Flags())
	return cmd
}

// addFlags registers the flags every import takes.
func (f *importFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringVarP(&f.out, "out", "o", "imported.yaml", "scenario file to write")
	fl.StringVar(&f.trace, "trace", "", "trace file to write, relative to the scenario (default: the scenario's name with .trace; .gz gzips it)")
	fl.StringVar(&f.name, "name", "", "scenario name (default: the file's base name)")
	fl.StringVar(&f.from, "from", "", "read calls from this time on (RFC 3339, such as 2026-11-30T09:00:00Z)")
	fl.StringVar(&f.to, "to", "", "read calls before this time (RFC 3339)")
	fl.StringVar(&f.opts.Group, "group", importer.GroupPrincipal, "what tells workloads apart: principal, service (the AWS service calling for the caller, or direct) or account")
	fl.IntVar(&f.opts.Compress, "compress", 1, "put N recorded seconds into each replayed second (rates rise N times)")
	fl.BoolVar(&f.opts.KeepIdentities, "keep-identities", false, "write principals and encryption contexts as recorded (do not share the files)")
	fl.StringVar(&f.scrubKey, "scrub-key", "", "key of the pseudonyms, so that they are the same in every import (default: $KMSLOAD_SCRUB_KEY, else random)")
	fl.StringVar(&f.opts.Throttled, "throttled", importer.ThrottledEstimate, "where KMS throttled, replay: estimate (the callers' requests, estimated from the attempts), served (only the calls KMS served) or replay (every recorded attempt, with the SDK's retries off)")
	fl.IntVar(&f.opts.MaxAttempts, "max-attempts", importer.DefaultMaxAttempts, "attempts per request of the recorded callers' SDKs, for --throttled estimate (the SDK's standard mode makes 3)")
	fl.Float64Var(&f.scale, "scale", 0, "scenario scale (default: 1, or the power of ten that keeps the combined busiest second under 2,000/s)")
	fl.BoolVar(&f.force, "force", false, "overwrite existing scenario and trace files")
	fl.BoolVar(&f.check, "check", false, "then calibrate: put the throttling the trail recorded beside the model's (as kmsload calibrate; its exit codes)")
	f.cal.add(fl)
}

// importSource is what an import reads: a trail, or usage metrics.
type importSource interface {
	// read gives the importer every call, calling tick per event.
	read(im *importer.Importer, tick func()) error
	// describe says what was read, for the scenario's header.
	describe() string
	// rows are the summary's lines about the input (tab-separated), and
	// skipped the input left out, listed.
	rows() []string
	skipped() []string
}

// runImport reads src and writes the scenario and its trace.
func runImport(stdout, stderr io.Writer, src importSource, f importFlags) error {
	if err := f.complete(); err != nil {
		return usageErr(err)
	}
	im, err := importer.New(f.opts)
	if err != nil {
		return usageErr(err)
	}
	tracePath := filepath.Join(filepath.Dir(f.out), f.trace)
	if !f.force {
		for _, p := range []string{f.out, tracePath} {
			if _, err := os.Stat(p); err == nil {
				return usageErr(fmt.Errorf("%s exists: give --force to overwrite it, or another -o", p))
			}
		}
	}
	prog := &importProgress{w: stderr, start: time.Now(), next: time.Now().Add(5 * time.Second)}
	if err := src.read(im, prog.tick); err != nil {
		return err
	}
	res, err := im.Build(importer.BuildOptions{Name: f.name, TraceFile: f.trace, Scale: f.scale, Source: src.describe()})
	if errors.Is(err, importer.ErrEmpty) {
		printReadSummary(stdout, src, im.Summary(), time.Since(prog.start))
		return &exitError{code: exitRuntime, err: err}
	} else if err != nil {
		return err
	}
	if err := writeImport(f.out, tracePath, res); err != nil {
		return err
	}
	printImport(stdout, src, res, time.Since(prog.start))
	fmt.Fprintf(stdout, "\nwrote %s and %s (%d workloads over %s); next: kmsload simulate %s\n",
		f.out, tracePath, len(res.Workloads), res.Trace.Duration(), f.out)
	return nil
}

// trailSource is CloudTrail log files.
type trailSource struct {
	paths []string
	sum   trail.Summary
}

func (t *trailSource) read(im *importer.Importer, tick func()) error {
	var err error
	t.sum, err = readTrail(t.paths, func(e trail.Event) error { tick(); return im.Add(e) })
	return err
}

func (t *trailSource) describe() string { return source(t.paths, t.sum) }

func (t *trailSource) rows() []string {
	s := t.sum
	bad := ""
	if s.SkippedCount > 0 {
		bad = " (each left out; the first are listed below)"
	}
	return []string{
		fmt.Sprintf("read\t%d files, %s records", s.Files, thousands(float64(s.Records))),
		fmt.Sprintf("KMS events\t%s", thousands(float64(s.KMS))),
		fmt.Sprintf("other services\t%s (not KMS: left out)", thousands(float64(s.Other))),
		fmt.Sprintf("bad records\t%s%s", thousands(float64(s.SkippedCount)), bad),
	}
}

func (t *trailSource) skipped() []string {
	var out []string
	for _, k := range t.sum.Skipped {
		out = append(out, k.String())
	}
	if n := t.sum.SkippedCount - int64(len(t.sum.Skipped)); n > 0 {
		out = append(out, fmt.Sprintf("... and %s more", thousands(float64(n))))
	}
	return out
}

// importThenCheck imports src and, with --check, calibrates the scenario
// written.
func importThenCheck(cmd *cobra.Command, src importSource, f importFlags) error {
	if err := runImport(cmd.OutOrStdout(), cmd.ErrOrStderr(), src, f); err != nil || !f.check {
		return err
	}
	s, err := loadScenario(f.out)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout())
	return runCalibrate(cmd.Context(), cmd.OutOrStdout(), s, f.cal)
}

// complete fills the defaults that depend on other flags and parses the
// window.
func (f *importFlags) complete() error {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f.out), ".yaml"), ".yml")
	f.name = cmp.Or(f.name, base)
	f.trace = cmp.Or(f.trace, base+".trace")
	if filepath.IsAbs(f.trace) || strings.Contains(f.trace, string(filepath.Separator)) {
		return fmt.Errorf("--trace %q: give a file name; the trace is written beside the scenario", f.trace)
	}
	var err error
	if f.opts.From, err = parseWindowTime("--from", f.from); err != nil {
		return err
	}
	if f.opts.To, err = parseWindowTime("--to", f.to); err != nil {
		return err
	}
	if key := cmp.Or(f.scrubKey, os.Getenv("KMSLOAD_SCRUB_KEY")); key != "" {
		f.opts.ScrubKey = []byte(key)
	}
	if f.scale < 0 {
		return fmt.Errorf("--scale %g: must be above 0", f.scale)
	}
	return nil
}

func parseWindowTime(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-11-30T09:00:00Z", flag, v)
	}
	return t, nil
}

// readTrail reads paths, - being standard input.
func readTrail(paths []string, fn func(trail.Event) error) (trail.Summary, error) {
	if len(paths) == 1 && paths[0] == "-" {
		return trail.ReadStream("stdin", os.Stdin, fn)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return trail.Summary{}, usageErr(fmt.Errorf("import: %w", err))
		}
	}
	return trail.Read(paths, fn)
}

// importProgress prints a line every few seconds of a long import.
type importProgress struct {
	w           io.Writer
	start, next time.Time
	n           int64
}

func (p *importProgress) tick() {
	if p.n++; p.n%65536 != 0 || time.Now().Before(p.next) {
		return
	}
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "kmsload import: %s KMS events read (%s/s)\n", thousands(float64(p.n)), thousands(float64(p.n)/el))
	p.next = time.Now().Add(5 * time.Second)
}

func source(paths []string, s trail.Summary) string {
	what := strings.Join(paths, ", ")
	if len(what) > 80 {
		what = what[:77] + "..."
	}
	return fmt.Sprintf("%s (%d files, %d records)", what, s.Files, s.Records)
}

// writeImport writes the scenario and the trace, the trace first so that
// the scenario never names a trace that is not there.
func writeImport(scenarioPath, tracePath string, res *importer.Result) error {
	if err := writeTraceFile(tracePath, res); err != nil {
		return err
	}
	if err := os.WriteFile(scenarioPath, res.Scenario, 0o644); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}
