package scenario

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a scenario, at a position in its file.
type Error struct {
	// File is the scenario file ("" when the scenario was not read from a
	// file).
	File string
	// Line and Col are 1-based; both are 0 for a problem found by
	// Validate in a scenario built in code.
	Line, Col int
	// Msg describes the problem, starting with the path of the field
	// concerned, e.g. `workloads.orders-api.key: unknown key "env-prd"`.
	Msg string
}

// Error formats the problem as "file:line:col: msg".
func (e *Error) Error() string {
	switch {
	case e.Line == 0 && e.File == "":
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	case e.File == "":
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem found in a scenario, sorted by position. Parse,
// Load and Validate return it (as error) so that callers can report all
// problems at once; use errors.As to get at it.
type Errors []*Error

// Error joins the problems with newlines.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual problems, so errors.As can also find the
// first *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders the problems by position and drops exact duplicates (the
// same node reached twice through a YAML alias).
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && *e == *es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// suggest returns a "; did you mean X?" suffix naming the candidate closest
// to s, or "" when none is close enough.
func suggest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD || bestD < 0 {
			best, bestD = c, d
		}
	}
	if bestD < 0 || best == s {
		return ""
	}
	limit := max(2, len(best)/4)
	if bestD > limit || bestD >= len(best) || bestD >= len(s) && bestD > 0 && len(s) < 3 {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortStrings(s []string) { sort.Strings(s) }

// quoteList formats a list of accepted values for messages.
func quoteList(vals []string) string {
	return strings.Join(vals, ", ")
}
