package metrics_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode"

	dto "github.com/prometheus/client_model/go"

	"github.com/kmsload/kmsload/metrics"
	"github.com/kmsload/kmsload/record"
)

const dashboardFile = "../docs/grafana-dashboard.json"

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		GridPos struct {
			H, W, X, Y int
		} `json:"gridPos"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Definition string          `json:"definition"`
			Query      json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// definedSeries returns, per series name the package exposes (histograms
// as _bucket, _sum and _count), its label names, after one window has
// recorded every kind of observation.
func definedSeries(t *testing.T) map[string]map[string]bool {
	t.Helper()
	m := metrics.New()
	m.SetRun("s", "embedded")
	o := m.Window(metrics.WindowCombined, workloads())
	o.Sent(0, at(0))
	o.Dropped(0, at(0))
	o.CacheHit(0, at(0))
	o.Attempt(0, at(0), ms(1), record.Throttled, "ThrottlingException")
	o.Done(0, at(0), at(0.1), 1, record.Throttled, "ThrottlingException")
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "kmsload_") {
			continue
		}
		labels := map[string]bool{}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			out[f.GetName()+"_sum"] = labels
			out[f.GetName()+"_count"] = labels
			withLe := map[string]bool{"le": true}
			for l := range labels {
				withLe[l] = true
			}
			out[f.GetName()+"_bucket"] = withLe
			continue
		}
		out[f.GetName()] = labels
	}
	for _, n := range metrics.Names() {
		if out[n] == nil && out[n+"_count"] == nil {
			t.Errorf("metrics.Names() lists %s, which the registry does not have", n)
		}
	}
	return out
}

// promqlWords are PromQL keywords and aggregation operators: identifiers
// that are not metric names even when no parenthesis follows.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true,
}

// selector is a metric name in a PromQL expression with the label names
// its matchers use.
type selector struct {
	name   string
	labels []string
}

// selectors lexes a PromQL expression just enough to find its metric
// selectors: identifiers not followed by "(" that are not keywords, with
// the label names inside the braces after them. Strings, range and offset
// brackets, and the label lists of by/without/on/ignoring are skipped.
func selectors(expr string) ([]selector, error) {
	var out []selector
	rs := []rune(expr)
	i := 0
	skipSpace := func() {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
	}
	ident := func() string {
		j := i
		for i < len(rs) && (rs[i] == '_' || rs[i] == ':' || unicode.IsLetter(rs[i]) || (i > j && unicode.IsDigit(rs[i]))) {
			i++
		}
		return string(rs[j:i])
	}
	str := func() error {
		q := rs[i]
		for i++; i < len(rs) && rs[i] != q; i++ {
			if rs[i] == '\\' {
				i++
			}
		}
		if i >= len(rs) {
			return fmt.Errorf("unterminated string in %q", expr)
		}
		i++
		return nil
	}
	matchers := func() ([]string, error) { // at '{'
		var labels []string
		i++
		for {
			skipSpace()
			if i >= len(rs) {
				return nil, fmt.Errorf("unterminated {} in %q", expr)
			}
			if rs[i] == '}' {
				i++
				return labels, nil
			}
			if rs[i] == ',' {
				i++
				continue
			}
			l := ident()
			if l == "" {
				return nil, fmt.Errorf("bad matcher at %d in %q", i, expr)
			}
			labels = append(labels, l)
			skipSpace()
			for i < len(rs) && strings.ContainsRune("=!~", rs[i]) {
				i++
			}
			skipSpace()
			if i >= len(rs) || rs[i] != '"' {
				return nil, fmt.Errorf("matcher %s without a string value in %q", l, expr)
			}
			if err := str(); err != nil {
				return nil, err
			}
		}
	}
	for i < len(rs) {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '"' || c == '\'':
			if err := str(); err != nil {
				return nil, err
			}
		case c == '[':
			for i < len(rs) && rs[i] != ']' {
				i++
			}
			i++
		case c == '{': // a selector without a name
			return nil, fmt.Errorf("selector without a metric name in %q", expr)
		case unicode.IsDigit(c) || c == '.':
			for i < len(rs) && (unicode.IsDigit(rs[i]) || rs[i] == '.' || rs[i] == 'e') {
				i++
			}
		case c == '_' || c == ':' || unicode.IsLetter(c):
			name := ident()
			skipSpace()
			next := rune(0)
			if i < len(rs) {
				next = rs[i]
			}
			switch {
			case name == "by" || name == "without" || name == "on" || name == "ignoring" ||
				name == "group_left" || name == "group_right":
				if next == '(' {
					for i < len(rs) && rs[i] != ')' {
						i++
					}
					i++
				}
			case promqlWords[name]:
			case next == '(':
				// a function call
			default:
				s := selector{name: name}
				if next == '{' {
					labels, err := matchers()
					if err != nil {
						return nil, err
					}
					s.labels = labels
				}
				out = append(out, s)
			}
		default:
			i++
		}
	}
	return out, nil
}

func TestSelectorsLexer(t *testing.T) {
	for _, c := range []struct {
		expr string
		want string
	}{
		{`rate(a_total{x="1", y=~"$v"}[$__rate_interval])`, "a_total[x y]"},
		{`sum by (window, le) (rate(b_bucket[5m])) / ignoring(le) c`, "b_bucket[] c[]"},
		{`histogram_quantile(0.99, sum without (z) (d{q!="}"}))`, "d[q]"},
		{`max by (bucket) (e) - 1.5e3`, "e[]"},
	} {
		ss, err := selectors(c.expr)
		if err != nil {
			t.Errorf("selectors(%q): %v", c.expr, err)
			continue
		}
		var got []string
		for _, s := range ss {
			got = append(got, s.name+"["+strings.Join(s.labels, " ")+"]")
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("selectors(%q) = %s; want %s", c.expr, g, c.want)
		}
	}
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_]\w*)\)$`)

