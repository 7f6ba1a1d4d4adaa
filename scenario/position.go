package scenario

import "fmt"

// Position is where a field of a scenario file was written: the file and
// the 1-based line and column of the field's value (of its name, for an
// entry under accounts, keys, workloads or thresholds).
type Position struct {
	File      string
	Line, Col int
}

// String formats the position as "file:line:col", leaving out what is
// unknown: "file" when Line is 0, "line:col" when File is "".
func (p Position) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Pos returns where the field at path was written, or the nearest
// enclosing field the file wrote when it did not write path itself (line
// 1, column 1 when it wrote none of them). A path names fields as they are
// spelled in the file, separated by dots, with list items in brackets:
// "workloads.orders-api.caller", "keys.env-prod.allow_accounts[0]",
// "workloads.bulk.phases[2].to". Events are indexed in the order the file
// lists them ("events[0]"), which need not be the order of s.Events. A
// scenario not parsed from a file (built in code) has no positions: Pos
// returns Position{File: s.File}.
func (s *Scenario) Pos(path string) Position {
	if s.pos == nil {
		return Position{File: s.File}
	}
	p := lookupPos(s.pos, path)
	return Position{File: s.File, Line: p.line, Col: p.col}
}

// lookupPos returns the position of path in pos, or of its nearest
// enclosing path, or line 1, column 1.
func lookupPos(pos map[string]position, path string) position {
	for p := path; ; p = parent(p) {
		if at, ok := pos[p]; ok {
			return at
		}
		if p == "" {
			return position{1, 1}
		}
	}
}
