// Package textout writes kmsload's plain-text reports: a writer that keeps
// the first write error, so that a report is written line after line and
// checked once at the end, and the aligned tables the reports share.
package textout

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Writer writes to W until a write fails; from then on it keeps that
// error in Err and writes nothing more.
type Writer struct {
	W   io.Writer
	Err error
}

// Write writes p to W, unless an earlier write failed.
func (e *Writer) Write(p []byte) (int, error) {
	if e.Err != nil {
		return 0, e.Err
	}
	n, err := e.W.Write(p)
	e.Err = err
	return n, err
}

// Printf formats to W, unless an earlier write failed.
func (e *Writer) Printf(format string, a ...any) {
	if e.Err != nil {
		return
	}
	_, e.Err = fmt.Fprintf(e.W, format, a...)
}

// Aligned writes rows of tab-separated cells in columns two spaces apart,
// each row after indent.
func (e *Writer) Aligned(indent string, rows []string) {
	if e.Err != nil {
		return
	}
	tw := tabwriter.NewWriter(e.W, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		if _, err := fmt.Fprintln(tw, indent+r); err != nil {
			e.Err = err
			return
		}
	}
	e.Err = tw.Flush()
}

// Thousands formats v rounded to an integer with thousands separators:
// 12,345.
func Thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