func TestDashboardUsesDefinedMetrics(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: title %q, uid %q, %d panels", dashboardFile, d.Title, d.UID, len(d.Panels))
	}
	defined := definedSeries(t)
	used := map[string]bool{}
	check := func(where, expr string) {
		t.Helper()
		ss, err := selectors(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		if len(ss) == 0 {
			t.Errorf("%s: %q names no metric", where, expr)
		}
		for _, s := range ss {
			labels, ok := defined[s.name]
			if !ok {
				t.Errorf("%s: %s is not a metric of package metrics", where, s.name)
				continue
			}
			used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s.name, "_bucket"), "_sum"), "_count")] = true
			for _, l := range s.labels {
				if !labels[l] {
					t.Errorf("%s: %s has no label %s", where, s.name, l)
				}
			}
		}
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("%s: id missing or used twice", where)
		}
		ids[p.ID] = true
		if p.Title == "" || p.Type == "" || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: type %q, gridPos %+v", where, p.Type, p.GridPos)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		refs := map[string]bool{}
		for _, q := range p.Targets {
			if q.RefID == "" || refs[q.RefID] {
				t.Errorf("%s: refId %q missing or repeated", where, q.RefID)
			}
			refs[q.RefID] = true
			check(where, q.Expr)
		}
	}
	vars := 0
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		vars++
		m := labelValuesRE.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: definition %q is not label_values(SELECTOR, LABEL)", v.Name, v.Definition)
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil || q.Query != v.Definition {
			t.Errorf("variable %s: query %s differs from its definition %q (%v)", v.Name, v.Query, v.Definition, err)
		}
		check("variable "+v.Name, m[1])
		ss, _ := selectors(m[1])
		for _, s := range ss {
			if !defined[s.name][m[2]] {
				t.Errorf("variable %s: %s has no label %s", v.Name, s.name, m[2])
			}
		}
	}
	if vars == 0 {
		t.Error("no query variables (window, workload)")
	}
	for _, n := range metrics.Names() {
		if !used[n] {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}
