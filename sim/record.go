package sim

import (
	"time"

	"github.com/kmsload/kmsload/record"
)

// recording kinds.
const (
	opSent uint8 = iota
	opDropped
	opCacheHit
	opAttempt
	opDone
)

// recOp is one call to record.Recorder, with window offsets for times.
type recOp struct {
	t1, t2   int64 // Sent, Dropped, CacheHit: t1 intended; Attempt: t1 sent, t2 service; Done: t1 intended, t2 done
	w        int32
	bucket   int32 // Attempt: index of the quota buckets charged
	attempts int16
	byStore  bool // Attempt: throttled by the key's store bucket
	kind     uint8
	outcome  uint8
	code     uint8
}

// recBatch is how many recordings go to the recording goroutine at once.
const recBatch = 8192

// pipe hands recordings to a goroutine that feeds the record.Recorder, so
// that the simulation loop and the histograms use two cores. Batches are
// recycled: recording allocates nothing. The goroutine is started by
// newPipe and ended by close; sync waits until every recording so far is
// in the Recorder.
type pipe struct {
	rec     *record.Recorder
	start   int64
	buckets []record.Charge // quota buckets, by recOp.bucket
	buf     []recOp
	full    chan []recOp // nil batch: acknowledge on ack
	free    chan []recOp
	ack     chan struct{}
	done    chan struct{}
}

func newPipe(rec *record.Recorder, start int64, buckets []record.Charge) *pipe {
	p := &pipe{
		rec:     rec,
		start:   start,
		buckets: buckets,
		full:    make(chan []recOp, 4),
		free:    make(chan []recOp, 5),
		ack:     make(chan struct{}),
		done:    make(chan struct{}),
	}
	for range 4 {
		p.free <- make([]recOp, 0, recBatch)
	}
	p.buf = make([]recOp, 0, recBatch)
	go p.consume()
	return p
}

func (p *pipe) add(op recOp) {
	p.buf = append(p.buf, op)
	if len(p.buf) == recBatch {
		p.full <- p.buf
		p.buf = <-p.free
	}
}

// sync returns when the Recorder holds every recording added so far.
func (p *pipe) sync() {
	if len(p.buf) > 0 {
		p.full <- p.buf
		p.buf = <-p.free
	}
	p.full <- nil
	<-p.ack
}

// close records what is left and ends the goroutine.
func (p *pipe) close() {
	p.sync()
	close(p.full)
	<-p.done
}

func (p *pipe) at(off int64) time.Time { return time.Unix(0, p.start+off) }

func (p *pipe) consume() {
	defer close(p.done)
	for b := range p.full {
		if b == nil {
			p.ack <- struct{}{}
			continue
		}
		for i := range b {
			op := &b[i]
			switch op.kind {
			case opSent:
				p.rec.Sent(int(op.w), p.at(op.t1))
			case opDropped:
				p.rec.Dropped(int(op.w), p.at(op.t1))
			case opCacheHit:
				p.rec.CacheHit(int(op.w), p.at(op.t1))
			case opAttempt:
				c := p.buckets[op.bucket]
				c.ByStore = op.byStore
				p.rec.AttemptIn(int(op.w), c, p.at(op.t1), time.Duration(op.t2), record.Outcome(op.outcome), codes[op.code])
			case opDone:
				p.rec.Done(int(op.w), p.at(op.t1), p.at(op.t2), int(op.attempts), record.Outcome(op.outcome), codes[op.code])
			}
		}
		p.free <- b[:0]
	}
}
