package authz

import (
	"hash/maphash"
	"sync"

	"github.com/mizuchi-gw/mizuchi/policy"
)

const cacheShards = 16

// cache maps a decision input (its canonical JSON) to a decision until an
// expiry. It is split into shards under their own RWMutex, each holding at
// most perShard entries. A lookup (string(b) map index) does not allocate.
type cache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
	_  [40]byte // keep shards on separate cache lines
}

type cacheEntry struct {
	d       policy.Decision
	expires int64 // Unix ns
}

func newCache(size int) *cache {
	c := &cache{seed: maphash.MakeSeed(), perShard: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

// get returns the decision cached for key if it has not expired at now.
// A nil cache has nothing.
func (c *cache) get(key []byte, now int64) (policy.Decision, bool) {
	if c == nil {
		return policy.Decision{}, false
	}
	s := &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
	s.mu.RLock()
	e, ok := s.m[string(key)]
	s.mu.RUnlock()
	if !ok || now >= e.expires {
		return policy.Decision{}, false
	}
	return e.d, true
}

// put stores d for key until expires; now is the current time (Unix ns).
// A full shard first drops its expired
// entries; if none had expired it drops an arbitrary eighth of itself (Go's
// random map order), so the cache never grows past its bound.
func (c *cache) put(key string, d policy.Decision, now, expires int64) {
	s := &c.shards[maphash.String(c.seed, key)%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok && len(s.m) >= c.perShard {
		for k, e := range s.m {
			if now >= e.expires {
				delete(s.m, k)
			}
		}
		if len(s.m) >= c.perShard {
			drop := max(1, len(s.m)/8)
			for k := range s.m {
				if drop == 0 {
					break
				}
				delete(s.m, k)
				drop--
			}
		}
	}
	s.m[key] = cacheEntry{d: d, expires: expires}
}

// len is the number of entries, expired ones included.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
