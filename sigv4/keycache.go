package sigv4

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// DefaultKeyCacheSize is the capacity NewKeyCache uses for max <= 0.
const DefaultKeyCacheSize = 1024

// KeyCache caches derived SigV4 signing keys per (secret key, date YYYYMMDD,
// region, service). It is safe for concurrent use and bounded: when it holds
// max entries, inserting a new one evicts an arbitrary other entry (signing
// keys change daily, so stale dates fall out on their own). A hit allocates
// nothing. A nil *KeyCache caches nothing.
//
// The secret key is part of the map key, so the cache holds secrets in
// memory for as long as their entries live, just as the credentials do.
type KeyCache struct {
	mu  sync.RWMutex
	m   map[string]*[sha256.Size]byte
	max int
}

// NewKeyCache returns a cache holding at most max signing keys;
// max <= 0 means DefaultKeyCacheSize.
func NewKeyCache(max int) *KeyCache {
	if max <= 0 {
		max = DefaultKeyCacheSize
	}
	return &KeyCache{m: make(map[string]*[sha256.Size]byte), max: max}
}

// Len returns the number of cached keys.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	n := len(c.m)
	c.mu.RUnlock()
	return n
}

// appendCacheKey appends an unambiguous encoding of the cache key: every
// field is length-prefixed, so no choice of bytes can make two different
// tuples collide.
func appendCacheKey(dst []byte, secret string, date, region, service []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(secret)))
	dst = append(dst, secret...)
	dst = binary.AppendUvarint(dst, uint64(len(date)))
	dst = append(dst, date...)
	dst = binary.AppendUvarint(dst, uint64(len(region)))
	dst = append(dst, region...)
	dst = binary.AppendUvarint(dst, uint64(len(service)))
	return append(dst, service...)
}

// get copies the key cached under k into key and reports whether it was
// there. It does not allocate.
func (c *KeyCache) get(k []byte, key *[sha256.Size]byte) bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	v, ok := c.m[string(k)]
	if ok {
		*key = *v
	}
	c.mu.RUnlock()
	return ok
}

// put stores key under k, evicting an arbitrary entry if the cache is full.
func (c *KeyCache) put(k []byte, key *[sha256.Size]byte) {
	if c == nil {
		return
	}
	v := new([sha256.Size]byte)
	*v = *key
	ks := string(k)
	c.mu.Lock()
	if _, ok := c.m[ks]; !ok {
		for old := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, old) // map iteration order is random: an arbitrary victim
		}
	}
	c.m[ks] = v
	c.mu.Unlock()
}
