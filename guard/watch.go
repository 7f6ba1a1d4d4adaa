package guard

import (
	"math"
	"time"

	"github.com/kmsload/kmsload/quota"
)

// throttleWatch keeps, per quota bucket, attempts and throttled attempts
// in slots of 100 ms over a sliding window.
type throttleWatch struct {
	lim     ThrottleLimit
	slot    time.Duration
	nslots  int
	buckets map[quota.BucketKey]*slots
}

type slots struct {
	epoch     []int64 // slot number each entry holds
	attempts  []int64
	throttled []int64
}

func newThrottleWatch(lim ThrottleLimit) *throttleWatch {
	const slot = 100 * time.Millisecond
	return &throttleWatch{lim: lim, slot: slot, nslots: int(math.Ceil(float64(lim.Window) / float64(slot))),
		buckets: map[quota.BucketKey]*slots{}}
}

// add records one attempt at now and returns the bucket's throttled share
// and attempt count over the window, and whether the share exceeds the
// limit.
func (w *throttleWatch) add(now time.Time, b quota.BucketKey, throttled bool) (float64, int64, bool) {
	s := w.buckets[b]
	if s == nil {
		s = &slots{epoch: make([]int64, w.nslots), attempts: make([]int64, w.nslots), throttled: make([]int64, w.nslots)}
		for i := range s.epoch {
			s.epoch[i] = -1
		}
		w.buckets[b] = s
	}
	n := now.UnixNano() / int64(w.slot)
	i := int(n % int64(w.nslots))
	if s.epoch[i] != n {
		s.epoch[i], s.attempts[i], s.throttled[i] = n, 0, 0
	}
	s.attempts[i]++
	if throttled {
		s.throttled[i]++
	}
	var att, thr int64
	for j := range s.epoch {
		if s.epoch[j] > n-int64(w.nslots) && s.epoch[j] <= n {
			att += s.attempts[j]
			thr += s.throttled[j]
		}
	}
	share := float64(thr) / float64(att)
	return share, att, share > w.lim.Share
}
