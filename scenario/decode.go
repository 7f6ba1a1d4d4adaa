package scenario

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// position is a 1-based line and column in the scenario file.
type position struct{ line, col int }

// decoder walks a yaml.Node tree into a Scenario. It reports type and
// syntax problems as it goes, and records where each field was written so
// that validate can report semantic problems at the right place.
type decoder struct {
	file string
	errs Errors
	// pos maps a field path ("workloads.orders-api.rate") to the position
	// of its value, and an entry path ("workloads.orders-api") to the
	// position of its name.
	pos map[string]position
	// bad holds paths whose value could not be decoded; validate stays
	// quiet about them and everything below them.
	bad map[string]bool
	// readFile reads a file the scenario names (its trace), by the name
	// the scenario gives.
	readFile func(name string) ([]byte, error)
}

func newDecoder(file string) *decoder {
	d := &decoder{file: file, pos: map[string]position{}, bad: map[string]bool{}}
	d.readFile = func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) && file != "" {
			name = filepath.Join(filepath.Dir(file), name)
		}
		return os.ReadFile(name)
	}
	return d
}

// errorf records a problem at node n, with the field path in front of the
// message. It marks path as bad.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
		d.bad[path] = true
	}
	line, col := 1, 1
	if n != nil {
		line, col = max(n.Line, 1), max(n.Column, 1)
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Col: col, Msg: msg})
}

// errorAt records a problem at the position path was written at.
func (d *decoder) errorAt(path, format string, args ...any) {
	p := d.pos[path]
	d.errorf(&yaml.Node{Line: p.line, Column: p.col}, path, format, args...)
}

// mark remembers where path was written.
func (d *decoder) mark(path string, n *yaml.Node) {
	if _, ok := d.pos[path]; !ok && n != nil {
		d.pos[path] = position{max(n.Line, 1), max(n.Column, 1)}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// deref follows YAML aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "the number " + clip(n.Value)
		case "!!bool":
			return "the boolean " + clip(n.Value)
		case "!!str":
			return strconv.Quote(clip(n.Value))
		}
		return n.ShortTag() + " " + strconv.Quote(clip(n.Value))
	}
	return "an unexpected YAML node"
}

// clip shortens long values quoted in messages.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// entry is one key: value pair of a mapping.
type entry struct {
	name     string
	key, val *yaml.Node
}

// entries returns the pairs of mapping n in file order, reporting a node
// that is not a mapping, non-scalar keys and keys given twice.
func (d *decoder) entries(path string, n *yaml.Node) ([]entry, bool) {
	v := deref(n)
	if v == nil || v.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", describe(v))
		return nil, false
	}
	seen := map[string]*yaml.Node{}
	var out []entry
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := deref(v.Content[i]), v.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.errorf(v.Content[i], path, "want a name as mapping key, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.errorf(v.Content[i], path, "merge keys (<<) are not supported; write the fields out")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(v.Content[i], join(path, k.Value), "given twice (first at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{name: k.Value, key: v.Content[i], val: val})
	}
	return out, true
}

// fields decodes mapping n whose keys must be among known. It reports
// unknown fields and returns the value node of each known field given.
func (d *decoder) fields(path string, n *yaml.Node, known ...string) (map[string]*yaml.Node, bool) {
	es, ok := d.entries(path, n)
	if !ok {
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(es))
	for _, e := range es {
		if !contains(known, e.name) {
			d.errs = append(d.errs, &Error{
				File: d.file, Line: max(e.key.Line, 1), Col: max(e.key.Column, 1),
				Msg: fmt.Sprintf("%sunknown field %q%s", prefix(path), clip(e.name), fieldHint(e.name, known)),
			})
			continue
		}
		d.mark(join(path, e.name), e.val)
		out[e.name] = e.val
	}
	return out, true
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func fieldHint(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return s
	}
	return " (known fields: " + quoteList(known) + ")"
}

// valueHint suggests the closest of the accepted values, or lists them.
func valueHint(s string, vals []string) string {
	if h := suggest(s, vals); h != "" {
		return h
	}
	return " (want one of: " + quoteList(vals) + ")"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns the scalar node behind n, or reports what it got instead.
func (d *decoder) scalar(path string, n *yaml.Node, want string) (*yaml.Node, bool) {
	v := deref(n)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		d.errorf(n, path, "want %s, got %s", want, describe(v))
		return nil, false
	}
	return v, true
}

// field returns the scalar behind a field's node n, or nil when the field
// is absent (n is nil) or is not a scalar, which it reports as wanting
// want.
func (d *decoder) field(path string, n *yaml.Node, want string) *yaml.Node {
	if n == nil {
		return nil
	}
	v, ok := d.scalar(path, n, want)
	if !ok {
		return nil
	}
	return v
}

// str decodes a string field. A nil node (field absent) leaves *dst alone.
func (d *decoder) str(path string, n *yaml.Node, dst *string) {
	v := d.field(path, n, "a string")
	if v == nil {
		return
	}
	if v.ShortTag() != "!!str" {
		d.errorf(n, path, "want a string, got %s (quote it)", describe(v))
		return
	}
	*dst = v.Value
}

