package trailgen

import (
	"bufio"
	"compress/gzip"
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// fileSpan is the time one delivery file covers.
const fileSpan = 5 * time.Minute

// Generate writes the trail of c under dir.
func Generate(dir string, c Config) (Result, error) {
	c = c.withDefaults()
	g := &gen{dir: dir, c: c, rng: rand.New(rand.NewPCG(c.Seed, c.Seed^0x5eed)), files: map[string]*file{},
		res: Result{Calls: map[string]int64{}, Throttled: map[string]int64{}, Requests: map[string]int64{}}}
	secs := int(c.Duration / time.Second)
	g.res.ThrottledBySecond = make([]int64, secs)
	retries := map[int][]attempt{} // second -> retries due in it
	for s := range secs {
		q := &queue{}
		for _, at := range append(arrivals(c, g.rng, s), retries[s]...) {
			heap.Push(q, at)
		}
		delete(retries, s)
		used := map[[2]string]int{}
		for q.Len() > 0 {
			at := heap.Pop(q).(attempt)
			throttled := admit(used, at)
			if err := g.log(at, throttled); err != nil {
				return g.res, err
			}
			if !throttled {
				continue
			}
			g.res.ThrottledBySecond[s]++
			if at.n >= maxAttempts {
				continue
			}
			next := attempt{at: at.at + backoff(g.rng, at.n), actor: at.actor, n: at.n + 1}
			switch ns := int(next.at / time.Second); {
			case ns == s:
				heap.Push(q, next) // a retry within the second
			case ns < secs:
				retries[ns] = append(retries[ns], next)
			}
		}
		if err := g.closeBefore(time.Duration(s) * time.Second); err != nil {
			return g.res, err
		}
	}
	return g.res, g.closeBefore(c.Duration + fileSpan)
}

// gen is one Generate's state.
type gen struct {
	dir   string
	c     Config
	rng   *rand.Rand
	files map[string]*file
	buf   []byte
	res   Result
	id    uint64
}

// file is one delivery file being written.
type file struct {
	f     *os.File
	gz    *gzip.Writer
	w     *bufio.Writer
	span  time.Duration
	count int
}

// log writes the record(s) of one attempt: the caller's, and for a
// cross-account call the key owner's copy too; an S3 call also gets the
// PutObject that caused it.
func (g *gen) log(at attempt, throttled bool) error {
	a := actors[at.actor]
	g.res.Calls[a.name]++
	if at.n == 1 {
		g.res.Requests[a.name]++
	}
	if throttled {
		g.res.Throttled[a.name]++
	}
	owner := keyAccount(a.key)
	shared := ""
	if owner != "" && owner != a.account {
		shared = g.uuid()
	}
	if err := g.write(a.account, at.at, g.event(a, at, throttled, a.account, shared)); err != nil {
		return err
	}
	if shared != "" {
		if err := g.write(owner, at.at, g.event(a, at, throttled, owner, shared)); err != nil {
			return err
		}
	}
	if a.invokedBy != "" && at.n == 1 {
		return g.write(a.account, at.at, g.s3Event(a, at))
	}
	return nil
}

// write appends one record to the file of account and the span of at.
func (g *gen) write(account string, at time.Duration, rec []byte) error {
	span := at.Truncate(fileSpan)
	name := g.fileName(account, span)
	f := g.files[name]
	if f == nil {
		var err error
		if f, err = g.open(name, span); err != nil {
			return err
		}
		g.files[name] = f
	}
	if f.count > 0 {
		f.w.WriteByte(',')
	}
	f.count++
	g.res.Records++
	_, err := f.w.Write(rec)
	return err
}

func (g *gen) fileName(account string, span time.Duration) string {
	t := g.c.Start.Add(span)
	ext := ".json.gz"
	if g.c.Plain {
		ext = ".json"
	}
	return filepath.Join(g.dir, "AWSLogs", account, "CloudTrail", Region, t.Format("2006/01/02"),
		fmt.Sprintf("%s_CloudTrail_%s_%s_%s%s", account, Region, t.Format("20060102T1504Z"), strconv.FormatUint(uint64(span/time.Second)*2654435761%1e10, 36), ext))
}

func (g *gen) open(name string, span time.Duration) (*file, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	out := &file{f: f, span: span}
	var w io.Writer = f
	if !g.c.Plain {
		out.gz, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = out.gz
	}
	out.w = bufio.NewWriterSize(w, 256<<10)
	out.w.WriteString(`{"Records":[`)
	g.res.Files++
	return out, nil
}

// closeBefore finishes the files of spans that end before t.
func (g *gen) closeBefore(t time.Duration) error {
	for name, f := range g.files {
		if f.span+fileSpan > t {
			continue
		}
		f.w.WriteString("]}\n")
		err := f.w.Flush()
		if f.gz != nil && err == nil {
			err = f.gz.Close()
		}
		if cerr := f.f.Close(); err == nil {
			err = cerr
		}
		delete(g.files, name)
		if err != nil {
			return err
		}
	}
	return nil
}

// uuid is a random UUID-shaped id.
func (g *gen) uuid() string {
	b := make([]byte, 0, 36)
	for i, n := range []int{8, 4, 4, 4, 12} {
		if i > 0 {
			b = append(b, '-')
		}
		for range n {
			b = append(b, "0123456789abcdef"[g.rng.IntN(16)])
		}
	}
	return string(b)
}

// queue orders a second's attempts by time.
type queue []attempt

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)        { *q = append(*q, x.(attempt)) }
func (q *queue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
