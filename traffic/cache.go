package traffic

import (
	"sync"
	"time"
)

// KeyCache models a client-side data-key cache such as the AWS Encryption
// SDK's caching materials manager holding one data key: an arrival that
// finds a cached key younger than MaxAge and used fewer than MaxUses times
// uses it and makes no KMS call; otherwise the workload calls KMS and, on
// success, refreshes the cache with a new key that counts that request as
// its first use. A zero MaxAge or MaxUses bounds nothing on that side.
// Concurrent misses each call KMS (no request coalescing), as the SDK does.
// Safe for concurrent use; time is the caller's.
type KeyCache struct {
	maxAge  time.Duration
	maxUses int

	mu      sync.Mutex
	valid   bool
	created time.Time
	uses    int
}

// NewKeyCache returns an empty cache.
func NewKeyCache(maxAge time.Duration, maxUses int) *KeyCache {
	return &KeyCache{maxAge: maxAge, maxUses: maxUses}
}

// Use reports whether an arrival at now is served by the cached key, and
// counts the use when it is.
func (c *KeyCache) Use(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid {
		return false
	}
	if (c.maxAge > 0 && now.Sub(c.created) >= c.maxAge) || (c.maxUses > 0 && c.uses >= c.maxUses) {
		c.valid = false
		return false
	}
	c.uses++
	return true
}

// Refresh caches a new key obtained at now, with one use.
func (c *KeyCache) Refresh(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.valid, c.created, c.uses = true, now, 1
}
