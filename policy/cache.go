package policy

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// DefaultCacheSize is the verified-token cache capacity used when
// JWTOptions.CacheSize is 0.
const DefaultCacheSize = 10000

const cacheShards = 16

// tokenCache maps a verified token to its Identity. It is split into
// cacheShards maps, each under its own RWMutex and holding at most
// perShard entries. A lookup (string(b) map index) does not allocate.
//
// Eviction: when an insert finds its shard full, the shard first drops its
// expired entries; if none had expired it drops an arbitrary eighth of the
// shard (Go's random map order). Both are cheap and need no LRU list; a
// token that is evicted is simply verified again.
type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
	_  [40]byte // keep shards on separate cache lines
}

// cacheEntry is valid while notBefore <= now < expires (Unix nanoseconds,
// leeway applied).
type cacheEntry struct {
	id        *Identity
	notBefore int64
	expires   int64
}

// newTokenCache returns a cache of about size entries; nil (no caching)
// when size < 0.
func newTokenCache(size int) *tokenCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	c := &tokenCache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

// shard picks tok's shard. maphash.Bytes and maphash.String agree on equal
// contents, so get (bytes) and put (string) find the same shard.
func (c *tokenCache) shard(tok []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, tok)%cacheShards]
}

func (c *tokenCache) shardString(tok string) *cacheShard {
	return &c.shards[maphash.String(c.seed, tok)%cacheShards]
}

// get returns the Identity cached for tok if it is valid at now.
func (c *tokenCache) get(tok []byte, now int64) *Identity {
	if c == nil {
		return nil
	}
	s := c.shard(tok)
	s.mu.RLock()
	e, ok := s.m[string(tok)]
	s.mu.RUnlock()
	if !ok || now < e.notBefore || now >= e.expires {
		return nil
	}
	return e.id
}

// put caches e under tok, evicting as described on tokenCache.
func (c *tokenCache) put(tok string, e cacheEntry, now int64) {
	if c == nil {
		return
	}
	s := c.shardString(tok)
	s.mu.Lock()
	if _, ok := s.m[tok]; !ok && len(s.m) >= c.perShard {
		n := len(s.m)
		for k, v := range s.m {
			if now >= v.expires {
				delete(s.m, k)
			}
		}
		if len(s.m) == n {
			drop := n/8 + 1
			for k := range s.m {
				delete(s.m, k)
				if drop--; drop == 0 {
					break
				}
			}
		}
	}
	s.m[tok] = e
	s.mu.Unlock()
}

// clear drops every entry (after a key was removed from the JWK set).
func (c *tokenCache) clear() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// len returns the number of entries.
func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// unixNano is t.UnixNano clamped to int64 instead of overflowing (exp
// claims far in the future are legal).
func unixNano(t time.Time) int64 {
	switch {
	case t.After(maxTime):
		return math.MaxInt64
	case t.Before(minTime):
		return math.MinInt64
	}
	return t.UnixNano()
}

var (
	maxTime = time.Unix(0, math.MaxInt64)
	minTime = time.Unix(0, math.MinInt64)
)