// integer decodes an int field. A nil node (field absent) leaves *dst
// alone.
func (d *decoder) integer(path string, n *yaml.Node, dst *int) {
	decodeTagged(d, path, n, "!!int", "an integer", dst)
}

// int64 decodes an int64 field. A nil node (field absent) leaves *dst
// alone.
func (d *decoder) int64(path string, n *yaml.Node, dst *int64) {
	decodeTagged(d, path, n, "!!int", "an integer", dst)
}

// decodeTagged decodes a field whose YAML tag must be tag into *dst; want
// names the expected value in messages. A nil node leaves *dst alone.
func decodeTagged[T any](d *decoder, path string, n *yaml.Node, tag, want string, dst *T) {
	v := d.field(path, n, want)
	if v == nil {
		return
	}
	var x T
	if v.ShortTag() != tag || v.Decode(&x) != nil {
		d.errorf(n, path, "want %s, got %s", want, describe(v))
		return
	}
	*dst = x
}

func (d *decoder) number(path string, n *yaml.Node, dst *float64) {
	v := d.field(path, n, "a number")
	if v == nil {
		return
	}
	var f float64
	if t := v.ShortTag(); (t != "!!int" && t != "!!float") || v.Decode(&f) != nil {
		d.errorf(n, path, "want a number, got %s", describe(v))
		return
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(n, path, "want a finite number, got %s", describe(v))
		return
	}
	*dst = f
}

// share decodes a share written as a percentage ("1%", "0.5%") or as a
// fraction from 0 to 1 (0.01).
func (d *decoder) share(path string, n *yaml.Node, dst *float64) {
	v := d.field(path, n, `a share such as "1%" or 0.01`)
	if v == nil {
		return
	}
	f, ok := ParseShare(v.Value)
	if !ok {
		d.errorf(n, path, `want a share from 0 to 1 or a percentage such as "1%%", got %s`, describe(v))
		return
	}
	*dst = f
}

// ParseShare reads a share written as a percentage ("1%", "0.5%") or as
// a fraction (0.01); ok is false unless the result is from 0 to 1.
func ParseShare(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	div := 1.0
	if t, found := strings.CutSuffix(s, "%"); found {
		s, div = strings.TrimSpace(t), 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	f /= div
	return f, f >= 0 && f <= 1
}

// boolean decodes a bool field. A nil node (field absent) leaves *dst
// alone.
func (d *decoder) boolean(path string, n *yaml.Node, dst *bool) {
	decodeTagged(d, path, n, "!!bool", "true or false", dst)
}

func (d *decoder) duration(path string, n *yaml.Node, dst *time.Duration) {
	v := d.field(path, n, `a duration such as "90s"`)
	if v == nil {
		return
	}
	switch v.ShortTag() {
	case "!!int", "!!float":
		d.errorf(n, path, "bare number %s is ambiguous: write a duration with a unit, such as %ss or %sm", clip(v.Value), clip(v.Value), clip(v.Value))
		return
	case "!!str":
	default:
		d.errorf(n, path, `want a duration such as "90s", got %s`, describe(v))
		return
	}
	t, err := time.ParseDuration(v.Value)
	if err != nil {
		d.errorf(n, path, `invalid duration %q: write a Go duration such as "90s", "5m" or "1h30m"`, clip(v.Value))
		return
	}
	*dst = t
}

var rateRE = regexp.MustCompile(`^(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:/(s|min|h))?$`)

// rateForms names the accepted rate syntax in messages.
const rateForms = `want N/s, N/min, N/h or a bare number of requests per second, such as "600/s", "36000/min" or "5/h"`

// ParseRate parses a rate written as "600/s", "36000/min", "5/h" or a bare
// number of requests per second ("600", "2.5").
func ParseRate(s string) (Rate, error) {
	m := rateRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("scenario: invalid rate %q: %s", clip(s), rateForms)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("scenario: invalid rate %q: %s", clip(s), rateForms)
	}
	switch m[2] {
	case "min":
		f /= 60
	case "h":
		f /= 3600
	}
	return Rate(f), nil
}

func (d *decoder) rate(path string, n *yaml.Node, dst *Rate) {
	v := d.field(path, n, "a rate such as \"600/s\"")
	if v == nil {
		return
	}
	if t := v.ShortTag(); t != "!!str" && t != "!!int" && t != "!!float" {
		d.errorf(n, path, "invalid rate %s: %s", describe(v), rateForms)
		return
	}
	r, err := ParseRate(strings.TrimSpace(v.Value))
	if err != nil {
		d.errorf(n, path, "invalid rate %q: %s", clip(v.Value), rateForms)
		return
	}
	*dst = r
}

// strList decodes a list of strings. A nil node leaves *dst alone; an
// empty list sets it to a non-nil empty slice.
func (d *decoder) strList(path string, n *yaml.Node, dst *[]string) {
	if n == nil {
		return
	}
	v := deref(n)
	if v == nil || v.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of strings, got %s", describe(v))
		return
	}
	out := make([]string, 0, len(v.Content))
	for i, c := range v.Content {
		p := index(path, i)
		d.mark(p, c)
		var s string
		d.str(p, c, &s)
		out = append(out, s)
	}
	*dst = out
}
