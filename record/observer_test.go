package record_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/kmsload/kmsload/record"
)

// callLog is an Observer that writes down each call.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(format string, args ...any) {
	l.mu.Lock()
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *callLog) Sent(w int, intended time.Time) { l.add("sent %d %v", w, intended.Sub(t0)) }
func (l *callLog) Dropped(w int, intended time.Time) {
	l.add("dropped %d %v", w, intended.Sub(t0))
}
func (l *callLog) CacheHit(w int, intended time.Time) {
	l.add("cache-hit %d %v", w, intended.Sub(t0))
}
func (l *callLog) Attempt(w int, sent time.Time, service time.Duration, o record.Outcome, code string) {
	l.add("attempt %d %v %v %v %q", w, sent.Sub(t0), service, o, code)
}
func (l *callLog) Done(w int, intended, done time.Time, attempts int, o record.Outcome, code string) {
	l.add("done %d %v %v %d %v %q", w, intended.Sub(t0), done.Sub(t0), attempts, o, code)
}

// recordSome records a fixed mix of observations on rec's workloads 0 and 1.
func recordSome(rec *record.Recorder) {
	rec.Sent(0, at(0.1))
	rec.Attempt(0, at(0.1), ms(2), record.Throttled, "ThrottlingException")
	rec.Attempt(0, at(0.2), ms(3), record.OK, "")
	rec.Done(0, at(0.1), at(0.203), 2, record.OK, "")
	rec.Sent(1, at(1.5))
	rec.Attempt(1, at(1.5), ms(1), record.Throttled, "")
	rec.Done(1, at(1.5), at(1.501), 1, record.Throttled, "")
	rec.Sent(1, at(2.5))
	rec.Attempt(1, at(2.5), ms(4), record.Failed, "DisabledException")
	rec.Done(1, at(2.5), at(2.504), 1, record.Failed, "DisabledException")
	rec.Sent(0, at(2.6))
	rec.Done(0, at(2.6), at(2.7), 0, record.Failed, "")
	rec.Dropped(1, at(2.8))
	rec.CacheHit(0, at(2.9))
}

func TestObserverSeesEachCall(t *testing.T) {
	rec := record.NewRecorder(t0, infos("a", "b"))
	log := &callLog{}
	rec.SetObserver(log)
	recordSome(rec)
	want := []string{
		"sent 0 100ms",
		`attempt 0 100ms 2ms throttled "ThrottlingException"`,
		`attempt 0 200ms 3ms ok ""`,
		`done 0 100ms 203ms 2 ok ""`,
		"sent 1 1.5s",
		`attempt 1 1.5s 1ms throttled ""`,
		`done 1 1.5s 1.501s 1 throttled "ThrottlingException"`, // the code the recorder counts
		"sent 1 2.5s",
		`attempt 1 2.5s 4ms failed "DisabledException"`,
		`done 1 2.5s 2.504s 1 failed "DisabledException"`,
		"sent 0 2.6s",
		`done 0 2.6s 2.7s 0 failed "Unknown"`,
		"dropped 1 2.8s",
		"cache-hit 0 2.9s",
	}
	if !reflect.DeepEqual(log.calls, want) {
		t.Errorf("observer calls:\n got %q\nwant %q", log.calls, want)
	}

	rec.SetObserver(nil)
	rec.Sent(0, at(3.1))
	if len(log.calls) != len(want) {
		t.Errorf("after SetObserver(nil): %d calls; want %d (no more)", len(log.calls), len(want))
	}
}

// A Recorder observing another one ends with the same totals: the observer
// gets every observation with the arguments that count.
func TestObserverRecorderMirrorsTotals(t *testing.T) {
	rec := record.NewRecorder(t0, infos("a", "b"))
	mirror := record.NewRecorder(t0, infos("a", "b"))
	rec.SetObserver(mirror)
	recordSome(rec)
	got, want := mirror.Finish(at(4)), rec.Finish(at(4))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observing recorder's totals:\n got %+v\nwant %+v", got, want)
	}
	if want[0].Requests != 2 || want[1].Errors["ThrottlingException"] != 1 || want[0].Errors["Unknown"] != 1 {
		t.Errorf("recorded totals %+v; want 2 requests of a, one ThrottlingException of b, one Unknown of a", want)
	}
}

func TestObserverUnsetAllocatesNothing(t *testing.T) {
	rec := record.NewRecorder(t0, infos("a"))
	rec.Sent(0, at(0.5)) // grows the series to second 0
	rec.Attempt(0, at(0.5), ms(1), record.OK, "")
	rec.Done(0, at(0.5), at(0.501), 1, record.OK, "")
	for name, f := range map[string]func(){
		"Sent":    func() { rec.Sent(0, at(0.6)) },
		"Attempt": func() { rec.Attempt(0, at(0.6), ms(1), record.Throttled, "ThrottlingException") },
		"Done":    func() { rec.Done(0, at(0.6), at(0.602), 1, record.OK, "") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s without observer: %v allocations per call; want 0", name, n)
		}
	}
}
