package trail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// MaxSkippedKept is how many bad records a Summary lists; it counts them
// all.
const MaxSkippedKept = 100

// maxLine bounds one JSON line of an export.
const maxLine = 4 << 20

// Skipped is a record or a file the reader could not use, and why. Index
// is the record's position in its file (0-based), -1 for a whole file.
type Skipped struct {
	File   string
	Index  int
	Reason string
}

func (s Skipped) String() string {
	if s.Index < 0 {
		return fmt.Sprintf("%s: %s", s.File, s.Reason)
	}
	return fmt.Sprintf("%s: record %d: %s", s.File, s.Index, s.Reason)
}

// Summary counts what a Read saw.
type Summary struct {
	// Files read, and records in them.
	Files   int
	Records int64
	// KMS events delivered; Other events of other services, skipped.
	KMS, Other int64
	// Skipped lists bad records and unreadable files (at most
	// MaxSkippedKept); SkippedCount counts them all.
	Skipped      []Skipped
	SkippedCount int64
}

func (s *Summary) skip(file string, index int, reason string) {
	s.SkippedCount++
	if len(s.Skipped) < MaxSkippedKept {
		s.Skipped = append(s.Skipped, Skipped{File: file, Index: index, Reason: reason})
	}
}

// Read streams the KMS events of paths to fn: each path a file or a
// directory, read recursively with its entries in name order. Files ending
// .json, .jsonl, .csv, .json.gz, .jsonl.gz or .csv.gz are read (gzip by
// content, not name); others are left out. A JSON file holds either
// CloudTrail's delivery format, {"Records": [...]}, or one event object
// per line (CloudTrail Lake and Athena exports); a CSV file is a Lake or
// Athena export under a header row that names its columns. Records come
// in file order; nothing is sorted, so callers must not assume time order
// across files. A bad
// record or an unreadable file is counted in the Summary with its file and
// index and the read goes on; only fn's error stops it.
func Read(paths []string, fn func(Event) error) (Summary, error) {
	var s Summary
	dec := newDecoder()
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				s.skip(path, -1, err.Error())
				return nil
			}
			if d.IsDir() || !logFile(path) {
				return nil
			}
			return readFile(path, &s, fn, dec)
		})
		if st, ok := errors.AsType[errStop](err); ok {
			return s, st.err
		} else if err != nil {
			return s, err
		}
	}
	return s, nil
}

// logFile reports whether path is named like a log file Read reads.
func logFile(path string) bool {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(path)), ".gz")
	return strings.HasSuffix(base, ".json") || strings.HasSuffix(base, ".jsonl") || strings.HasSuffix(base, ".csv")
}

var recordsStart = regexp.MustCompile(`^\s*\{\s*"Records"\s*:`)

// readFile reads one file; only fn's error is returned.
func readFile(path string, s *Summary, fn func(Event) error, d *decoder) error {
	f, err := os.Open(path)
	if err != nil {
		s.skip(path, -1, err.Error())
		return nil
	}
	defer f.Close()
	return readStream(path, f, s, fn, d)
}

// ReadStream is Read of one stream, such as standard input, named name in
// the Summary; a name ending .csv or .csv.gz makes it a CSV export.
func ReadStream(name string, r io.Reader, fn func(Event) error) (Summary, error) {
	return readStreamWith(name, r, fn, newDecoder())
}

// readStreamWith is ReadStream decoding with d; a nil d decodes with
// encoding/json alone, as the reference the tests compare with.
func readStreamWith(name string, r io.Reader, fn func(Event) error, d *decoder) (Summary, error) {
	var s Summary
	if err := readStream(name, r, &s, fn, d); err != nil {
		return s, errors.Unwrap(err)
	}
	return s, nil
}

// readStream reads one log stream, gzipped or not.
func readStream(name string, in io.Reader, s *Summary, fn func(Event) error, d *decoder) error {
	br := bufio.NewReaderSize(in, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			s.skip(name, -1, "gzip: "+err.Error())
			return nil
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 64<<10)
		r = br
	}
	s.Files++
	if csvFile(name) {
		return readCSV(name, r, s, fn)
	}
	head, _ := br.Peek(256)
	if recordsStart.Match(head) {
		return readRecords(name, r, s, fn, d)
	}
	return readLines(name, r, s, fn, d)
}

