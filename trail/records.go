package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
)

// recordReader reads the records of a delivery file's Records array, from
// just after its '[', with the decoder of decode.go. It hands the file to
// encoding/json from the record where the framing is anything but
// whitespace, a comma and an object that the decoder or json.Valid
// accepts, so that a broken file is reported as encoding/json's Decoder
// reports it. It holds the unread bytes and at most one record.
type recordReader struct {
	src   io.Reader
	latch *latch // under src: decodeRecords tells its error from JSON's
	buf   []byte // unread: buf[r:]
	r     int
	err   error // src's error, once it returned one
}

// more reads more of src, keeping the unread bytes; false once src has
// nothing more.
func (rr *recordReader) more() bool {
	if rr.err != nil {
		return false
	}
	if rr.r > 0 {
		rr.buf = rr.buf[:copy(rr.buf, rr.buf[rr.r:])]
		rr.r = 0
	}
	if len(rr.buf) == cap(rr.buf) {
		rr.buf = slices.Grow(rr.buf, cap(rr.buf))
	}
	n, err := rr.src.Read(rr.buf[len(rr.buf):cap(rr.buf)])
	rr.buf = rr.buf[:len(rr.buf)+n]
	rr.err = err
	return n > 0 || err == nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// next moves past whitespace from j (relative to the unread bytes) and
// returns the index of the next byte, -1 when the input ends first.
func (rr *recordReader) next(j int) int {
	for {
		b := rr.buf[rr.r:]
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j < len(b) {
			return j
		}
		if !rr.more() {
			return -1
		}
	}
}

// read reads the records; only fn's error is returned.
func (rr *recordReader) read(path string, d *decoder, s *Summary, fn func(Event) error) error {
	for i := 0; ; i++ {
		// What encoding/json's Decoder.More and Decode see: the end, or a
		// comma (after the first record), then the record.
		j := rr.next(0)
		if j < 0 || rr.buf[rr.r+j] == ']' || rr.buf[rr.r+j] == '}' {
			return nil
		}
		if i > 0 {
			if rr.buf[rr.r+j] != ',' {
				return rr.decodeRest(path, i, s, fn)
			}
			if j = rr.next(j + 1); j < 0 {
				return rr.decodeRest(path, i, s, fn)
			}
		}
		if rr.buf[rr.r+j] != '{' {
			return rr.decodeRest(path, i, s, fn)
		}
		ok, err := rr.record(path, i, j, d, s, fn)
		if !ok {
			return rr.decodeRest(path, i, s, fn)
		} else if err != nil {
			return err
		}
	}
}

// record decodes record i, whose '{' is at j, and delivers it; ok is false
// when encoding/json must read the file from record i on.
func (rr *recordReader) record(path string, i, j int, d *decoder, s *Summary, fn func(Event) error) (ok bool, err error) {
	for {
		b := rr.buf[rr.r+j:]
		outcome, n := d.p.parse(b)
		if outcome == parsed {
			rr.r += j + n
			return true, deliverParsed(path, i, d, s, fn)
		}
		if outcome == bail {
			n = valueEnd(b)
		}
		if outcome == short || n < 0 {
			if !rr.more() {
				return false, nil
			}
			continue
		}
		// A record encoding/json decodes alone: a valid value, so the one
		// its Decoder would read.
		if !json.Valid(b[:n]) {
			return false, nil
		}
		var e Event
		err := json.Unmarshal(b[:n], &e)
		if _, syntax := errors.AsType[*json.SyntaxError](err); syntax {
			return false, nil
		}
		rr.r += j + n
		return true, deliverEvent(path, i, e, err, s, fn)
	}
}

// valueEnd is the length of the object or array at the start of b, valid
// or not, as its brackets and strings delimit it; -1 when b ends first.
func valueEnd(b []byte) int {
	depth := 0
	for j := 0; j < len(b); j++ {
		switch b[j] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return j + 1
			}
		case '"':
			for j++; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
		}
	}
	return -1
}

// errReader returns err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// decodeRest reads the rest of the file, from record i on, with
// encoding/json's Decoder, given the bytes as they follow record i-1.
func (rr *recordReader) decodeRest(path string, i int, s *Summary, fn func(Event) error) error {
	// A Decoder that has read '[' and, after the first record, one value.
	head := "["
	if i > 0 {
		head = "[{}"
	}
	in := []io.Reader{strings.NewReader(head), bytes.NewReader(rr.buf[rr.r:])}
	if rr.err == nil {
		in = append(in, rr.src)
	} else if rr.err != io.EOF {
		in = append(in, errReader{rr.err})
	}
	dec := json.NewDecoder(io.MultiReader(in...))
	dec.Token()
	if i > 0 {
		var v struct{}
		dec.Decode(&v)
	}
	return decodeRecords(path, dec, rr.latch, i, s, fn)
}
