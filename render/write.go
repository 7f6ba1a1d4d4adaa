package render

import (
	"fmt"
	"io"
)

// write is the frame of every writer here: it refuses a nil v (noun says
// what v is) and gives fn's error the format that failed, as in "report:
// write html: ...".
func write[T any](w io.Writer, v *T, format, noun string, fn func(io.Writer, *T) error) error {
	if v == nil {
		return fmt.Errorf("report: write %s: nil %s", format, noun)
	}
	if err := fn(w, v); err != nil {
		return fmt.Errorf("report: write %s: %w", format, err)
	}
	return nil
}
