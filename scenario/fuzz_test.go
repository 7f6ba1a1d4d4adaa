package scenario_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kmsload/kmsload/scenario"
)

func FuzzParse(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join("testdata", "*", "*.yaml"),
		filepath.Join("..", "scenarios", "*.yaml"),
	} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("workloads: {w: &w {caller: p}, v: *w}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse("f.yaml", data)
		if err == nil {
			if s == nil {
				t.Fatal("Parse returned nil scenario and nil error")
			}
			if verr := s.Validate(); verr != nil {
				t.Fatalf("Parse accepted a scenario that Validate rejects: %v", verr)
			}
			_ = s.String()
			return
		}
		var errs scenario.Errors
		if !errors.As(err, &errs) {
			t.Fatalf("Parse error %T is not scenario.Errors: %v", err, err)
		}
		if len(errs) == 0 {
			t.Fatal("Parse returned an empty Errors")
		}
		for i, e := range errs {
			if e.Line < 1 || e.Col < 1 || e.File != "f.yaml" || e.Msg == "" {
				t.Fatalf("problem %d has no position: %+v", i, e)
			}
			if i > 0 && (errs[i-1].Line > e.Line || errs[i-1].Line == e.Line && errs[i-1].Col > e.Col) {
				t.Fatalf("problems not sorted by position: %v", err)
			}
		}
	})
}
