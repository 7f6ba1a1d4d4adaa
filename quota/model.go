package quota

import (
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HeaderThrottledBy is the response header with which the emulator names
// the bucket that throttled a request ([BucketKey.String], e.g.
// "111111111111/us-east-1/symmetric" or "-/us-east-1/cks:cks-1"), so that
// a run attributes each throttle to the bucket that did it. KMS clients
// ignore it.
const HeaderThrottledBy = "X-Kmsload-Throttled-By"

// ErrThrottled is the sentinel every *ThrottleError wraps.
var ErrThrottled = errors.New("quota: throttled")

// ThrottleError reports a request refused because a bucket was full.
type ThrottleError struct {
	// Bucket is the first bucket of the request that had no room.
	Bucket BucketKey
	// Limit is the bucket's scaled limit in requests per second.
	Limit float64
	// RetryAfter is the earliest time after which the same request could fit
	// in Bucket if nothing else arrived.
	RetryAfter time.Duration
	// Operation is the refused request's operation.
	Operation string
}

// Error describes the throttle.
func (e *ThrottleError) Error() string {
	return fmt.Sprintf("quota: %s throttled by bucket %s (limit %g/s, retry after %s)",
		e.Operation, e.Bucket, e.Limit, e.RetryAfter)
}

// Unwrap returns ErrThrottled, so that errors.Is(err, ErrThrottled) holds.
func (e *ThrottleError) Unwrap() error { return ErrThrottled }

// tokenUnit is how many rate.Limiter tokens one unit of weight costs, so
// that fractional weights and limits work with the limiter's integer n.
const tokenUnit = 1000

// kind tells what the name of a mapKey is.
type kind uint8

const (
	kindClass kind = iota // name is a cryptographic Class
	kindAPI               // name is an operation
	kindStore             // name is a custom key store id
	kindPair              // name is a data key pair spec
	kindKey               // name is a key id: the key's state changes
)

// mapKey is a bucket's key inside the Model; unlike BucketKey it is built
// without concatenating strings, so that looking a bucket up does not
// allocate.
type mapKey struct {
	account, region string
	kind            kind
	name            string
}

func (k mapKey) public() BucketKey {
	switch k.kind {
	case kindAPI:
		return BucketKey{Account: k.account, Region: k.region, Class: APIClass(k.name)}
	case kindStore:
		return BucketKey{Region: k.region, Class: StoreClass(k.name)}
	case kindPair:
		return BucketKey{Account: k.account, Region: k.region, Class: PairClass(k.name)}
	case kindKey:
		return BucketKey{Account: k.account, Region: k.region, Class: KeyChangeClass(k.name)}
	default:
		return BucketKey{Account: k.account, Region: k.region, Class: Class(k.name)}
	}
}

type charge struct {
	key    mapKey
	weight float64
}

// bucket is one quota bucket. Every field after mu is guarded by mu.
type bucket struct {
	mu    sync.Mutex
	key   BucketKey
	limit float64
	last  time.Time // latest instant seen: earlier instants count as this one

	win  int64   // FixedWindow: Unix second of the current window
	used float64 // FixedWindow: weight allowed in window win

	lim *rate.Limiter // TokenBucket

	allowed, throttled int64
	dsec               int64   // Unix second of dcur
	dcur, dprev        float64 // weighted demand in seconds dsec and dsec-1
}

// at returns now, or the latest instant the bucket has seen if that is
// later, and records it: time never runs backwards inside a bucket.
func (b *bucket) at(now time.Time) time.Time {
	if now.Before(b.last) {
		return b.last
	}
	b.last = now
	return now
}

func (b *bucket) demand(sec int64, w float64) {
	switch {
	case sec == b.dsec:
		b.dcur += w
	case sec == b.dsec+1:
		b.dprev, b.dcur, b.dsec = b.dcur, w, sec
	case sec > b.dsec:
		b.dprev, b.dcur, b.dsec = 0, w, sec
	}
}

// fits reports whether weight w fits at t, and if not, how long until it would.
func (b *bucket) fits(t time.Time, w float64) (bool, time.Duration) {
	if b.lim != nil {
		n := tokens(w)
		have := b.lim.TokensAt(t)
		if float64(n) <= have {
			return true, 0
		}
		if n > b.lim.Burst() {
			return false, rate.InfDuration
		}
		secs := (float64(n) - have) / float64(b.lim.Limit())
		return false, time.Duration(math.Ceil(secs * float64(time.Second)))
	}
	if sec := t.Unix(); sec != b.win {
		b.win, b.used = sec, 0
	}
	// An empty window admits one request however heavy, so that a bucket
	// scaled below a request's weight still serves one request a second.
	if b.used+w <= b.limit || b.used == 0 {
		return true, 0
	}
	return false, time.Duration((b.win+1)*int64(time.Second) - t.UnixNano())
}

// take charges weight w at t; fits(t, w) must have reported true.
func (b *bucket) take(t time.Time, w float64) {
	if b.lim != nil {
		b.lim.AllowN(t, tokens(w))
	} else {
		b.used += w
	}
	b.allowed++
}

func tokens(w float64) int { return int(math.Round(w * tokenUnit)) }

const shardCount = 32

type shard struct {
	mu sync.RWMutex
	m  map[mapKey]*bucket
	_  [64]byte // keep shards' locks on separate cache lines
}

// Model decides, request by request, whether KMS would throttle. It is safe
// for concurrent use. A nil *Model allows every request (quotas off).
type Model struct {
	cfg    Config
	seed   maphash.Seed
	shards [shardCount]shard
}

// New returns a Model applying c, or c's validation errors.
func New(c Config) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &Model{cfg: c.clone(), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = make(map[mapKey]*bucket)
	}
	return m, nil
}

