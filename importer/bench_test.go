package importer_test

import (
	"testing"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/trail"
)

// BenchmarkAdd is the importer's own cost per event (the trail's
// reading left out): events of the synthetic trail, read once.
func BenchmarkAdd(b *testing.B) {
	dir, _ := shared(b)
	var events []trail.Event
	trail.Read([]string{dir}, func(e trail.Event) error { events = append(events, e); return nil })
	b.ResetTimer()
	b.ReportAllocs()
	im, _ := importer.New(importer.Options{})
	for i := 0; i < b.N; i++ {
		im.Add(events[i%len(events)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
