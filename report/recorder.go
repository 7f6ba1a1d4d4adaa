package report

import (
	"io"
	"time"
)

// CONTRACT STUB: the report helper replaces these bodies with the real
// implementation; the signatures are the contract the driver codes against.

// Outcome classifies an attempt or a request.
type Outcome uint8

// Outcomes.
const (
	OK        Outcome = iota // succeeded
	Throttled                // answered with a throttle (ThrottlingException, LimitExceeded)
	Failed                   // any other error
)

// WorkloadInfo describes a workload to the recorder; it is copied into the
// results.
type WorkloadInfo struct {
	Name, Operation, Key, Caller, CallerAccount, Region, Bucket string
	TargetPerS                                                  float64
}

// Recorder aggregates per-attempt and per-request observations of a run
// into HDR histograms and per-second series, with memory that does not grow
// with the number of requests. Safe for concurrent use.
type Recorder struct{}

// NewRecorder returns a recorder for a measured window starting at start.
func NewRecorder(start time.Time, workloads []WorkloadInfo) *Recorder { panic("stub") }

// Sent records that workload w sent a request intended at intended.
func (r *Recorder) Sent(w int, intended time.Time) { panic("stub") }

// Dropped records an arrival of w that found the in-flight bound full.
func (r *Recorder) Dropped(w int, intended time.Time) { panic("stub") }

// CacheHit records an arrival of w served by the data-key cache.
func (r *Recorder) CacheHit(w int, intended time.Time) { panic("stub") }

// Attempt records one attempt of w sent at sent, answered after service.
// code is the error code ("" on success).
func (r *Recorder) Attempt(w int, sent time.Time, service time.Duration, o Outcome, code string) {
	panic("stub")
}

// Done records the final outcome of a request of w intended at intended
// and finished at done after attempts attempts. code is the final error
// code ("" on success).
func (r *Recorder) Done(w int, intended, done time.Time, attempts int, o Outcome, code string) {
	panic("stub")
}

// Progress is the live view of the last complete second, all workloads.
type Progress struct {
	Elapsed        time.Duration
	SentPerS       float64
	OKPerS         float64
	ThrottledShare float64 // throttled attempts / attempts in the last second
	P99Ms          float64
	Dropped        int64 // total so far
}

// Progress returns the live view at now.
func (r *Recorder) Progress(now time.Time) Progress { panic("stub") }

// Finish closes the window at end and returns each workload's totals, in
// the order given to NewRecorder.
func (r *Recorder) Finish(end time.Time) []Workload { panic("stub") }

// WriteHlog writes workload w's 1-second interval histograms in the
// HdrHistogram interval-log format. Call after Finish.
func (r *Recorder) WriteHlog(w int, out io.Writer) error { panic("stub") }