// Config returns a copy of the Model's configuration.
func (m *Model) Config() Config { return m.cfg.clone() }

// charges appends to buf the buckets r counts against.
func (m *Model) charges(r Request, buf []charge) []charge {
	if !cryptoOps[r.Operation] {
		return append(buf, charge{mapKey{r.Account, r.Region, kindAPI, r.Operation}, 1})
	}
	if IsDataKeyPair(r.Operation) && r.KeyPairSpec != "" {
		buf = append(buf, charge{mapKey{r.Account, r.Region, kindClass, string(KeyClass(r.KeyPairSpec))}, 1})
		return append(buf, charge{mapKey{r.Account, r.Region, kindPair, r.KeyPairSpec}, 1})
	}
	buf = m.keyCharges(buf, r, SourceKey{r.KeySpec, r.CustomKeyStore, r.CustomKeyStoreType})
	if src := r.Source; src != nil && m.cfg.ReEncryptChargesSource {
		buf = m.keyCharges(buf, r, *src)
	}
	return buf
}

// keyCharges appends the buckets of r's use of key k (its class bucket,
// its custom key store's), those not in buf yet.
func (m *Model) keyCharges(buf []charge, r Request, k SourceKey) []charge {
	add := func(c charge) {
		for _, have := range buf {
			if have.key == c.key {
				return
			}
		}
		buf = append(buf, c)
	}
	add(charge{mapKey{r.Account, r.Region, kindClass, string(KeyClass(k.KeySpec))}, 1})
	if k.CustomKeyStore != "" {
		add(charge{mapKey{"", r.Region, kindStore, k.CustomKeyStore}, m.cfg.StoreWeight(k.CustomKeyStoreType, r.Operation)})
	}
	return buf
}

// Buckets returns the buckets r counts against: the caller's class bucket
// for a cryptographic operation (class from r.KeySpec, see [KeyClass]) or
// the operation's own bucket for every other API, plus, for a cryptographic
// operation on a key in a custom key store, the store's bucket with the
// operation's store weight; a data key pair's buckets are those of
// [BucketsOf], each with weight 1. The class or API bucket always comes
// first.
func (m *Model) Buckets(r Request) []Charge {
	var buf [2]charge
	cs := m.charges(r, buf[:0])
	out := make([]Charge, len(cs))
	for i, c := range cs {
		out[i] = Charge{Key: c.key.public(), Weight: c.weight}
	}
	return out
}

