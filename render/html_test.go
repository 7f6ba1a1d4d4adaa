package render_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/net/html"

	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

// The HTML report's fixture, report/testdata/results.json, is the output of
// a real run: see report/testdata/html-run.yaml for the command that
// regenerates it.

// loadFixture reads ../report/testdata/results.json (the results model's fixture) and evaluates the thresholds of
// the scenario it came from, as `kmsload run` does.
func loadFixture(t testing.TB) *report.Results {
	t.Helper()
	f, err := os.Open("../report/testdata/results.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := report.EvaluateThresholds(map[string][]string{
		"orders-api":        {"p99 < 50ms", "throttled_requests < 1%"},
		report.ThresholdAll: {"dropped < 1"},
	}, r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		kind render.NumberKind
		v    float64
		want string
	}{
		{render.KindCount, 0, "0"},
		{render.KindCount, 999, "999"},
		{render.KindCount, 1000, "1,000"},
		{render.KindCount, 13665, "13,665"},
		{render.KindCount, 1234567, "1,234,567"},
		{render.KindCount, -4321, "-4,321"},
		{render.KindRate, 1366.54, "1,366.5"},
		{render.KindRate, 0.04, "0.0"},
		{render.KindMs, 2783.234, "2,783.23"},
		{render.KindMs, 0.7449, "0.74"},
		{render.KindShare, 0.238, "23.8%"},
		{render.KindShare, 1.367, "136.7%"},
		{render.KindShare, math.NaN(), render.NotApplicable},
		{render.KindSeconds, 3, "3.0"},
		{render.KindSig4, 1924.345, "1,924"},
		{render.KindSig4, 0.21974, "0.2197"},
		{render.KindSig4, 38890.4, "38,890"},
		{render.KindSig4, 0, "0"},
		{render.KindPlain, 0.01, "0.01"},
		{render.KindPlain, 42, "42"},
		{render.KindRate, math.NaN(), render.NotApplicable},
	} {
		if got := render.FormatNumber(tc.kind, tc.v); got != tc.want {
			t.Errorf("FormatNumber(%s, %v) = %q; want %q", tc.kind, tc.v, got, tc.want)
		}
	}
}

// parseHTML parses page and fails the test on error.
func parseHTML(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("html.Parse: %v", err)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return slices.Contains(strings.Fields(v), class)
}

// walk calls f for n and every node below it.
func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.TrimSpace(b.String())
}

func findID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if v, ok := attr(n, "id"); ok && v == id && found == nil {
			found = n
		}
	})
	return found
}

