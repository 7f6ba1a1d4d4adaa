package render_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

// TestWritersFrame checks what every writer shares: a nil input is
// refused, and a write error is wrapped with the format that failed.
func TestWritersFrame(t *testing.T) {
	r := reporttest.Example()
	c := report.Compare(r, r, 0.05)
	tests := []struct {
		format  string
		write   func(w io.Writer, nilInput bool) error
		wantNil string
	}{
		{"text", resultsWriter(render.WriteText, r), "report: write text: nil results"},
		{"markdown", resultsWriter(render.WriteMarkdown, r), "report: write markdown: nil results"},
		{"html", resultsWriter(render.WriteHTML, r), "report: write html: nil results"},
		{"junit", resultsWriter(render.WriteJUnit, r), "report: write junit: nil results"},
		{"compare text", comparisonWriter(render.WriteCompareText, c), "report: write compare text: nil comparison"},
		{"compare html", comparisonWriter(render.WriteCompareHTML, c), "report: write compare html: nil comparison"},
	}
	for _, tt := range tests {
		if err := tt.write(&bytes.Buffer{}, true); err == nil || err.Error() != tt.wantNil {
			t.Errorf("write %s(nil) = %v; want %q", tt.format, err, tt.wantNil)
		}
		if err := tt.write(&bytes.Buffer{}, false); err != nil {
			t.Errorf("write %s = %v; want nil", tt.format, err)
		}
		err := tt.write(&failWriter{}, false)
		if prefix := "report: write " + tt.format + ": "; !errors.Is(err, errWrite) || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("write %s(failing writer) = %v; want an error wrapping %v starting %q", tt.format, err, errWrite, prefix)
		}
	}
}

func resultsWriter(write func(io.Writer, *report.Results) error, r *report.Results) func(io.Writer, bool) error {
	return func(w io.Writer, nilInput bool) error {
		if nilInput {
			return write(w, nil)
		}
		return write(w, r)
	}
}

func comparisonWriter(write func(io.Writer, *report.Comparison) error, c *report.Comparison) func(io.Writer, bool) error {
	return func(w io.Writer, nilInput bool) error {
		if nilInput {
			return write(w, nil)
		}
		return write(w, c)
	}
}