// readRecords reads the delivery format, one record at a time: with d
// where it can, else with encoding/json.
func readRecords(path string, r io.Reader, s *Summary, fn func(Event) error, d *decoder) error {
	src := &latch{r: r}
	dec := json.NewDecoder(src)
	for _, want := range []any{json.Delim('{'), "Records", json.Delim('[')} {
		if tok, err := dec.Token(); err != nil || tok != want {
			s.skip(path, -1, fmt.Sprintf("not a CloudTrail log file (want %v at its start)", want))
			return nil
		}
	}
	if d == nil {
		return decodeRecords(path, dec, src, 0, s, fn)
	}
	rr := recordReader{src: io.MultiReader(dec.Buffered(), src), latch: src, buf: d.buf[:0]}
	err := rr.read(path, d, s, fn)
	if cap(rr.buf) <= maxKeptBuffer {
		d.buf = rr.buf
	}
	return err
}

// latch is r, remembering the first error other than io.EOF it returned.
type latch struct {
	r   io.Reader
	err error
}

func (l *latch) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF && l.err == nil {
		l.err = err
	}
	return n, err
}

// decodeRecords reads the records of dec, the first numbered i, with
// encoding/json; src is the latch of dec's input.
func decodeRecords(path string, dec *json.Decoder, src *latch, i int, s *Summary, fn func(Event) error) error {
	for ; dec.More(); i++ {
		var e Event
		// One pass. The decoder reads a whole value before it decodes it,
		// so only a syntax error (or the end of the input) breaks the
		// stream; a value of the wrong shape skips its record alone.
		err := dec.Decode(&e)
		if _, syntax := errors.AsType[*json.SyntaxError](err); syntax || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			s.Records++
			s.skip(path, i, "malformed JSON, the rest of the file is skipped: "+err.Error())
			return nil
		}
		if src.err != nil && errors.Is(err, src.err) {
			// The Decoder returns its input's error again and again
			// (corrupt gzip): the record and the rest are lost.
			s.Records++
			s.skip(path, i, "unreadable, the rest of the file is skipped: "+err.Error())
			return nil
		}
		if err := deliverEvent(path, i, e, err, s, fn); err != nil {
			return err
		}
	}
	return nil
}

// readLines reads one event object per line; blank lines are ignored.
func readLines(path string, r io.Reader, s *Summary, fn func(Event) error, d *decoder) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	i := 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := deliverLine(path, i, line, s, fn, d); err != nil {
			return err
		}
		i++
	}
	if err := sc.Err(); err != nil {
		s.skip(path, i, "unreadable, the rest of the file is skipped: "+err.Error())
	}
	return nil
}

// noEventFields is why a record without them is skipped.
const noEventFields = "not a CloudTrail event: no eventSource, eventName or eventTime"

// errStop wraps fn's error so that it stops the read.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }
func (e errStop) Unwrap() error { return e.err }

// deliverLine decodes record i of path, a line, with d where it can, and
// hands a KMS event to fn.
func deliverLine(path string, i int, line []byte, s *Summary, fn func(Event) error, d *decoder) error {
	if d != nil && line[0] == '{' {
		if outcome, n := d.p.parse(line); outcome == parsed && len(bytes.Trim(line[n:], " \t\r\n")) == 0 {
			return deliverParsed(path, i, d, s, fn)
		}
	}
	return deliver(path, i, line, s, fn)
}

// deliver decodes record i of path with encoding/json and hands a KMS
// event to fn.
func deliver(path string, i int, raw []byte, s *Summary, fn func(Event) error) error {
	var e Event
	err := json.Unmarshal(raw, &e)
	if _, syntax := errors.AsType[*json.SyntaxError](err); syntax {
		s.Records++
		s.skip(path, i, "malformed JSON: "+err.Error())
		return nil
	}
	return deliverEvent(path, i, e, err, s, fn)
}

// deliverEvent counts record i of path, decoded into e with decoding
// error err (a wrong type: the record is skipped), and hands a KMS event
// to fn.
func deliverEvent(path string, i int, e Event, err error, s *Summary, fn func(Event) error) error {
	s.Records++
	switch {
	case err != nil:
		s.skip(path, i, "not a CloudTrail event: "+err.Error())
		return nil
	case e.Source == "" || e.Name == "" || e.Time.IsZero():
		s.skip(path, i, noEventFields)
		return nil
	case !e.IsKMS():
		s.Other++
		return nil
	}
	s.KMS++
	if err := fn(e); err != nil {
		return errStop{err}
	}
	return nil
}

// deliverParsed counts record i of path, just parsed by d, as
// deliverEvent does, and hands a KMS event to fn.
func deliverParsed(path string, i int, d *decoder, s *Summary, fn func(Event) error) error {
	r := &d.p.ev
	s.Records++
	switch {
	case len(r.str[sSource]) == 0 || len(r.str[sName]) == 0 || r.time.IsZero():
		s.skip(path, i, noEventFields)
		return nil
	case string(r.str[sSource]) != KMSSource:
		s.Other++
		return nil
	}
	s.KMS++
	if err := fn(d.event()); err != nil {
		return errStop{err}
	}
	return nil
}
