package scenario

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Trace is recorded traffic: for each named series, the number of
// requests in every step (one second) from the start of the recording.
// Workloads with arrival: trace replay the series of their own name. A
// trace is read from the file a scenario's trace: field names, and
// written by `kmsload import`.
//
// The file is text, plain or gzipped (told by content):
//
//	kmsload-trace 1
//	step 1s
//	start 2026-11-30T09:00:00Z
//	series orders-api 0*120 5 7 7 3*2
//	series orders-api 4 4 0*3595
//	throttled orders-api 0*120 0 2 0*3
//	attempts orders-api 0*120 5 9 7 3*2
//
// A count is a number not below zero; N*R is the count N repeated R
// times. A series may continue over several lines, each adding its counts
// after the ones before. Lines starting with # are comments. start says
// when the first step was recorded (informational). A throttled line
// gives the ThrottlingException events a recording held for a series,
// which it does not replay: calibration compares them with a
// simulation's, out of the attempts an attempts line gives (every
// recorded attempt, served or throttled, retries included) when they
// differ from the series.
type Trace struct {
	// Start is when the first step was recorded (zero when unknown).
	Start time.Time
	// Step is the length of one count (1s).
	Step time.Duration
	// Series by name; Names in the order the file gives them.
	Series map[string]*Series
	Names  []string
	// Throttled holds, by series name, the throttled calls the recording
	// saw (ThrottlingException events), when it says.
	Throttled map[string]*Series
	// Attempts holds, by series name, every attempt the recording saw
	// (served or throttled, retries included), when it differs from the
	// series replayed.
	Attempts map[string]*Series
}

// Series is one workload's recorded request counts, one per step.
type Series struct {
	Name   string
	Step   time.Duration
	Counts []float32
}

// Limits of a trace file.
const (
	// TraceStep is the only step length a trace has today.
	TraceStep = time.Second
	// MaxTraceSteps bounds the total counts of a trace (all series), so
	// that a broken file cannot exhaust memory: a day of 500 series.
	MaxTraceSteps = 500 * 86400
	traceMagic    = "kmsload-trace 1"
	maxTraceLine  = 16 << 20
)

// Total is the number of requests the series records.
func (s *Series) Total() float64 {
	var n float64
	for _, c := range s.Counts {
		n += float64(c)
	}
	return n
}

// Peak is the highest count of any step.
func (s *Series) Peak() float64 {
	var m float32
	for _, c := range s.Counts {
		m = max(m, c)
	}
	return float64(m)
}

// Duration is the length the series covers.
func (s *Series) Duration() time.Duration { return time.Duration(len(s.Counts)) * s.Step }

// Duration is the length of the longest series.
func (t *Trace) Duration() time.Duration {
	var d time.Duration
	for _, s := range t.Series {
		d = max(d, s.Duration())
	}
	return d
}

// Add appends counts to series name, creating it.
func (t *Trace) Add(name string, counts ...float32) {
	if t.Series == nil {
		t.Series = map[string]*Series{}
	}
	if t.Series[name] == nil {
		t.Names = append(t.Names, name)
	}
	t.Series[name] = addCounts(t.Series[name], name, t.Step, counts)
}

// AddThrottled appends recorded throttled calls to series name's.
func (t *Trace) AddThrottled(name string, counts ...float32) {
	if t.Throttled == nil {
		t.Throttled = map[string]*Series{}
	}
	t.Throttled[name] = addCounts(t.Throttled[name], name, t.Step, counts)
}

// AddAttempts appends recorded attempts to series name's.
func (t *Trace) AddAttempts(name string, counts ...float32) {
	if t.Attempts == nil {
		t.Attempts = map[string]*Series{}
	}
	t.Attempts[name] = addCounts(t.Attempts[name], name, t.Step, counts)
}

