package importer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/trail"
)

// TestWindowCompress: a window keeps the calls inside it, and
// compressing puts n seconds' calls into one step.
func TestWindowCompress(t *testing.T) {
	dir, _ := shared(t)
	whole, _ := importDir(t, dir, importer.Options{ScrubKey: []byte("k"), Throttled: importer.ThrottledServed})
	from := genConfig.Start
	if from.IsZero() {
		from = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	}
	res, _ := importDir(t, dir, importer.Options{ScrubKey: []byte("k"), Throttled: importer.ThrottledServed, From: from.Add(30 * time.Second), To: from.Add(90 * time.Second), Compress: 10})
	if d := res.Trace.Duration(); d != 6*time.Second {
		t.Fatalf("trace of %v; want 6 steps of 10 recorded seconds", d)
	}
	if !strings.Contains(string(res.Scenario), "Time is compressed 10x") {
		t.Error("the scenario does not say its time is compressed")
	}
	for _, name := range whole.Trace.Names {
		c := whole.Trace.Series[name].Counts
		s := res.Trace.Series[name]
		if s == nil {
			t.Errorf("%s is missing from the window", name)
			continue
		}
		for step := range 6 {
			var want float32
			for _, n := range c[30+10*step : 40+10*step] {
				want += n
			}
			if s.Counts[step] != want {
				t.Errorf("%s step %d: %g; want %g", name, step, s.Counts[step], want)
			}
		}
	}
}

// TestImportOptions: bad options and an empty window are errors that say
// why.
func TestImportOptions(t *testing.T) {
	for _, o := range []importer.Options{{Group: "team"}, {Compress: -1}, {Throttled: "drop"},
		{From: time.Unix(10, 0), To: time.Unix(5, 0)}} {
		if _, err := importer.New(o); !errors.Is(err, importer.ErrOptions) {
			t.Errorf("New(%+v) = %v; want ErrOptions", o, err)
		}
	}
	dir, _ := shared(t)
	im, _ := importer.New(importer.Options{From: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	trail.Read([]string{dir}, im.Add)
	if _, err := im.Build(importer.BuildOptions{Name: "x", TraceFile: "x.trace"}); !errors.Is(err, importer.ErrEmpty) || !strings.Contains(err.Error(), "outside the window") {
		t.Errorf("Build of an empty window = %v; want ErrEmpty saying the calls were outside the window", err)
	}
}
