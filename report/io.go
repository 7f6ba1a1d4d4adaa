package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrSchema is returned (wrapped) by ReadJSON when the document is not a
// kmsload result of the supported schema version.
var ErrSchema = errors.New("unsupported results schema")

// WriteJSON writes r as indented JSON followed by a newline. An empty
// Schema is written as the current Schema.
func WriteJSON(w io.Writer, r *Results) error {
	if r == nil {
		return errors.New("report: write results: nil results")
	}
	out := *r
	if out.Schema == "" {
		out.Schema = Schema
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("report: write results: %w", err)
	}
	return nil
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