// resolve follows a JSON Pointer in the generic results document; nil when
// a token is missing.
func resolve(doc any, pointer string) any {
	if pointer == "" {
		return doc
	}
	cur := doc
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			cur = v[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// splitArgs splits "a b(c d) e" at top-level spaces.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ' ':
			if depth == 0 {
				if i > start {
					out = append(out, s[start:i])
				}
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// evalSrc evaluates a data-expr expression on the results document: a JSON
// Pointer, or sum(...), ratio(a b), nonzero(a) or list(...).
func evalSrc(t *testing.T, doc any, src string) any {
	t.Helper()
	if strings.HasPrefix(src, "/") {
		return resolve(doc, src)
	}
	open := strings.IndexByte(src, '(')
	if open < 0 || !strings.HasSuffix(src, ")") {
		t.Fatalf("data-expr %q: not a pointer or expression", src)
	}
	fn, args := src[:open], splitArgs(src[open+1:len(src)-1])
	nums := func() []float64 {
		out := make([]float64, len(args))
		for i, a := range args {
			out[i] = toFloat(t, evalSrc(t, doc, a), a)
		}
		return out
	}
	switch fn {
	case "sum":
		s := 0.0
		for _, v := range nums() {
			s += v
		}
		return s
	case "ratio":
		v := nums()
		if len(v) != 2 {
			t.Fatalf("data-expr %q: ratio wants 2 arguments", src)
		}
		if v[1] == 0 {
			return math.NaN()
		}
		return v[0] / v[1]
	case "nonzero":
		v := nums()
		if len(v) != 1 {
			t.Fatalf("data-expr %q: nonzero wants 1 argument", src)
		}
		if v[0] == 0 {
			return math.NaN()
		}
		return v[0]
	case "orzero":
		if len(args) != 1 {
			t.Fatalf("data-expr %q: orzero wants 1 argument", src)
		}
		if v := evalSrc(t, doc, args[0]); v != nil {
			return toFloat(t, v, args[0])
		}
		return 0.0
	case "list":
		var ss []string
		for _, a := range args {
			s, ok := evalSrc(t, doc, a).(string)
			if !ok {
				t.Fatalf("data-expr %q: %s is not a string", src, a)
			}
			ss = append(ss, s)
		}
		slices.Sort(ss)
		return slices.Compact(ss)
	}
	t.Fatalf("data-expr %q: unknown function %q", src, fn)
	return nil
}

func toFloat(t *testing.T, v any, src string) float64 {
	t.Helper()
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return f
	case float64:
		return n
	}
	t.Fatalf("%s = %#v; want a number in results.json", src, v)
	return 0
}

// decimals is how close a shown number of each kind must be to the value
// in results.json, in the shown unit.
var tolerance = map[render.NumberKind]float64{
	render.KindCount: 0.5, render.KindRate: 0.05, render.KindMs: 0.005,
	render.KindShare: 0.05, render.KindSeconds: 0.05, render.KindPlain: 0,
}

// checkCell compares one table cell with the results document and returns
// a problem, or "".
func checkCell(t *testing.T, doc any, cell *html.Node) string {
	src, ok := attr(cell, "data-expr")
	if !ok {
		return "no data-expr"
	}
	kind, _ := attr(cell, "data-kind")
	got := textOf(cell)
	v := evalSrc(t, doc, src)
	switch kind {
	case "text":
		want := render.NotApplicable
		switch x := v.(type) {
		case string:
			if x != "" {
				want = x
			}
		case []any:
			var ss []string
			for _, e := range x {
				ss = append(ss, fmt.Sprint(e))
			}
			if len(ss) > 0 {
				want = strings.Join(ss, ", ")
			}
		case []string:
			if len(x) > 0 {
				want = strings.Join(x, ", ")
			}
		case nil:
		default:
			return fmt.Sprintf("text from %T", v)
		}
		if got != want {
			return fmt.Sprintf("shows %q; want %q", got, want)
		}
	case "time":
		s, _ := v.(string)
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Sprintf("time %q: %v", s, err)
		}
		if want := tm.UTC().Format(time.RFC3339); got != want {
			return fmt.Sprintf("shows %q; want %q", got, want)
		}
	case "yesno", "pass":
		b, ok := v.(bool)
		if !ok {
			return fmt.Sprintf("%#v is not a boolean", v)
		}
		want := map[bool]string{true: "yes", false: "no"}[b]
		if kind == "pass" {
			want = map[bool]string{true: "pass", false: "FAIL"}[b]
		}
		if got != want {
			return fmt.Sprintf("shows %q; want %q", got, want)
		}
	case "key":
		if v == nil {
			return "pointer names nothing"
		}
		if want := src[strings.LastIndexByte(src, '/')+1:]; got != want {
			return fmt.Sprintf("shows %q; want %q", got, want)
		}
	case "empty":
		switch x := v.(type) {
		case nil:
		case []any:
			if len(x) > 0 {
				return "not empty"
			}
		case map[string]any:
			if len(x) > 0 {
				return "not empty"
			}
		default:
			return fmt.Sprintf("%#v is not empty", v)
		}
	default:
		k := render.NumberKind(kind)
		f := toFloat(t, v, src)
		want := render.FormatNumber(k, f)
		if got != want {
			return fmt.Sprintf("shows %q; want %q (value %v)", got, want, f)
		}
		if math.IsNaN(f) {
			return ""
		}
		// The shown number, read back, is the value to the shown precision.
		shown, err := strconv.ParseFloat(strings.TrimSuffix(strings.ReplaceAll(got, ",", ""), "%"), 64)
		if err != nil {
			return fmt.Sprintf("shows %q: not a number", got)
		}
		exact := f
		if k == render.KindShare {
			exact *= 100
		}
		tol, ok := tolerance[k]
		if k == render.KindSig4 {
			tol, ok = math.Max(math.Abs(exact)*5e-4, 0.5*boolTo(math.Abs(exact) >= 10000)), true
		}
		if !ok {
			return fmt.Sprintf("unknown kind %q", kind)
		}
		if math.Abs(shown-exact) > tol*(1+1e-9) {
			return fmt.Sprintf("shows %q, %v away from %v", got, math.Abs(shown-exact), exact)
		}
	}
	return ""
}

func boolTo(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// renderChecked renders r and checks every cell of every data table
// against r's results.json as written: each cell names its source, and
// shows that value in its kind's format. It returns the page and the
// number of cells checked.
func renderChecked(t *testing.T, r *report.Results) (*html.Node, int) {
	t.Helper()
	var js bytes.Buffer
	if err := report.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&js)
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := render.WriteHTML(&page, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	root := parseHTML(t, page.Bytes())
	cells := 0
	walk(root, func(tbl *html.Node) {
		if tbl.Type != html.ElementNode || tbl.Data != "table" || !hasClass(tbl, "data") {
			return
		}
		id, _ := attr(tbl, "id")
		walk(tbl, func(cell *html.Node) {
			if cell.Type != html.ElementNode || cell.Data != "td" {
				return
			}
			cells++
			if problem := checkCell(t, doc, cell); problem != "" {
				src, _ := attr(cell, "data-expr")
				t.Errorf("#%s cell %q (data-expr %q): %s", id, textOf(cell), src, problem)
			}
		})
	})
	return root, cells
}

// tableRows returns the body rows of table #id, each as its cells' texts
// (row headers included); nil when there is no such table.
func tableRows(root *html.Node, id string) [][]string {
	tbl := findID(root, id)
	if tbl == nil {
		return nil
	}
	rows := [][]string{}
	walk(tbl, func(nd *html.Node) {
		if nd.Type == html.ElementNode && nd.Data == "tr" && nd.Parent != nil && nd.Parent.Data == "tbody" {
			var row []string
			for c := nd.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
					row = append(row, textOf(c))
				}
			}
			rows = append(rows, row)
		}
	})
	return rows
}