// bucket returns the bucket of k, creating it on first use.
func (m *Model) bucket(k mapKey) *bucket {
	s := &m.shards[maphash.Comparable(m.seed, k)%shardCount]
	s.mu.RLock()
	b := s.m[k]
	s.mu.RUnlock()
	if b != nil {
		return b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b = s.m[k]; b != nil {
		return b
	}
	pub := k.public()
	b = &bucket{key: pub, limit: m.cfg.Limit(pub), dsec: math.MinInt64}
	if k.kind == kindKey {
		burst := max(math.Round(m.cfg.HotKeyBurst*tokenUnit), tokenUnit)
		b.lim = rate.NewLimiter(rate.Limit(b.limit*tokenUnit), int(min(burst, math.MaxInt32)))
	} else if secs, ok := m.cfg.APIBurst(k.name); ok && k.kind == kindAPI {
		burst := max(math.Round(secs*b.limit*tokenUnit), tokenUnit)
		b.lim = rate.NewLimiter(rate.Limit(b.limit*tokenUnit), int(min(burst, math.MaxInt32)))
	} else if m.cfg.Algorithm == TokenBucket {
		// The bucket holds at least its heaviest request, so that a bucket
		// scaled below a request's weight still serves it now and then.
		heaviest := 1.0
		if k.kind == kindStore {
			for _, w := range m.cfg.StoreWeights {
				heaviest = max(heaviest, w)
			}
			for _, w := range m.cfg.ExternalStoreWeights {
				heaviest = max(heaviest, w)
			}
		}
		burst := max(math.Round(m.cfg.BurstSeconds*b.limit*tokenUnit), float64(tokens(heaviest)))
		b.lim = rate.NewLimiter(rate.Limit(b.limit*tokenUnit), int(min(burst, math.MaxInt32)))
	}
	s.m[k] = b
	return b
}

// Allow charges r at now against all its buckets, all-or-nothing: it
// returns nil if every bucket had room, and otherwise a *ThrottleError
// naming the first bucket that was full, with nothing charged anywhere.
// The request counts in the demand of all its buckets either way, and as
// throttled only in the bucket that was full.
//
// now decides the fixed window (now.Truncate(time.Second)) or the token
// bucket's refill. A request heavier than a bucket's capacity (a custom key
// store scaled below 3/s) still passes when the window is empty or the
// token bucket full, so every call can be made at any Scale. An instant earlier than one a bucket has already seen,
// as happens when goroutines race, counts as that later instant.
func (m *Model) Allow(now time.Time, r Request) error {
	if m == nil {
		return nil
	}
	var cbuf [4]charge
	cs := m.charges(r, cbuf[:0])
	var bbuf [4]*bucket
	var tbuf [4]time.Time
	bs, ts := bbuf[:len(cs)], tbuf[:len(cs)]
	for i, c := range cs {
		bs[i] = m.bucket(c.key)
	}
	// Buckets are locked in one global order (lockOrder); they are checked
	// in charge order, which decides the bucket a throttle names.
	var obuf [4]int
	order := lockOrder(cs, obuf[:len(cs)])
	for _, i := range order {
		bs[i].mu.Lock()
		ts[i] = bs[i].at(now)
		bs[i].demand(ts[i].Unix(), cs[i].weight)
	}
	for i, b := range bs {
		ok, retry := b.fits(ts[i], cs[i].weight)
		if ok {
			continue
		}
		b.throttled++
		err := &ThrottleError{Bucket: b.key, Limit: b.limit, RetryAfter: retry, Operation: r.Operation}
		for _, b := range bs {
			b.mu.Unlock()
		}
		return err
	}
	for i, b := range bs {
		b.take(ts[i], cs[i].weight)
		b.mu.Unlock()
	}
	return nil
}

// AllowKeyChange charges a state change op (IsKeyStateChange) of key id,
// owned by account in region, to the key's bucket of state changes
// (Config.HotKeyChangesPerS, HotKeyBurst): nil when it has room, else a
// *ThrottleError naming the key's bucket. Other operations, and every
// operation when HotKeyChangesPerS is 0, pass. It is checked after the
// operation's own API bucket (Allow).
func (m *Model) AllowKeyChange(now time.Time, account, region, id, op string) error {
	if m == nil || m.cfg.HotKeyChangesPerS == 0 || !IsKeyStateChange(op) {
		return nil
	}
	b := m.bucket(mapKey{account, region, kindKey, id})
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.at(now)
	b.demand(t.Unix(), 1)
	if ok, retry := b.fits(t, 1); !ok {
		b.throttled++
		return &ThrottleError{Bucket: b.key, Limit: b.limit, RetryAfter: retry, Operation: op}
	}
	b.take(t, 1)
	return nil
}

// lockOrder fills order with the indexes of cs in one global order of
// their buckets: class and API buckets by kind and name, then store and
// pair buckets. Two requests that share buckets lock them alike, so they
// cannot deadlock.
func lockOrder(cs []charge, order []int) []int {
	for i := range order {
		order[i] = i
	}
	if len(cs) > 2 || (len(cs) == 2 && compareKeys(cs[1].key, cs[0].key) < 0) {
		slices.SortFunc(order, func(a, b int) int { return compareKeys(cs[a].key, cs[b].key) })
	}
	return order
}

// compareKeys orders bucket keys by kind, then account, Region and name.
func compareKeys(a, b mapKey) int {
	return cmp.Or(cmp.Compare(a.kind, b.kind), strings.Compare(a.account, b.account),
		strings.Compare(a.region, b.region), strings.Compare(a.name, b.name))
}

// BucketStats is one bucket's counters, as reported in results.
type BucketStats struct {
	Bucket    string  `json:"bucket"` // BucketKey.String()
	Account   string  `json:"account"`
	Region    string  `json:"region"`
	Class     Class   `json:"class"`
	QuotaPerS float64 `json:"quota_per_s"`
	// Allowed and Throttled count requests (not weight) since the bucket was
	// created or the Model Reset. A request is throttled in the bucket that
	// was full only.
	Allowed   int64 `json:"allowed"`
	Throttled int64 `json:"throttled"`
	// DemandPerS is the weight of requests (allowed or throttled anywhere)
	// that reached the bucket in the last complete second before now.
	DemandPerS float64 `json:"demand_per_s"`
}

// Stats returns every bucket's counters, sorted by Bucket. It may be called
// while requests are being allowed; each bucket is read consistently.
func (m *Model) Stats(now time.Time) []BucketStats {
	if m == nil {
		return nil
	}
	var bs []*bucket
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		for _, b := range s.m {
			bs = append(bs, b)
		}
		s.mu.RUnlock()
	}
	prev := now.Unix() - 1
	out := make([]BucketStats, 0, len(bs))
	for _, b := range bs {
		b.mu.Lock()
		st := BucketStats{
			Bucket:    b.key.String(),
			Account:   b.key.Account,
			Region:    b.key.Region,
			Class:     b.key.Class,
			QuotaPerS: b.limit,
			Allowed:   b.allowed,
			Throttled: b.throttled,
		}
		switch b.dsec {
		case prev:
			st.DemandPerS = b.dcur
		case prev + 1:
			st.DemandPerS = b.dprev
		}
		b.mu.Unlock()
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b BucketStats) int { return strings.Compare(a.Bucket, b.Bucket) })
	return out
}

// Reset forgets all buckets and their counters. Requests being decided
// while Reset runs may be counted in the buckets it forgets.
func (m *Model) Reset() {
	if m == nil {
		return
	}
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.m = make(map[mapKey]*bucket)
		s.mu.Unlock()
	}
}
