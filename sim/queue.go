package sim

// event kinds.
const (
	evSend     uint8 = iota // send an attempt (a retry after its backoff, or an adaptive wait)
	evComplete              // an attempt's answer arrives after its service time
)

// event is one pending step of a request in flight. It is a plain value
// (no pointers), so the queue holds no garbage for the collector to scan
// and pushing allocates only when the backing array grows.
type event struct {
	at       int64 // virtual offset from the window's start, ns
	seq      uint64
	intended int64 // the request's intended send time, ns
	sent     int64 // evComplete: when the attempt was sent
	client   int32 // index of the request's SDK client
	attempt  int16 // number of the attempt to send (evSend) or answered (evComplete)
	kind     uint8
	outcome  uint8 // evComplete: answer of the attempt (outcome* constants)
	code     uint8 // evComplete: error code index (codes)
	retryTok uint8 // retry-token cost to refund if this attempt succeeds
}

// queue is a binary min-heap of events ordered by time, then by insertion
// order, so that simultaneous events run in the order they were scheduled
// and a run is repeatable.
type queue struct {
	h   []event
	seq uint64
}

func (q *queue) len() int { return len(q.h) }

func less(a, b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// push adds e.
func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.h = append(q.h, e)
	h := q.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// top returns the time of the earliest event; the queue must not be empty.
func (q *queue) top() int64 { return q.h[0].at }

// pop removes and returns the earliest event; the queue must not be empty.
func (q *queue) pop() event {
	h := q.h
	e := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(&h[r], &h[l]) {
			m = r
		}
		if !less(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	q.h = h
	return e
}