// tableHeader returns the column headers of table #id.
func tableHeader(root *html.Node, id string) []string {
	var out []string
	if tbl := findID(root, id); tbl != nil {
		walk(tbl, func(nd *html.Node) {
			if nd.Type == html.ElementNode && nd.Data == "th" && nd.Parent != nil && nd.Parent.Parent != nil && nd.Parent.Parent.Data == "thead" {
				out = append(out, textOf(nd))
			}
		})
	}
	return out
}

// TestHTMLTablesMatchResults renders the fixture and checks every cell of
// every data table against results.json as written, and that each table
// has its rows.
func TestHTMLTablesMatchResults(t *testing.T) {
	r := loadFixture(t)
	root, cells := renderChecked(t, r)
	clients, exhausted := map[string]bool{}, 0
	for _, w := range r.Workloads {
		if w.Client != nil {
			clients[w.Client.Name] = true
		}
		if w.RetryQuotaExhausted != nil {
			exhausted++
		}
	}
	// The fixture is a run with a plan, SDK clients and an exhausted retry
	// quota: those tables must have rows.
	if r.Plan == nil || len(clients) == 0 || exhausted == 0 {
		t.Fatalf("fixture: plan %v, %d clients, %d workloads out of retry quota; want all (regenerate it)", r.Plan, len(clients), exhausted)
	}
	wantRows := map[string]int{
		"table-run":         0, // any
		"table-workloads":   len(r.Workloads),
		"table-latency":     len(r.Workloads),
		"table-clients":     len(clients),
		"table-retry-quota": exhausted,
		"table-buckets":     len(r.Buckets),
		"table-plan":        1,
		"table-keys":        2,
		"table-coupling":    len(r.Coupling),
		"table-thresholds":  len(r.Thresholds),
		"table-errors":      0,
		"table-events":      0,
	}
	for id, rows := range wantRows {
		got := tableRows(root, id)
		if got == nil {
			t.Errorf("no table #%s", id)
			continue
		}
		if rows > 0 && len(got) != rows {
			t.Errorf("#%s has %d rows; want %d", id, len(got), rows)
		}
		if len(got) == 0 {
			t.Errorf("#%s has no rows", id)
		}
	}
	// Predicted next to measured, as in the text summary.
	want := []string{"bucket", "account", "region", "class", "quota/s", "demand/s", "pred demand/s", "util%",
		"allowed", "throttled", "thr-att%", "pred thr-att%", "workloads", "keys"}
	if got := tableHeader(root, "table-buckets"); !slices.Equal(got, want) {
		t.Errorf("bucket table columns %q; want %q", got, want)
	}
	// 3 workloads x 16 + 3 x 11 latency + 2 buckets x 14 + ... : far more
	// than 200 cells; fewer means tables went missing.
	if cells < 250 {
		t.Errorf("checked %d cells; want at least 250", cells)
	}
}

