// Package prose formats lists and missing values in the sentences and
// tables of kmsload's reports, so that the results model (report) and its
// renderings (render) write them alike.
package prose

import (
	"fmt"
	"strings"
)

// And joins names as prose: "a", "a and b", "a, b and c"; "" for none.
func And(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// List joins s with commas for a table cell, "-" when s is empty.
func List(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// OrDash returns s, or "-" when s is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Percent formats a share (0 to 1) as a percentage with one decimal, or
// two significant digits for shares under 0.1%: "12.5%", "3%", "0.042%".
func Percent(share float64) string {
	p := 100 * share
	switch {
	case p == 0:
		return "0%"
	case p < 0.1:
		return fmt.Sprintf("%.2g%%", p)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", p), ".0") + "%"
}

// Note is " (note)", or "" when note is empty.
func Note(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}
