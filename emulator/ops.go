package emulator

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/kmsload/kmsload/quota"
)

// lockMode is how an operation holds the store lock (Server.mu) while it
// runs; the operations table gives each operation its mode.
type lockMode int

const (
	// unlocked operations take the lock themselves, if at all, after the
	// checks that need no state.
	unlocked lockMode = iota
	// shared operations run under the read lock: lookups and cryptography.
	shared
	// exclusive operations change the store: they run under the write lock,
	// after the deletions and rotations that are due have been applied.
	exclusive
)

// lock takes the store lock as mode says; unlock releases it. They are
// two calls (c.lock(m); defer c.unlock(m)) rather than a returned
// closure, which would be allocated on every request.
func (c *call) lock(mode lockMode) {
	switch mode {
	case shared:
		c.s.mu.RLock()
	case exclusive:
		c.s.mu.Lock()
		c.s.st.sweep(c.now)
	}
}

// unlock releases what lock(mode) took.
func (c *call) unlock(mode lockMode) {
	if mode == shared {
		c.s.mu.RUnlock()
	} else if mode == exclusive {
		c.s.mu.Unlock()
	}
}

// decoded returns the handler of an operation whose request decodes into an
// In: it decodes c.body (a malformed body is the operation's first error),
// takes the store lock as mode says and runs fn until it returns.
func decoded[In any](mode lockMode, fn func(c *call, in *In) (any, *apiError)) opFunc {
	return func(c *call) (any, *apiError) {
		var in In
		if c.s.stdJSON || !fastDecode(c.body, &in) {
			if e := decodeBody(c.body, &in); e != nil {
				return nil, e
			}
		}
		c.lock(mode)
		defer c.unlock(mode)
		return fn(c, &in)
	}
}

// keyIDIn is the request of an operation that names only its key.
type keyIDIn struct {
	KeyId string
}

// onKey returns the handler of an operation on the key its request names
// in its KeyId field (every In has one, a string): decoded, then, under the
// lock, the key is resolved and the caller must be allowed to perform the
// operation (c.op) on it before fn runs. It panics, when the operations
// table is built, on an In without that field.
func onKey[In any](mode lockMode, fn func(c *call, in *In, k *key) (any, *apiError)) opFunc {
	field, ok := reflect.TypeFor[In]().FieldByName("KeyId")
	if !ok || field.Type.Kind() != reflect.String {
		panic(fmt.Sprintf("emulator: request type %v has no KeyId string field", reflect.TypeFor[In]()))
	}
	return decoded(mode, func(c *call, in *In) (any, *apiError) {
		ref := reflect.ValueOf(in).Elem().FieldByIndex(field.Index).String()
		k, e := c.resolve(ref, "keyId")
		if e != nil {
			return nil, e
		}
		if e := c.admit(k); e != nil {
			return nil, e
		}
		return fn(c, in, k)
	})
}

// admit checks that the caller may perform c.op on k, then charges a
// state change of k to the key's bucket.
func (c *call) admit(k *key) *apiError {
	if e := c.authorize(k, c.op); e != nil {
		return e
	}
	return c.chargeKeyChange(k)
}

// chargeKeyChange charges a state change of k (quota.IsKeyStateChange) to
// the key's bucket of state changes: a volley of them on one key throttles
// below the API's quota ("hot key").
func (c *call) chargeKeyChange(k *key) *apiError {
	m := c.s.quota.Load()
	if m == nil {
		return nil
	}
	if err := m.AllowKeyChange(c.now, k.account, k.region, k.id, c.op); err != nil {
		if te, ok := errors.AsType[*quota.ThrottleError](err); ok {
			return throttled(te.Bucket.String())
		}
		return errInternal()
	}
	return nil
}

// listLimit checks the Limit of a List request: 100 items when it is
// absent, else 1 to 1000.
func listLimit(limit *int) (int, *apiError) {
	return optInt(limit, 100, "limit", 1, 1000)
}

// pageOut is the paging part of a List answer.
type pageOut struct {
	NextMarker string `json:",omitempty"`
	Truncated  bool
}

// page returns a copy of the page of all a List request asks for with its
// Limit and Marker (an index as text, "" for the first page), with the
// paging part of the answer: the marker of the next page, if any.
func page[T any](all []T, limitIn *int, marker string) ([]T, pageOut, *apiError) {
	limit, e := listLimit(limitIn)
	if e != nil {
		return nil, pageOut{}, e
	}
	start := 0
	if marker != "" {
		v, err := strconv.Atoi(marker)
		if err != nil || v < 0 || v > len(all) {
			return nil, pageOut{}, kerr("InvalidMarkerException", "Invalid marker")
		}
		start = v
	}
	end := start + limit
	if end >= len(all) {
		return append([]T{}, all[start:]...), pageOut{}, nil
	}
	return append([]T{}, all[start:end]...), pageOut{NextMarker: strconv.Itoa(end), Truncated: true}, nil
}