// TestHTMLClientsAndPlan renders a shared SDK client, a plan that
// predicts no throttling (zero predictions are omitted from results.json)
// and nothing saturating, and a retry quota without per-second data.
func TestHTMLClientsAndPlan(t *testing.T) {
	const b1, b2 = "111111111111/us-east-1/symmetric", "222222222222/eu-west-1/symmetric"
	shared := &report.ClientInfo{Name: "app", Shared: true, Workloads: []string{"b", "a"},
		Retry: report.ClientSetting{Value: "adaptive", Source: report.SourceEnvironment + " AWS_RETRY_MODE"}, MaxAttempts: report.ClientSetting{Value: "5", Source: report.SourceWorkload},
		MaxBackoff: report.ClientSetting{Value: "20s", Source: report.SourceSDK}, RetryBucket: report.ClientSetting{Value: "500", Source: report.SourceSDK}, RetryTokens: 25}
	own := &report.ClientInfo{Name: "c", Retry: report.ClientSetting{Value: "none", Source: report.SourceRetryFlag}}
	r := &report.Results{
		Scenario:  report.ScenarioInfo{Name: "clients", Scale: 1},
		StartedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		DurationS: 10,
		Workloads: []report.Workload{
			{Name: "b", Bucket: b1, Requests: 100, Client: shared, Errors: map[string]int64{"QuotaExceededError": 7},
				RetryQuotaExhausted: &report.QuotaExhaustion{Client: "app", FirstS: -1, LastS: -1, Requests: 7}},
			{Name: "c", Bucket: b2, Requests: 50, Client: own},
			{Name: "a", Bucket: b1, Requests: 80, Client: shared},
		},
		Buckets: []report.Bucket{
			{Name: b1, QuotaPerS: 100, DemandPerS: 23, Workloads: []string{"a", "b"}, PredictedDemandPerS: 24.5},
			{Name: b2, QuotaPerS: 100, Workloads: []string{"c"}},
		},
		Plan: &report.PlanSummary{Model: "fluid", MonthlyCostUSD: 12.25},
	}
	root, cells := renderChecked(t, r)
	if cells == 0 {
		t.Fatal("no table cells")
	}
	for _, tc := range []struct {
		id   string
		want [][]string
	}{
		{"table-clients", [][]string{
			{"app", "yes", "a, b", "adaptive", "environment AWS_RETRY_MODE", "5", "scenario workload", "20s", "SDK default", "500", "SDK default", "25"},
			{"c", "no", "c", "none", "--retry flag", render.NotApplicable, render.NotApplicable, render.NotApplicable, render.NotApplicable, render.NotApplicable, render.NotApplicable, render.NotApplicable},
		}},
		{"table-retry-quota", [][]string{{"b", "app", "500", "-1.0", "-1.0", "7", "7.0%"}}},
		{"table-plan", [][]string{{"fluid", render.NotApplicable, render.NotApplicable, "12.25"}}},
	} {
		if got := tableRows(root, tc.id); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("#%s rows\n%q\nwant\n%q", tc.id, got, tc.want)
		}
	}
	rows := tableRows(root, "table-buckets")
	if len(rows) != 2 || rows[0][6] != "24.5" || rows[0][11] != "0.0%" || rows[1][6] != "0.0" {
		t.Errorf("bucket rows %q; want predicted demand 24.5 and 0.0, predicted thr-att 0.0%%", rows)
	}

	// Without a plan, the bucket table has no predicted columns.
	r.Plan = nil
	root, _ = renderChecked(t, r)
	if h := tableHeader(root, "table-buckets"); slices.Contains(h, "pred demand/s") || len(tableRows(root, "table-plan")) != 0 {
		t.Errorf("without a plan: bucket columns %q, plan rows %q; want no prediction", h, tableRows(root, "table-plan"))
	}
}

