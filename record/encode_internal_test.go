package record

import (
	"bytes"
	"math/rand/v2"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// intervalHist is a one-second interval of a busy workload: 2,000
// latencies spread from 0.2 ms to 2 s.
func intervalHist() *hdr.Histogram {
	h := newHist()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		_ = h.RecordValue(int64(200 * (1 + rng.ExpFloat64()*rng.ExpFloat64()*50)))
	}
	return h
}

// TestHistEncoderMatchesLibrary: the recorder's encoder writes what
// hdrhistogram-go's Encode writes, byte for byte.
func TestHistEncoderMatchesLibrary(t *testing.T) {
	for _, h := range []*hdr.Histogram{newHist(), intervalHist()} {
		want, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		got, maxV := newHistEncoder().encode(h)
		if !bytes.Equal(got, want) {
			t.Errorf("encoding differs from hdrhistogram-go's:\n got %s\nwant %s", got, want)
		}
		if h.TotalCount() > 0 && maxV != h.Max() {
			t.Errorf("max %d; want %d", maxV, h.Max())
		}
	}
}

// BenchmarkHistEncode measures why the recorder encodes interval
// histograms itself: hdrhistogram-go's Encode builds a new zlib writer at
// best compression for every histogram.
func BenchmarkHistEncode(b *testing.B) {
	h := intervalHist()
	b.Run("hdrhistogram-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Encode(hdr.V2CompressedEncodingCookieBase); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("recorder", func(b *testing.B) {
		e := newHistEncoder()
		b.ReportAllocs()
		for b.Loop() {
			e.encode(h)
		}
	})
}