// RecordedAttempts is every attempt the recording saw for series name:
// its attempts line, else the series itself.
func (t *Trace) RecordedAttempts(name string) *Series {
	if a := t.Attempts[name]; a != nil {
		return a
	}
	return t.Series[name]
}

func addCounts(s *Series, name string, step time.Duration, counts []float32) *Series {
	if s == nil {
		s = &Series{Name: name, Step: step}
	}
	s.Counts = append(s.Counts, counts...)
	return s
}

// TraceError is a problem in a trace file, at a 1-based line and column.
type TraceError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *TraceError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ReadTrace reads a trace file from r, naming file in errors (which are
// *TraceError).
func ReadTrace(file string, r io.Reader) (*Trace, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, &TraceError{File: file, Msg: "gzip: " + err.Error()}
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	tr := &traceReader{file: file, t: &Trace{Step: TraceStep}}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), maxTraceLine)
	for sc.Scan() {
		tr.line++
		if err := tr.parseLine(sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &TraceError{File: file, Line: tr.line + 1, Col: 1, Msg: err.Error()}
	}
	if !tr.magic {
		return nil, &TraceError{File: file, Msg: "not a kmsload trace (want the first line " + traceMagic + ")"}
	}
	return tr.t, nil
}

// traceReader parses a trace file line by line.
type traceReader struct {
	file  string
	line  int
	magic bool
	steps int
	t     *Trace
}

func (r *traceReader) errorf(col int, format string, a ...any) error {
	return &TraceError{File: r.file, Line: r.line, Col: col, Msg: fmt.Sprintf(format, a...)}
}

func (r *traceReader) parseLine(line string) error {
	body := strings.TrimSpace(line)
	if body == "" || strings.HasPrefix(body, "#") {
		return nil
	}
	if !r.magic {
		if body != traceMagic {
			return r.errorf(1, "not a kmsload trace (want the first line %s)", traceMagic)
		}
		r.magic = true
		return nil
	}
	word, rest, _ := strings.Cut(body, " ")
	switch word {
	case "step":
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d != TraceStep {
			return r.errorf(6, "step %q: only 1s is supported", strings.TrimSpace(rest))
		}
	case "start":
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(rest))
		if err != nil {
			return r.errorf(7, "start: want an RFC 3339 time such as 2026-11-30T09:00:00Z: %v", err)
		}
		r.t.Start = t.UTC()
	case "series", "throttled", "attempts":
		return r.series(line, word)
	default:
		return r.errorf(1, "unknown line %q (want step, start, series, throttled or attempts)", clip(word))
	}
	return nil
}

// series parses the counts of one series line.
func (r *traceReader) series(line, kind string) error {
	toks := tokens(line)
	word := toks[0].s
	// A series may have no counts, but it has a name.
	if toks = toks[1:]; len(toks) == 0 {
		return r.errorf(1, "%s: want a name and counts", word)
	}
	name := toks[0].s
	if !nameRE.MatchString(name) {
		return r.errorf(toks[0].col, "series name %q: letters, digits, - and _ only", clip(name))
	}
	var counts []float32
	for _, tok := range toks[1:] {
		c, n, err := parseCount(tok.s)
		if err != nil {
			return r.errorf(tok.col, "%s %s: %v", word, name, err)
		}
		if r.steps += n; r.steps > MaxTraceSteps {
			return r.errorf(tok.col, "the trace holds more than %d counts", MaxTraceSteps)
		}
		for range n {
			counts = append(counts, c)
		}
	}
	switch kind {
	case "throttled":
		r.t.AddThrottled(name, counts...)
	case "attempts":
		r.t.AddAttempts(name, counts...)
	default:
		r.t.Add(name, counts...)
	}
	return nil
}

// token is a word of a line and its 1-based column.
type token struct {
	s   string
	col int
}

