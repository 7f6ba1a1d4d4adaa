package record

import (
	"math"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kmsload/kmsload/report"
)

// Progress is the live view of the last complete second, all workloads.
type Progress struct {
	Elapsed        time.Duration
	SentPerS       float64
	OKPerS         float64
	ThrottledShare float64 // throttled attempts / attempts in the last second
	P99Ms          float64
	Dropped        int64 // total so far
}

// Progress returns the live view at now: the second before the one now
// falls in, summed over all workloads. P99Ms is the highest workload p99
// of that second (percentiles of different workloads cannot be added).
// Progress closes the intervals of every second before now's.
func (r *Recorder) Progress(now time.Time) Progress {
	p := Progress{Elapsed: now.Sub(r.start)}
	if p.Elapsed < 0 {
		p.Elapsed = 0
	}
	s := r.sec(now)
	last := s - 1
	var attempts, thrAttempts int64
	for _, w := range r.ws {
		w.advance(s, r.startMs)
		// A recording goroutine may have rotated the interval and still be
		// flushing it; flush waits for that (logMu), so the p99 read below
		// is the closed second's.
		w.flush(r.startMs)
		w.mu.Lock()
		p.Dropped += w.dropped
		if last >= 0 && last < len(w.series) {
			sec := &w.series[last]
			p.SentPerS += float64(sec.Sent)
			p.OKPerS += float64(sec.OK)
			attempts += sec.Attempts
			thrAttempts += sec.ThrottledAttempts
			if sec.P99Ms > p.P99Ms {
				p.P99Ms = sec.P99Ms
			}
		}
		w.mu.Unlock()
	}
	if attempts > 0 {
		p.ThrottledShare = float64(thrAttempts) / float64(attempts)
	}
	return p
}

// Finish closes the window at end and returns each workload's totals, in
// the order given to NewRecorder.
//
// Every open interval is closed. Rates are per second of the window
// (end - start), as SetRates computes them. The series
// covers every second of the window, and later seconds in which late
// completions finished. Attempts is the number of recorded attempts, or,
// when no attempt was recorded, the sum of the attempts reported to Done.
//
// Finish is meant to be called once, after all recording calls; a second
// call returns the first call's results.
func (r *Recorder) Finish(end time.Time) []report.Workload {
	dur := end.Sub(r.start).Seconds()
	endSec := 0
	if dur > 0 {
		endSec = int(math.Ceil(dur - 1e-9))
	}
	if endSec > maxSeconds {
		endSec = maxSeconds
	}
	out := make([]report.Workload, len(r.ws))
	for i, w := range r.ws {
		w.mu.Lock()
		if w.finished {
			out[i] = copyWorkload(*w.finishResult)
			w.mu.Unlock()
			continue
		}
		target := endSec
		if w.curSec >= target && w.cur.TotalCount() > 0 {
			target = w.curSec + 1
		}
		w.mu.Unlock()
		w.advance(target, r.startMs)

		w.mu.Lock()
		n := endSec
		if w.lastSeriesSec+1 > n {
			n = w.lastSeriesSec + 1
		}
		wl := w.result(dur, n)
		w.finished = true
		w.finishResult = &wl
		out[i] = copyWorkload(wl)
		w.mu.Unlock()
	}
	return out
}

// result builds the workload's totals. Called with w.mu held.
func (w *wstate) result(dur float64, n int) report.Workload {
	wl := report.Workload{
		Name:              w.info.Name,
		Operation:         w.info.Operation,
		Key:               w.info.Key,
		Caller:            w.info.Caller,
		CallerAccount:     w.info.CallerAccount,
		Team:              w.info.Team,
		Region:            w.info.Region,
		Bucket:            w.info.Bucket,
		TargetPerS:        w.info.TargetPerS,
		Requests:          w.requests,
		OK:                w.ok,
		ThrottledRequests: w.throttledReqs,
		Attempts:          w.attempts,
		ThrottledAttempts: w.throttledAttempts,
		Errors:            make(map[string]int64, len(w.errors)),
		Dropped:           w.dropped,
		CacheHits:         w.cacheHits,
		LatencyMs:         percentiles(w.lat),
		ServiceMs:         percentiles(w.svc),
	}
	if wl.Attempts == 0 {
		wl.Attempts = w.doneAttempts
	}
	if len(w.elsewhere) > 0 {
		wl.BucketAttempts = map[string]report.BucketAttempts{}
		for name, b := range w.elsewhere {
			wl.BucketAttempts[name] = *b
		}
		splitBuckets(&wl)
	}
	for k, v := range w.errors {
		wl.Errors[k] = v
	}
	if enc, err := w.lat.Encode(hdr.V2CompressedEncodingCookieBase); err == nil {
		wl.Histogram = string(enc)
	}
	wl.Series = make([]report.Second, n)
	copy(wl.Series, w.series)
	for i := range wl.Series {
		wl.Series[i].T = i
	}
	wl.SetRates(dur)
	for k, v := range w.failedBySec {
		wl.FailedBySecond = append(wl.FailedBySecond, report.SecondCode{T: k.sec, Code: k.code, Count: v})
	}
	sort.Slice(wl.FailedBySecond, func(i, j int) bool {
		a, b := wl.FailedBySecond[i], wl.FailedBySecond[j]
		if a.T != b.T {
			return a.T < b.T
		}
		return a.Code < b.Code
	})
	return wl
}

// copyWorkload returns wl with its maps and slices copied.
func copyWorkload(wl report.Workload) report.Workload {
	errs := make(map[string]int64, len(wl.Errors))
	for k, v := range wl.Errors {
		errs[k] = v
	}
	wl.Errors = errs
	wl.Series = append([]report.Second(nil), wl.Series...)
	wl.FailedBySecond = append([]report.SecondCode(nil), wl.FailedBySecond...)
	if wl.BucketAttempts != nil {
		ba := make(map[string]report.BucketAttempts, len(wl.BucketAttempts))
		for k, v := range wl.BucketAttempts {
			ba[k] = v
		}
		wl.BucketAttempts = ba
	}
	return wl
}

// percentiles reads the standard percentiles of h (microseconds) in ms.
func percentiles(h *hdr.Histogram) report.Percentiles {
	if h.TotalCount() == 0 {
		return report.Percentiles{}
	}
	return report.Percentiles{
		P50:  usToMs(h.ValueAtQuantile(50)),
		P90:  usToMs(h.ValueAtQuantile(90)),
		P99:  usToMs(h.ValueAtQuantile(99)),
		P999: usToMs(h.ValueAtQuantile(99.9)),
		Max:  usToMs(h.Max()),
	}
}
