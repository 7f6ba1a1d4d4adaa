package render

import (
	"math"
	"strconv"
	"strings"
)

// NumberKind names how a value in the HTML report's tables is formatted.
// Every table cell carries its kind in a data-kind attribute, and each kind
// has exactly one formatting rule, FormatNumber's.
type NumberKind string

// Kinds of table values.
const (
	// KindCount is a whole number of requests, attempts and the like, with
	// thousands separators: 13,665.
	KindCount NumberKind = "count"
	// KindRate is a per-second rate with one decimal: 1,366.5.
	KindRate NumberKind = "rate"
	// KindMs is a latency in milliseconds with two decimals: 2,783.23.
	KindMs NumberKind = "ms"
	// KindShare is a share between 0 and 1 shown as a percentage with one
	// decimal: 0.238 is 23.8%.
	KindShare NumberKind = "share"
	// KindSeconds is a time offset or duration in seconds with one
	// decimal: 3.0.
	KindSeconds NumberKind = "seconds"
	// KindSig4 is a measured value of any unit, rounded to four
	// significant digits (whole numbers from 10,000 up), with thousands
	// separators: 1,924, 0.2197.
	KindSig4 NumberKind = "sig4"
	// KindPlain is a number shown with the fewest digits that represent
	// it exactly (scale, seed, threshold values): 0.01.
	KindPlain NumberKind = "plain"
)

// NotApplicable is what FormatNumber returns for NaN: a value that does
// not apply, such as a share of zero attempts or a quota that is not known.
const NotApplicable = "–"

// FormatNumber formats v as the HTML report shows a value of kind k. NaN
// is NotApplicable. An unknown kind formats like KindPlain.
func FormatNumber(k NumberKind, v float64) string {
	if math.IsNaN(v) {
		return NotApplicable
	}
	switch k {
	case KindCount:
		return groupDigits(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case KindRate:
		return groupDigits(strconv.FormatFloat(v, 'f', 1, 64))
	case KindMs:
		return groupDigits(strconv.FormatFloat(v, 'f', 2, 64))
	case KindShare:
		return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
	case KindSeconds:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case KindSig4:
		a := math.Abs(v)
		if a >= 10000 || a == 0 {
			return groupDigits(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
		}
		p := math.Pow(10, 3-math.Floor(math.Log10(a)))
		return groupDigits(strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64))
	default:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
}

// groupDigits inserts thousands separators into the integer part of a decimal
// number written by strconv.
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	if len(intPart) <= 3 {
		return sign + s
	}
	var b strings.Builder
	lead := len(intPart) % 3
	if lead > 0 {
		b.WriteString(intPart[:lead])
	}
	for i := lead; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	return sign + b.String() + frac
}