// tokens splits line at spaces and tabs.
func tokens(line string) []token {
	var out []token
	for i := 0; i < len(line); {
		if line[i] == ' ' || line[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		out = append(out, token{line[i:j], i + 1})
		i = j
	}
	return out
}

// parseCount parses N or N*R.
func parseCount(tok string) (float32, int, error) {
	num, rep, repeated := strings.Cut(tok, "*")
	c, err := strconv.ParseFloat(num, 32)
	if err != nil || !(c >= 0) || math.IsInf(c, 0) {
		return 0, 0, fmt.Errorf("count %q: want a number not below 0, or N*R", clip(tok))
	}
	n := 1
	if repeated {
		n, err = strconv.Atoi(rep)
		if err != nil || n < 1 || n > MaxTraceSteps {
			return 0, 0, fmt.Errorf("count %q: the repeat R of N*R must be from 1 to %d", clip(tok), MaxTraceSteps)
		}
	}
	return float32(c), n, nil
}

// traceLineSteps is how many steps WriteTo puts on one line (an hour).
const traceLineSteps = 3600

// WriteTo writes t in the trace file format, each series in lines of an
// hour of counts, runs of equal counts written N*R.
func (t *Trace) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	cw := &countingWriter{w: bw}
	fmt.Fprintf(cw, "%s\nstep %s\n", traceMagic, t.Step)
	if !t.Start.IsZero() {
		fmt.Fprintf(cw, "start %s\n", t.Start.UTC().Format(time.RFC3339))
	}
	for _, name := range t.Names {
		writeSeries(cw, "series", name, t.Series[name].Counts)
	}
	for _, name := range slices.Sorted(maps.Keys(t.Throttled)) {
		writeSeries(cw, "throttled", name, t.Throttled[name].Counts)
	}
	for _, name := range slices.Sorted(maps.Keys(t.Attempts)) {
		writeSeries(cw, "attempts", name, t.Attempts[name].Counts)
	}
	if cw.err == nil {
		cw.err = bw.Flush()
	}
	return cw.n, cw.err
}

// writeSeries writes the lines of one series.
func writeSeries(w io.Writer, word, name string, c []float32) {
	if len(c) == 0 {
		fmt.Fprintf(w, "%s %s\n", word, name)
	}
	for i := 0; i < len(c); i += traceLineSteps {
		fmt.Fprintf(w, "%s %s", word, name)
		writeCounts(w, c[i:min(i+traceLineSteps, len(c))])
		fmt.Fprintln(w)
	}
}

// writeCounts writes counts with runs as N*R.
func writeCounts(w io.Writer, c []float32) {
	for i := 0; i < len(c); {
		j := i + 1
		for j < len(c) && c[j] == c[i] {
			j++
		}
		v := strconv.FormatFloat(float64(c[i]), 'g', -1, 32)
		if j-i > 1 {
			fmt.Fprintf(w, " %s*%d", v, j-i)
		} else {
			fmt.Fprintf(w, " %s", v)
		}
		i = j
	}
}

// countingWriter counts bytes and keeps the first error.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// trace reads the scenario's trace file, relative to the scenario file's
// directory, adds its bytes to h (the scenario's digest covers the traffic
// it replays), gives each trace workload its series and, when the file
// sets no duration, makes the duration the trace's.
func (d *decoder) trace(s *Scenario, h io.Writer) {
	if s.Trace == "" || d.bad["trace"] {
		return
	}
	data, err := d.readFile(s.Trace)
	if err != nil {
		d.errorAt("trace", "cannot read the trace: %v", err)
		return
	}
	h.Write([]byte("\x00trace\x00"))
	h.Write(data)
	t, err := ReadTrace(s.Trace, bytes.NewReader(data))
	if err != nil {
		d.errorAt("trace", "%v", err)
		return
	}
	s.Recording = t
	for i := range s.Workloads {
		if w := &s.Workloads[i]; w.Arrival == ArrivalTrace {
			w.Series = t.Series[w.Name]
		}
	}
	if _, given := d.pos["duration"]; !given {
		s.Duration = t.Duration()
	}
}