// TestHTMLSharingMatrix checks the who-shares-what matrix against the
// workloads' buckets and keys.
func TestHTMLSharingMatrix(t *testing.T) {
	r := loadFixture(t)
	var page bytes.Buffer
	if err := render.WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	tbl := findID(parseHTML(t, page.Bytes()), "table-sharing")
	if tbl == nil {
		t.Fatal("no #table-sharing")
	}
	var got [][]string
	walk(tbl, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && n.Parent.Data == "tbody" {
			var row []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "td" {
					row = append(row, textOf(c))
				}
			}
			got = append(got, row)
		}
	})
	if len(got) != len(r.Workloads) {
		t.Fatalf("matrix has %d rows; want %d", len(got), len(r.Workloads))
	}
	for i, a := range r.Workloads {
		for j, b := range r.Workloads {
			want := "–"
			switch {
			case i == j:
				want = "·"
			case a.Bucket == b.Bucket && a.Key == b.Key:
				want = "bucket + key"
			case a.Bucket == b.Bucket:
				want = "bucket"
			case a.Key == b.Key:
				want = "key"
			}
			if got[i][j] != want {
				t.Errorf("matrix[%s][%s] = %q; want %q", a.Name, b.Name, got[i][j], want)
			}
		}
	}
	// The fixture has each kind: a shared bucket on different keys, and a
	// shared key in different buckets.
	if got[0][1] != "bucket" || got[0][2] != "key" {
		t.Errorf("fixture: s3-ingest row = %q; want bucket with orders-api and key with billing", got[0])
	}
}

// TestHTMLSelfContained checks that the page references nothing outside
// itself and has one inline SVG chart per expected figure.
func TestHTMLSelfContained(t *testing.T) {
	r := loadFixture(t)
	var page bytes.Buffer
	if err := render.WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	root := parseHTML(t, page.Bytes())
	walk(root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "link":
			// The one link is an empty icon, so that browsers do not ask
			// a server for /favicon.ico.
			if rel, _ := attr(n, "rel"); rel != "icon" {
				t.Errorf("page has a <link rel=%q>", rel)
			}
			if href, _ := attr(n, "href"); href != "data:," {
				t.Errorf("<link rel=icon href=%q>; want data:,", href)
			}
			return
		case "script", "img", "iframe", "object", "embed", "image", "use", "video", "audio", "source":
			t.Errorf("page has a <%s> element", n.Data)
		case "style":
			css := textOf(n)
			for _, bad := range []string{"url(", "@import"} {
				if strings.Contains(css, bad) {
					t.Errorf("style sheet contains %q", bad)
				}
			}
		}
		for _, a := range n.Attr {
			switch a.Key {
			case "src", "srcset", "xlink:href", "action", "formaction", "poster", "data":
				t.Errorf("<%s %s=%q>: a reference", n.Data, a.Key, a.Val)
			case "href":
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s href=%q>: not an in-page link", n.Data, a.Val)
				}
			case "style":
				if strings.Contains(a.Val, "url(") {
					t.Errorf("<%s style=%q>: a url", n.Data, a.Val)
				}
			}
		}
	})
	for _, id := range []string{"chart-goodput", "chart-throttled", "chart-spectrum", "chart-bucket-0", "chart-bucket-1", "chart-coupling", "chart-blast"} {
		fig := findID(root, id)
		if fig == nil {
			t.Errorf("no figure #%s", id)
			continue
		}
		var paths int
		var svg bool
		walk(fig, func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "svg" {
				svg = true
				if w, _ := attr(n, "width"); w != "100%" {
					t.Errorf("#%s svg width %q; want 100%% (scales to the page)", id, w)
				}
				if _, ok := attr(n, "viewBox"); !ok {
					t.Errorf("#%s svg has no viewBox", id)
				}
			}
			if n.Type == html.ElementNode && n.Data == "path" {
				paths++
			}
		})
		if !svg || paths < 5 {
			t.Errorf("#%s: svg %v with %d paths; want an inline chart", id, svg, paths)
		}
	}
	if bytes.Contains(page.Bytes(), []byte("ZgotmplZ")) {
		t.Error("page contains ZgotmplZ: a value was rejected by html/template")
	}
}

