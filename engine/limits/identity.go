package limits

import (
	"sync"
	"time"
)

// Key names an identity: the authentication method and the subject (or
// access key). Both strings are long-lived (configuration, a cached
// identity), so using them as a map key copies nothing.
type Key struct {
	Method, Name string
}

// Entry is one identity's state, guarded by its shard's mutex.
type Entry struct {
	key      Key
	shard    uint32
	inflight int64 // uploads in flight; an entry with some is never evicted
	bucket   TokenBucket
	seen     int64 // Unix ns of the last use
}

const (
	idShards = 32
	// MaxIdentities bounds the identities tracked at once.
	MaxIdentities = 32768
	perShard      = MaxIdentities / idShards
	// idleAfter: an entry unused this long with nothing in flight may be
	// evicted even when its bucket is not full again.
	idleAfter = int64(10 * time.Minute)
)

// Identities holds per-identity token buckets and in-flight counts, at
// most MaxIdentities entries. Safe for concurrent use.
type Identities struct {
	shards [idShards]struct {
		mu sync.Mutex
		m  map[Key]*Entry
		_  [48]byte
	}
}

func idShard(k Key) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(k.Method); i++ {
		h = (h ^ uint32(k.Method[i])) * 16777619
	}
	for i := 0; i < len(k.Name); i++ {
		h = (h ^ uint32(k.Name[i])) * 16777619
	}
	return h % idShards
}

// entry returns k's entry, creating it (and evicting to make room) when
// absent. Called with the shard's mutex held.
func (ids *Identities) entry(sh uint32, k Key, now int64, rate, burst float64) *Entry {
	s := &ids.shards[sh]
	if e := s.m[k]; e != nil {
		e.seen = now
		return e
	}
	if s.m == nil {
		s.m = make(map[Key]*Entry)
	}
	if len(s.m) >= perShard {
		ids.evict(sh, now, rate, burst)
	}
	e := &Entry{key: k, shard: sh, seen: now}
	s.m[k] = e
	return e
}

// evict makes room in a full shard: entries with nothing in flight whose
// bucket is full again (rate > 0) or that are idle go; if none does,
// evictBatch entries with nothing in flight go, taken in map order (about
// random), so a flood of new identities costs one scan per evictBatch
// inserts. Entries with uploads in flight stay (their number is bounded by
// the connections).
func (ids *Identities) evict(sh uint32, now int64, rate, burst float64) {
	s := &ids.shards[sh]
	freed := 0
	for k, e := range s.m {
		if e.inflight == 0 && (now-e.seen > idleAfter || (rate > 0 && e.bucket.full(now, rate, burst))) {
			delete(s.m, k)
			freed++
		}
	}
	if freed > 0 {
		return
	}
	for k, e := range s.m {
		if e.inflight == 0 {
			delete(s.m, k)
			if freed++; freed == evictBatch {
				return
			}
		}
	}
}

// evictBatch is how many busy-but-evictable entries a full shard drops.
const evictBatch = perShard / 16

// Allow takes a token from k's bucket (rate per second, burst). When the
// bucket is empty it returns false and the wait until a token (ns).
func (ids *Identities) Allow(k Key, now int64, rate, burst float64) (bool, int64) {
	sh := idShard(k)
	s := &ids.shards[sh]
	s.mu.Lock()
	e := ids.entry(sh, k, now, rate, burst)
	ok, wait := e.bucket.Take(now, rate, burst)
	s.mu.Unlock()
	return ok, wait
}

// Acquire takes an in-flight upload slot: a place in g (max > 0 caps it)
// and, when perID > 0, one of k's perID places. The second result names
// the cap that refused: 0 none, 1 the process cap, 2 the identity's.
func (ids *Identities) Acquire(g *Gate, max int64, k Key, perID int64, now int64) (Slot, int) {
	if !g.Acquire(max) {
		return Slot{}, 1
	}
	if perID <= 0 {
		return Slot{g: g}, 0
	}
	sh := idShard(k)
	s := &ids.shards[sh]
	s.mu.Lock()
	e := ids.entry(sh, k, now, 0, 0)
	if e.inflight >= perID {
		s.mu.Unlock()
		g.Release()
		return Slot{}, 2
	}
	e.inflight++
	s.mu.Unlock()
	return Slot{g: g, e: e, s: ids}, 0
}

func (ids *Identities) releaseInflight(e *Entry) {
	s := &ids.shards[e.shard]
	s.mu.Lock()
	e.inflight--
	s.mu.Unlock()
}

// Len returns the number of identities tracked.
func (ids *Identities) Len() int {
	n := 0
	for i := range ids.shards {
		s := &ids.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
