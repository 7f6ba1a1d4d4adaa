package record

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// WriteHlog writes workload w's 1-second interval histograms in the
// HdrHistogram interval-log format. Call after Finish and before Close.
//
// The log has the usual header (format version, start time, base time,
// legend) and one line per second of the window, with timestamps relative
// to the start. Values are microseconds; the Interval_Max column is written
// with the log writer's default unit ratio (1e6), so it reads in seconds.
func (r *Recorder) WriteHlog(w int, out io.Writer) error {
	ws := r.ws[w]
	ws.logMu.Lock()
	defer ws.logMu.Unlock()
	if ws.logErr != nil {
		return ws.logErr
	}
	lw := hdr.NewHistogramLogWriter(out)
	for _, f := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(r.startMs) },
		func() error { return lw.OutputBaseTime(r.baseMs()) },
		func() error {
			return lw.OutputComment(fmt.Sprintf("[kmsload workload %q: latency from intended send time, microseconds, 1-second intervals]", ws.info.Name))
		},
		lw.OutputLegend,
	} {
		if err := f(); err != nil {
			return fmt.Errorf("record: write hlog header: %w", err)
		}
	}
	if err := ws.log.writeTo(out); err != nil {
		return fmt.Errorf("record: write hlog of %s: %w", ws.info.Name, err)
	}
	return nil
}

// spoolMemBytes is how much of a workload's interval log is kept in
// memory; beyond it the log goes to a temporary file.
const spoolMemBytes = 256 << 10

// errLogClosed is returned by the interval log after Recorder.Close.
var errLogClosed = errors.New("recorder closed")

// logSpool is an interval log: in memory up to spoolMemBytes, then in a
// temporary file. When the file cannot be created the log stays in
// memory. Not safe for concurrent use (wstate.logMu guards it).
type logSpool struct {
	mem    []byte
	f      *os.File // nil while the log is in memory
	name   string   // file to remove on close; "" when already removed
	size   int64    // bytes written to f
	noFile bool     // creating the file failed
	closed bool
}

// write appends p to the log.
func (s *logSpool) write(p []byte) error {
	if s.closed {
		return errLogClosed
	}
	if s.f == nil {
		if s.noFile || len(s.mem)+len(p) <= spoolMemBytes || s.spill() != nil {
			s.mem = append(s.mem, p...)
			return nil
		}
	}
	n, err := s.f.Write(p)
	s.size += int64(n)
	return err
}

// spill moves the log to a new temporary file. On failure the log stays
// in memory for good.
func (s *logSpool) spill() error {
	f, err := os.CreateTemp("", "kmsload-hlog-*")
	if err != nil {
		s.noFile = true
		return err
	}
	name := f.Name()
	// Unix removes an open file's name and keeps its data until it is
	// closed: the file then disappears with the process, however it ends.
	if os.Remove(name) == nil {
		name = ""
	}
	if _, err := f.Write(s.mem); err != nil {
		_ = f.Close()
		if name != "" {
			_ = os.Remove(name)
		}
		s.noFile = true
		return err
	}
	s.f, s.name, s.size = f, name, int64(len(s.mem))
	s.mem = nil
	return nil
}

// writeTo copies the whole log to w.
func (s *logSpool) writeTo(w io.Writer) error {
	if s.closed {
		return errLogClosed
	}
	if s.f == nil {
		_, err := w.Write(s.mem)
		return err
	}
	_, err := io.Copy(w, io.NewSectionReader(s.f, 0, s.size))
	return err
}

// close drops the log and removes its file.
func (s *logSpool) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.mem = nil
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if s.name != "" {
		if rerr := os.Remove(s.name); err == nil {
			err = rerr
		}
	}
	s.f = nil
	return err
}

// histEncoder writes histograms in HdrHistogram's V2 compressed encoding,
// base64 (as hdr.Histogram.Encode(hdr.V2CompressedEncodingCookieBase)
// does, byte for byte), reusing its buffers and its zlib compressor: a new
// compressor at the encoding's best compression allocates about 800 KB,
// and Encode builds one per histogram. The recorder encodes one interval
// histogram per workload per second; BenchmarkHistEncode measured a busy
// interval at 1.04 ms, 860 KB and 3,006 allocations through Encode and
// 0.21 ms, one allocation (the counts' export) here, on 2 cores.
type histEncoder struct {
	zw   *zlib.Writer
	raw  []byte       // uncompressed payload
	z    bytes.Buffer // compressed payload
	bin  []byte       // cookie, length and compressed payload
	b64  []byte       // base64 of bin
	line []byte       // a log line
}

func newHistEncoder() *histEncoder {
	e := &histEncoder{}
	e.zw, _ = zlib.NewWriterLevel(&e.z, zlib.BestCompression) // a valid level
	return e
}

