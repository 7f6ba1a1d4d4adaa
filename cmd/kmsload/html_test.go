package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/render"
)

// TestReportHTML re-renders a stored run: --html FILE writes the page and
// prints the summary, --html - prints only the page.
func TestReportHTML(t *testing.T) {
	const results = "../../report/testdata/results.json"
	out := filepath.Join(t.TempDir(), "report.html")
	stdout, stderr, code := kmsload(t, "report", results, "--html", out)
	if code != 0 {
		t.Fatalf("kmsload report --html FILE: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "kmsload results: html-report-fixture") {
		t.Errorf("stdout lacks the text summary:\n%s", stdout)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", `id="chart-spectrum"`, `id="table-workloads"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("%s lacks %q", out, want)
		}
	}

	stdout, stderr, code = kmsload(t, "report", results, "--html", "-")
	if code != 0 || !strings.HasPrefix(stdout, "<!DOCTYPE html>") || strings.Contains(stdout, "kmsload results:") {
		t.Errorf("kmsload report --html -: exit %d, stdout starts %q; want only the page\n%s", code, stdout[:min(40, len(stdout))], stderr)
	}

	if _, _, code := kmsload(t, "report", "no-such.json", "--html", out); code != 2 {
		t.Errorf("kmsload report no-such.json: exit %d; want 2", code)
	}
}

// TestRunWritesHTMLReport runs a small scenario on the embedded emulator
// and finds report.html next to results.json, showing its numbers.
func TestRunWritesHTMLReport(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := kmsload(t, "run", "testdata/small.yaml", "--quiet", "--out", dir); code != 0 {
		t.Fatalf("kmsload run: exit %d\n%s", code, stderr)
	}
	res := readResults(t, dir)
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatalf("run wrote no report.html: %v", err)
	}
	want := fmt.Sprintf(`data-expr="/workloads/0/ok" data-kind="count" class="num">%s</td>`,
		render.FormatNumber(render.KindCount, float64(res.Workloads[0].OK)))
	if !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks the workload's ok count %s", want)
	}
}
