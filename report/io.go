package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrSchema is returned (wrapped) by ReadJSON when the document is not a
// kmsload result of the supported schema version.
var ErrSchema = errors.New("unsupported results schema")

// WriteJSON writes r as indented JSON followed by a newline. An empty
// Schema is written as the current Schema. The output is that of
// json.MarshalIndent(r, "", "  "), indented while it is written: the
// document is not held in memory a second time.
func WriteJSON(w io.Writer, r *Results) error {
	if r == nil {
		return errors.New("report: write results: nil results")
	}
	out := *r
	if out.Schema == "" {
		out.Schema = Schema
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	ind := &indentWriter{w: bw, indent: "  "}
	if err := json.NewEncoder(ind).Encode(&out); err != nil {
		return fmt.Errorf("report: write results: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write results: %w", err)
	}
	return nil
}

// indentWriter indents compact JSON, as written by json.Encoder without
// indentation, on its way to w: the same bytes json.Indent writes with
// an empty prefix. It keeps its state between writes, so the document
// may come in pieces.
type indentWriter struct {
	w      *bufio.Writer
	indent string
	// depth is the nesting of the value being written; open is set
	// after '{' or '[' until the next byte says whether it is empty.
	depth      int
	open       bool
	inStr, esc bool
}

// Write implements io.Writer.
func (iw *indentWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if iw.inStr {
			// Copy the rest of the string up to its closing quote or
			// an escape in one go.
			j := i
			for j < len(p) && p[j] != '"' && p[j] != '\\' && !iw.esc {
				j++
			}
			if j > i {
				iw.w.Write(p[i:j]) //nolint:errcheck // bufio keeps the error for Flush
				i = j - 1
				continue
			}
			iw.w.WriteByte(c) //nolint:errcheck
			switch {
			case iw.esc:
				iw.esc = false
			case c == '\\':
				iw.esc = true
			case c == '"':
				iw.inStr = false
			}
			continue
		}
		if iw.open && c != '}' && c != ']' {
			iw.open = false
			iw.depth++
			iw.newline()
		}
		switch c {
		case '"':
			iw.inStr = true
			iw.w.WriteByte(c) //nolint:errcheck
		case '{', '[':
			iw.open = true
			iw.w.WriteByte(c) //nolint:errcheck
		case ',':
			iw.w.WriteByte(c) //nolint:errcheck
			iw.newline()
		case ':':
			iw.w.WriteString(": ") //nolint:errcheck
		case '}', ']':
			if iw.open {
				iw.open = false // {} and [] stay on one line
			} else {
				iw.depth--
				iw.newline()
			}
			iw.w.WriteByte(c) //nolint:errcheck
		default:
			iw.w.WriteByte(c) //nolint:errcheck
		}
	}
	return len(p), nil
}

// newline starts a line at the current depth.
func (iw *indentWriter) newline() {
	iw.w.WriteByte('\n') //nolint:errcheck
	for range iw.depth {
		iw.w.WriteString(iw.indent) //nolint:errcheck
	}
}

// ReadJSON reads results written by WriteJSON. Unknown fields are
// accepted (new fields may be added to the format); a schema other than
// Schema is rejected with an error wrapping ErrSchema.
func ReadJSON(rd io.Reader) (*Results, error) {
	var r Results
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("report: read results: %w", err)
	}
	if r.Schema != Schema {
		if r.Schema == "" {
			return nil, fmt.Errorf("report: read results: no \"schema\" field, want %q: %w", Schema, ErrSchema)
		}
		return nil, fmt.Errorf("report: read results: schema %q, want %q: %w", r.Schema, Schema, ErrSchema)
	}
	return &r, nil
}