// TestHTMLSpectrumFollowsHistogram checks that the percentile spectrum is
// drawn from the histogram: a broken histogram is reported, not drawn.
func TestHTMLSpectrumFollowsHistogram(t *testing.T) {
	r := loadFixture(t)
	r.Workloads[1].Histogram = "not base64!"
	var page bytes.Buffer
	if err := render.WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "orders-api: histogram not readable") {
		t.Error("a broken histogram is not reported")
	}
	// The other two workloads are still drawn; the legend counts their
	// requests from the histograms.
	for _, w := range []int{0, 2} {
		h, err := hdr.Decode([]byte(r.Workloads[w].Histogram))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s (%s requests)", r.Workloads[w].Name, render.FormatNumber(render.KindCount, float64(h.TotalCount())))
		if h.TotalCount() < 100 || !strings.Contains(page.String(), want) {
			t.Errorf("spectrum legend lacks %q", want)
		}
	}
}

// TestHTMLSparseResults renders results without coupling, events, buckets
// or histograms: the page says what is missing instead of failing.
func TestHTMLSparseResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *report.Results
		want []string
	}{
		{"empty", &report.Results{Scenario: report.ScenarioInfo{Name: "empty"}},
			[]string{"No workloads.", "Run with --isolate", "No lifecycle events in this run.", "No latency histograms", "No buckets in these results.",
				"No SDK client information in these results.", "No SDK client ran out of retry quota.", "No prediction in these results."}},
		{"partial", &report.Results{Partial: true, DurationS: 2, Workloads: []report.Workload{{
			Name: "w", Bucket: "1/us-east-1/symmetric", Series: []report.Second{{T: 0, OK: 5, Attempts: 5}, {T: 1, OK: 7, Attempts: 7}},
		}}, Buckets: []report.Bucket{{Name: "1/us-east-1/symmetric", Workloads: []string{"w"}}}},
			[]string{"Partial run", "(unnamed scenario)", "id=\"chart-bucket-0\""}},
		{"harmless event", &report.Results{DurationS: 3,
			Workloads: []report.Workload{{Name: "w", Series: []report.Second{{T: 0, OK: 1}, {T: 1, OK: 1}, {T: 2, OK: 1}}}},
			Events:    []report.Event{{AtS: 1, Action: "rotate", Key: "k", Error: "AccessDeniedException"}},
			Coupling:  []report.Coupling{{Workload: "w"}}},
			[]string{"id=\"chart-blast\"", "no workload failed", "E1 at 1.0s: rotate k (failed: AccessDeniedException)", "id=\"chart-coupling\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var page bytes.Buffer
			if err := render.WriteHTML(&page, tc.r); err != nil {
				t.Fatalf("WriteHTML: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(page.String(), w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
	if err := render.WriteHTML(&bytes.Buffer{}, nil); err == nil {
		t.Error("WriteHTML(nil) = nil; want an error")
	}
}

func ExampleWriteHTML() {
	r := &report.Results{
		Scenario:  report.ScenarioInfo{Name: "example", Scale: 0.01},
		DurationS: 2,
		Workloads: []report.Workload{{
			Name: "orders-api", Operation: "Decrypt", Key: "orders", Bucket: "111111111111/us-east-1/symmetric",
			Requests: 800, OK: 800, Attempts: 800, SentPerS: 400, GoodputPerS: 400,
			Series: []report.Second{{T: 0, Sent: 400, OK: 400, Attempts: 400}, {T: 1, Sent: 400, OK: 400, Attempts: 400}},
		}},
	}
	var page bytes.Buffer
	if err := render.WriteHTML(&page, r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(page.String(), "<!DOCTYPE html>"))
	fmt.Println(strings.Contains(page.String(), `<td data-expr="/workloads/0/goodput_per_s" data-kind="rate" class="num">400.0</td>`))
	// Output:
	// true
	// true
}

// TestHTMLLongRunAllocations checks that the HTML report of a long run
// costs about what a ten-minute run's does: the charts draw a bounded
// number of points per line, so an hour of per-second series allocates
// less than twice what ten minutes do.
func TestHTMLLongRunAllocations(t *testing.T) {
	got := map[int]uint64{}
	for _, s := range []int{60, 600, 3600} {
		got[s] = reporttest.AllocBytes(t, reporttest.Long(t, s), render.WriteHTML)
		t.Logf("WriteHTML, 2 workloads x %4d s: %.2f MB allocated", s, float64(got[s])/1e6)
	}
	if got[3600] >= 2*got[600] {
		t.Errorf("WriteHTML allocated %d bytes for 3600 s and %d for 600 s; want less than twice as much", got[3600], got[600])
	}
}

// linePoints returns the points of each path in figure #id drawn in
// colour hex (upper case, as the SVG writes it) at width 1.5: the lines
// of the workloads.
func linePoints(t *testing.T, root *html.Node, id, hex string) [][][2]float64 {
	t.Helper()
	fig := findID(root, id)
	if fig == nil {
		t.Fatalf("no #%s", id)
	}
	var lines [][][2]float64
	walk(fig, func(n *html.Node) {
		if n.Type != html.ElementNode || n.Data != "path" {
			return
		}
		if style, _ := attr(n, "style"); !strings.Contains(style, "stroke:"+hex+";stroke-width:1.5") {
			return
		}
		d, _ := attr(n, "d")
		var pts [][2]float64
		for _, p := range strings.FieldsFunc(d, func(r rune) bool { return r == 'M' || r == 'L' }) {
			x, y, ok := strings.Cut(p, ",")
			fx, err1 := strconv.ParseFloat(x, 64)
			fy, err2 := strconv.ParseFloat(y, 64)
			if !ok || err1 != nil || err2 != nil {
				t.Fatalf("#%s: path point %q", id, p)
			}
			pts = append(pts, [2]float64{fx, fy})
		}
		lines = append(lines, pts)
	})
	return lines
}

// TestHTMLLongRunCharts checks that a long run's time charts draw one
// point per several seconds, the mean of those seconds, and say so, while
// a short run's draw one point per second.
func TestHTMLLongRunCharts(t *testing.T) {
	for _, tc := range []struct {
		seconds, points int
		note            string
	}{
		{60, 60, "one point per second"},
		{600, 600, "one point per second"},
		{1200, 600, "each point the mean per second of 2 seconds"},
		{3600, 600, "each point the mean per second of 6 seconds"},
	} {
		t.Run(strconv.Itoa(tc.seconds), func(t *testing.T) {
			r := reporttest.Long(t, tc.seconds)
			// Workload 0 alternates between 0 and 1,200 ok/s: one point
			// per second zigzags, the mean of an even number of seconds
			// is a flat 600.
			for i := range r.Workloads[0].Series {
				r.Workloads[0].Series[i].OK = int64(1200 * (i % 2))
			}
			var page bytes.Buffer
			if err := render.WriteHTML(&page, r); err != nil {
				t.Fatal(err)
			}
			root := parseHTML(t, page.Bytes())
			lines := linePoints(t, root, "chart-goodput", "#4E79A7")
			if len(lines) != 1 || len(lines[0]) != tc.points {
				n := -1
				if len(lines) > 0 {
					n = len(lines[0])
				}
				t.Fatalf("goodput chart: %d lines of workload 0, the first with %d points; want 1 with %d", len(lines), n, tc.points)
			}
			ys := map[float64]bool{}
			for _, p := range lines[0] {
				ys[p[1]] = true
			}
			if flat := len(ys) == 1; flat != (tc.seconds > 600) {
				t.Errorf("goodput chart of workload 0 has %d distinct heights; want 1 when points are means of 2 or more seconds, 2 otherwise", len(ys))
			}
			if !strings.Contains(textOf(findID(root, "over-time")), tc.note) {
				t.Errorf("time charts do not say %q", tc.note)
			}
			if tc.seconds > 600 && !strings.Contains(textOf(findID(root, "chart-bucket-0")), "busiest second of each") {
				t.Error("bucket chart of a long run lacks the busiest second of each point")
			}
			// No line of any chart has more than 600 points.
			walk(root, func(n *html.Node) {
				if n.Type == html.ElementNode && n.Data == "path" {
					d, _ := attr(n, "d")
					if k := strings.Count(d, "L") + 1; k > 600 {
						t.Errorf("a path has %d points; want at most 600", k)
					}
				}
			})
		})
	}
}

// BenchmarkWriteHTML reports what writing the HTML report of 2 workloads
// costs for runs of 60 s, 10 minutes and an hour (see B/op).
func BenchmarkWriteHTML(b *testing.B) {
	for _, s := range []int{60, 600, 3600} {
		r := reporttest.Long(b, s)
		b.Run(fmt.Sprintf("%ds", s), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := render.WriteHTML(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHTMLHeadlineAndChartUnits: the page opens with the verdict's
// headline; the time charts end at the measured window (a spike in the
// drain after it is not drawn) and show rates at real size, as the
// thresholds do, naming the scale.
func TestHTMLHeadlineAndChartUnits(t *testing.T) {
	ser := []report.Second{{T: 0, OK: 10, Attempts: 10}, {T: 1, OK: 10, Attempts: 10}, {T: 2, OK: 10, Attempts: 10}, {T: 3, OK: 50000, Attempts: 50000}}
	r := &report.Results{
		Schema: report.Schema, Scenario: report.ScenarioInfo{Name: "units", Scale: 0.01}, DurationS: 3,
		Workloads: []report.Workload{{Name: "w", Bucket: "1/us-east-1/symmetric", Requests: 30, OK: 50030, Attempts: 50030, Series: ser,
			Errors: map[string]int64{"AccessDeniedException": 30}}},
		Buckets: []report.Bucket{{Name: "1/us-east-1/symmetric", QuotaPerS: 10, DemandPerS: 10, Workloads: []string{"w"}}},
	}
	var buf bytes.Buffer
	if err := render.WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	i := strings.Index(page, `<p id="headline" class="headline fail" role="status">FAIL`)
	if i < 0 || i > strings.Index(page, "<h1>") {
		t.Errorf("page does not open with a FAIL headline before the title")
	}
	if !strings.Contains(page, "Run at scale 0.01: charts and thresholds show rates at real size") {
		t.Errorf("page does not say the charts' rates are at real size")
	}
	start := strings.Index(page, `id="chart-goodput"`)
	end := strings.Index(page[start:], "</figure>")
	svg := page[start : start+end]
	if !strings.Contains(svg, "at real size (measured / scale 0.01)") {
		t.Errorf("goodput chart's axis does not name real size and the scale")
	}
	if m := regexp.MustCompile(`>[0-9.]+e\+0[6-9]<|>[0-9]{7,}<|>[0-9]+M<`).FindString(svg); m != "" {
		t.Errorf("goodput chart draws the drain second after the window: its axis reaches %s", m)
	}
	if !regexp.MustCompile(`>1000<|>1,000<|>1k<|>1200<|>1,200<`).MatchString(svg) {
		t.Errorf("goodput chart's axis does not reach 1,000/s (10/s at scale 0.01, at real size)")
	}
}
