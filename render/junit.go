package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/kmsload/kmsload/report"
)

// JUnit XML, in the shape CI systems read (Jenkins, GitLab, GitHub
// reporters): one testsuite per run inside testsuites.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes r as JUnit XML: one testsuite for the run, named after
// the scenario, with one testcase per evaluated threshold (classname
// "kmsload.<scenario>.<workload>", name the expression) and a first
// testcase "run completed" that fails when the run was interrupted, and
// one "error budget" testcase per workload (the verdict's error-budget
// check). A failed threshold has a failure element whose message states
// the measured value and the limit.
func WriteJUnit(w io.Writer, r *report.Results) error {
	return write(w, r, "junit", "results", writeJUnit)
}

func writeJUnit(w io.Writer, r *report.Results) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitDoc(r)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitDoc is r's JUnit document: one suite of test cases.
func junitDoc(r *report.Results) junitSuites {
	name := r.Scenario.Name
	if name == "" {
		name = "unnamed"
	}
	dur := fmt.Sprintf("%.3f", r.DurationS)
	suite := junitSuite{Name: "kmsload " + name, Time: dur}
	if !r.StartedAt.IsZero() {
		suite.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	prop := func(k, v string) {
		if v != "" {
			suite.Properties = append(suite.Properties, junitProperty{Name: k, Value: v})
		}
	}
	prop("scenario.file", r.Scenario.File)
	prop("scenario.sha256", r.Scenario.SHA256)
	prop("scale", fmt.Sprintf("%g", r.Scenario.Scale))
	prop("target", r.Target.Kind)
	prop("target.endpoint", r.Target.Endpoint)
	prop("quota_model", r.Target.QuotaModel)

	run := junitCase{Name: "run completed", Classname: "kmsload." + name, Time: dur}
	if r.Partial {
		run.Failure = &junitFailure{Type: "partial", Message: "run interrupted: results cover only the part that ran",
			Text: fmt.Sprintf("the run was interrupted after %.1f s; thresholds were evaluated on partial totals", r.DurationS)}
	}
	suite.Cases = append(suite.Cases, run)
	for _, b := range r.VerdictOrJudged().Budgets {
		c := junitCase{Name: "error budget", Classname: "kmsload." + name + "." + b.Workload, Time: "0"}
		if !b.Pass {
			c.Failure = &junitFailure{Type: "error-budget", Message: b.Reason, Text: b.Reason}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, t := range r.Thresholds {
		c := junitCase{Name: t.Expr, Classname: "kmsload." + name + "." + t.Workload, Time: "0"}
		if !t.Pass {
			c.Failure = &junitFailure{Type: "threshold", Message: thresholdMessage(t),
				Text: fmt.Sprintf("workload %s: threshold %q failed: %s", t.Workload, t.Expr, thresholdMessage(t))}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
	}
	return junitSuites{Name: "kmsload", Tests: suite.Tests, Failures: suite.Failures, Time: dur, Suites: []junitSuite{suite}}
}

// thresholdMessage says what was measured against the limit, e.g.
// "p99 = 1924ms, want < 50ms".
func thresholdMessage(t report.Threshold) string {
	var b strings.Builder
	metric := t.Metric
	if metric == "" {
		metric = t.Expr
	}
	if t.Note != "" {
		fmt.Fprintf(&b, "%s not measured: %s", metric, t.Note)
	} else {
		fmt.Fprintf(&b, "%s = %s", metric, t.FormatValue())
	}
	if t.Op != "" {
		fmt.Fprintf(&b, ", want %s %s", t.Op, t.FormatLimit())
	}
	return b.String()
}
