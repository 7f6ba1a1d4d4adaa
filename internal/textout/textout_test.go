package textout

import (
	"errors"
	"strings"
	"testing"
)

func TestAligned(t *testing.T) {
	var b strings.Builder
	w := &Writer{W: &b}
	w.Printf("title %d\n", 1)
	w.Aligned("  ", []string{"a\tbb\tc", "ccc\td\te"})
	if w.Err != nil {
		t.Fatal(w.Err)
	}
	want := "title 1\n  a    bb  c\n  ccc  d   e\n"
	if b.String() != want {
		t.Errorf("got %q; want %q", b.String(), want)
	}
}

type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	f.n--
	return len(p), nil
}

func TestKeepsFirstError(t *testing.T) {
	first := errors.New("first")
	f := &failAfter{n: 1, err: first}
	w := &Writer{W: f}
	w.Printf("ok\n")
	w.Printf("fails\n")
	f.err = errors.New("second")
	w.Printf("skipped\n")
	w.Aligned("", []string{"a\tb"})
	if _, err := w.Write([]byte("x")); err != first || w.Err != first {
		t.Errorf("Write = %v, Err = %v; want the first error", err, w.Err)
	}
}