// sharedEncoder is a recorder's one histogram encoder, used by each
// workload's flush in turn, so that a recorder holds one compressor however
// many goroutines record. It is created on first use and dropped by Close.
// Lock order: wstate.logMu, sharedEncoder.mu, wstate.mu.
type sharedEncoder struct {
	mu sync.Mutex
	e  *histEncoder
}

// lock returns the encoder, locked until unlock.
func (s *sharedEncoder) lock() *histEncoder {
	s.mu.Lock()
	if s.e == nil {
		s.e = newHistEncoder()
	}
	return s.e
}

func (s *sharedEncoder) unlock() { s.mu.Unlock() }

// release drops the encoder (a later use creates another).
func (s *sharedEncoder) release() {
	s.mu.Lock()
	s.e = nil
	s.mu.Unlock()
}

// V2 encoding cookies (hdrhistogram-go's encodingCookie and
// compressedEncodingCookie).
const (
	v2Cookie           = hdr.V2EncodingCookieBase | 0x10
	v2CompressedCookie = hdr.V2CompressedEncodingCookieBase | 0x10
)

// encode returns h's encoding, valid until the next call, and h's
// maximum value (hdr.Histogram.Max).
func (e *histEncoder) encode(h *hdr.Histogram) ([]byte, int64) {
	snap := h.Export()
	counts := snap.Counts
	// The last count that is not zero: found from the front, where the
	// counts of latencies are, by summing up to the total, instead of
	// over the tens of thousands of empty counts at the back.
	limit, left := 0, h.TotalCount()
	for i := 0; i < len(counts) && left > 0; i++ {
		if counts[i] != 0 {
			left -= counts[i]
			limit = i + 1
		}
	}
	var maxV int64
	if limit > 0 {
		maxV = h.Max()
	}
	if limit == 0 {
		limit = 1 // an empty histogram encodes its first (zero) count
	}
	ratio := snap.IntegerToDoubleConversionRatio
	if ratio == 0 {
		ratio = 1
	}
	raw := binary.BigEndian.AppendUint32(e.raw[:0], uint32(v2Cookie))
	raw = append(raw, 0, 0, 0, 0)               // payload length, set below
	raw = binary.BigEndian.AppendUint32(raw, 0) // normalizing index offset
	raw = binary.BigEndian.AppendUint32(raw, uint32(int32(snap.SignificantFigures)))
	raw = binary.BigEndian.AppendUint64(raw, uint64(snap.LowestTrackableValue))
	raw = binary.BigEndian.AppendUint64(raw, uint64(snap.HighestTrackableValue))
	raw = binary.BigEndian.AppendUint64(raw, math.Float64bits(ratio))
	head := len(raw)
	for i := 0; i < limit; {
		c := counts[i]
		i++
		if c == 0 {
			zeros := int64(1)
			for i < limit && counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				c = -zeros
			}
		}
		raw = appendZigZag(raw, c)
	}
	binary.BigEndian.PutUint32(raw[4:8], uint32(len(raw)-head))
	e.raw = raw

	e.z.Reset()
	e.zw.Reset(&e.z)
	_, _ = e.zw.Write(raw) // a bytes.Buffer does not fail
	_ = e.zw.Close()
	bin := binary.BigEndian.AppendUint32(e.bin[:0], uint32(v2CompressedCookie))
	bin = binary.BigEndian.AppendUint32(bin, uint32(e.z.Len()))
	bin = append(bin, e.z.Bytes()...)
	e.bin = bin
	e.b64 = base64.StdEncoding.AppendEncode(e.b64[:0], bin)
	return e.b64, maxV
}

// appendZigZag appends v in the ZigZag LEB128 form of the V2 encoding (at
// most 9 bytes, the last one holding 8 bits).
func appendZigZag(b []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for range 8 {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// emptyEncoding returns the encoding of an empty histogram of the
// recorder's geometry.
var emptyEncoding = sync.OnceValue(func() []byte {
	enc, _ := newHistEncoder().encode(newHist())
	return enc
})

// appendLogLine appends an interval-log line as hdr.HistogramLogWriter's
// OutputIntervalHistogram writes it: start and length in seconds from the
// base time, the maximum in seconds (microseconds / 1e6), the encoding.
func appendLogLine(b []byte, baseMs, startMs, endMs, maxUs int64, enc []byte) []byte {
	start := (float64(startMs) - float64(baseMs)) / 1000.0
	end := (float64(endMs) - float64(baseMs)) / 1000.0
	b = strconv.AppendFloat(b, start, 'f', 6, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, end-start, 'f', 6, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, float64(maxUs)/hdr.MsToNsRatio, 'f', 6, 64)
	b = append(b, ',')
	b = append(b, enc...)
	return append(b, '\n')
}
