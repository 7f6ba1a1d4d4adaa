package whatif

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseError is a problem in a transform file, at a 1-based line and
// column.
type ParseError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// LoadFile reads the transform file at path.
func LoadFile(path string) (Transform, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Transform{}, fmt.Errorf("whatif: %w", err)
	}
	return Parse(path, data)
}

var (
	accountIDRE = regexp.MustCompile(`^\d{12}$`)
	stepKinds   = []string{"move_key", "split_key", "move_workload", "cache"}
	stepFields  = map[string][]string{
		"move_key":      {"to_account"},
		"split_key":     {"per"},
		"move_workload": {"to_account", "to_region"},
		"cache":         {"max_age", "max_uses"},
	}
)

// Parse reads a transform from data, naming file in errors (*ParseError).
func Parse(file string, data []byte) (Transform, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Transform{}, &ParseError{File: file, Line: 1, Col: 1, Msg: "empty transform file"}
		}
		return Transform{}, &ParseError{File: file, Line: 1, Col: 1, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	p := &parser{file: file}
	t := p.transform(doc.Content[0])
	if p.err != nil {
		return Transform{}, p.err
	}
	return t, nil
}

// parser keeps the first problem.
type parser struct {
	file string
	err  error
}

func (p *parser) fail(n *yaml.Node, format string, a ...any) {
	if p.err == nil {
		p.err = &ParseError{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, a...)}
	}
}

// mapping walks a mapping node's fields, failing on names not in allowed.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s: want a mapping", what)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !contains(allowed, k.Value) {
			p.fail(k, "%s: unknown field %q (want one of %s)", what, k.Value, strings.Join(allowed, ", "))
			return
		}
		fn(k.Value, k, v)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (p *parser) transform(root *yaml.Node) Transform {
	t := Transform{Accounts: map[string]string{}}
	p.mapping(root, "transform", []string{"name", "accounts", "steps"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			t.Name = p.str(v, "name")
		case "accounts":
			p.accounts(v, t.Accounts)
		case "steps":
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				p.fail(v, "steps: want a list of steps such as [{move_key: \"*\", to_account: security}]")
				return
			}
			for i, sn := range v.Content {
				t.Steps = append(t.Steps, p.step(sn, i))
			}
		}
	})
	if p.err == nil && t.Name == "" {
		p.fail(root, "name: required, such as name: central-security")
	}
	if p.err == nil && len(t.Steps) == 0 {
		p.fail(root, "steps: required")
	}
	return t
}

// accounts reads the accounts a transform adds.
func (p *parser) accounts(n *yaml.Node, into map[string]string) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "accounts: want a mapping of account names to 12-digit ids")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || !accountIDRE.MatchString(v.Value) {
			p.fail(v, "accounts.%s: want a quoted 12-digit account id such as \"999999999999\"", name)
			continue
		}
		into[name] = v.Value
	}
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		p.fail(n, "%s: want a string", what)
	}
	return n.Value
}

// step reads step i.
func (p *parser) step(n *yaml.Node, i int) Step {
	var st Step
	what := fmt.Sprintf("steps[%d]", i)
	kind := ""
	all := append(append([]string{}, stepKinds...), "to_account", "to_region", "per", "max_age", "max_uses")
	p.mapping(n, what, all, func(key string, k, v *yaml.Node) {
		if contains(stepKinds, key) {
			if kind != "" {
				p.fail(k, "%s: %s and %s: one change per step", what, kind, key)
			}
			kind = key
		}
		p.field(&st, key, v, what)
	})
	if p.err != nil {
		return st
	}
	if kind == "" {
		p.fail(n, "%s: want one of %s", what, strings.Join(stepKinds, ", "))
		return st
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if f := n.Content[i].Value; !contains(stepKinds, f) && !contains(stepFields[kind], f) {
			p.fail(n.Content[i], "%s: %s takes no %s (it takes %s)", what, kind, f, strings.Join(stepFields[kind], ", "))
		}
	}
	return st
}

// field sets one field of st.
func (p *parser) field(st *Step, key string, v *yaml.Node, what string) {
	what += "." + key
	switch key {
	case "move_key":
		st.MoveKey = p.str(v, what)
	case "split_key":
		st.SplitKey = p.str(v, what)
	case "move_workload":
		st.MoveWorkload = p.str(v, what)
	case "cache":
		st.Cache = p.str(v, what)
	case "to_account":
		st.ToAccount = p.str(v, what)
	case "to_region":
		st.ToRegion = p.str(v, what)
	case "per":
		st.Per = p.str(v, what)
	case "max_age":
		d, err := time.ParseDuration(p.str(v, what))
		if err != nil || d <= 0 {
			p.fail(v, "%s: want a positive duration such as 5m", what)
		}
		st.MaxAge = d
	case "max_uses":
		if err := v.Decode(&st.MaxUses); err != nil || st.MaxUses < 1 {
			p.fail(v, "%s: want a whole number above 0", what)
		}
	}
}
