package render_test

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

// junitDoc is the JUnit XML structure CI systems read, declared here
// independently of the writer.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      string `xml:"tests,attr"`
		Failures   string `xml:"failures,attr"`
		Errors     string `xml:"errors,attr"`
		Time       string `xml:"time,attr"`
		Timestamp  string `xml:"timestamp,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, data string) junitDoc {
	t.Helper()
	var doc junitDoc
	if err := xml.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, data)
	}
	return doc
}

func TestWriteJUnit(t *testing.T) {
	tests := []struct {
		name         string
		partial      bool
		th           map[string][]string
		tests, fails int
		failed       map[string]string // "workload/expr" -> part of the failure message
	}{
		// Every run has "run completed" and one "error budget" case per
		// workload: busy fails 26% of its arrivals other than by
		// throttling (QuotaExceededError and dropped), idle measured
		// nothing; both fail.
		{"passing", false, map[string][]string{"quiet": {"p99 < 50ms", "errors < 1%"}}, 6, 2, map[string]string{
			"busy/error budget": "busy: 26% of its arrivals failed unexpectedly other than by throttling",
			"idle/error budget": "idle had no arrivals"}},
		{"failing", false, map[string][]string{"busy": {"p99 < 50ms", "goodput > 60000/s"}, "all": {"errors < 1%"}}, 9, 5,
			map[string]string{"busy/p99 < 50ms": "p99 = 975.5ms, want < 50ms", "busy/errors < 1%": "errors = 12.5%, want < 1%",
				"idle/errors < 1%": "errors not measured: no arrivals"}},
		{"partial", true, map[string][]string{"quiet": {"p99 < 50ms"}}, 5, 3, nil},
		{"none", false, nil, 4, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reporttest.Thresholds()
			r.Partial = tt.partial
			r.Scenario.File = "scenarios/<t>.yaml"
			if _, err := report.EvaluateThresholds(tt.th, r); err != nil {
				t.Fatal(err)
			}
			report.Judge(r, report.Policy{ErrorBudget: 0.01})
			var b strings.Builder
			if err := render.WriteJUnit(&b, r); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(b.String(), "<?xml") {
				t.Errorf("no XML declaration: %.60q", b.String())
			}
			doc := parseJUnit(t, b.String())
			if len(doc.Suites) != 1 {
				t.Fatalf("%d testsuites; want 1", len(doc.Suites))
			}
			s := doc.Suites[0]
			if doc.Tests != tt.tests || doc.Failures != tt.fails || s.Tests != strconv.Itoa(tt.tests) || s.Failures != strconv.Itoa(tt.fails) || s.Errors != "0" {
				t.Errorf("counts: testsuites %d/%d, testsuite tests=%s failures=%s errors=%s; want %d tests, %d failures",
					doc.Tests, doc.Failures, s.Tests, s.Failures, s.Errors, tt.tests, tt.fails)
			}
			if len(s.Cases) != tt.tests {
				t.Fatalf("%d testcases; want %d", len(s.Cases), tt.tests)
			}
			fails := 0
			for _, c := range s.Cases {
				if c.Name == "" || c.Classname == "" || c.Time == "" {
					t.Errorf("testcase %+v lacks name, classname or time", c)
				}
				if c.Failure == nil {
					continue
				}
				fails++
				if c.Failure.Message == "" || c.Failure.Type == "" {
					t.Errorf("failure of %s without message or type", c.Name)
				}
				key := strings.TrimPrefix(c.Classname, "kmsload.t.") + "/" + c.Name
				if want, ok := tt.failed[key]; ok && !strings.Contains(c.Failure.Message, want) {
					t.Errorf("failure of %s: message %q; want %q", key, c.Failure.Message, want)
				}
			}
			if fails != tt.fails {
				t.Errorf("%d failure elements; want %d", fails, tt.fails)
			}
			if s.Cases[0].Name != "run completed" || (s.Cases[0].Failure != nil) != tt.partial {
				t.Errorf("first testcase %q failed=%v; want \"run completed\" failing only for a partial run", s.Cases[0].Name, s.Cases[0].Failure != nil)
			}
			if s.Name != "kmsload t" || s.Time != "10.000" {
				t.Errorf("testsuite name %q time %q; want \"kmsload t\", \"10.000\"", s.Name, s.Time)
			}
			props := map[string]string{}
			for _, p := range s.Properties {
				props[p.Name] = p.Value
			}
			if props["scenario.file"] != "scenarios/<t>.yaml" || props["scale"] != "0.01" {
				t.Errorf("properties %v; want scenario.file and scale", props)
			}
		})
	}
}
