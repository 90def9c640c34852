package limits

import (
	"net/netip"
	"sync"
)

const ipShards = 32

// IPCounter counts open connections per client IP. An IP has an entry only
// while it has connections. Safe for concurrent use; each operation holds
// one shard's mutex for a map lookup.
type IPCounter struct {
	shards [ipShards]struct {
		mu sync.Mutex
		m  map[netip.Addr]int32
		_  [40]byte // keep shards on separate cache lines
	}
}

func ipShard(ip netip.Addr) uint32 {
	b := ip.As16()
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h % ipShards
}

// Admit counts one more connection from ip unless it already has max
// (max <= 0: no cap, still counted, so a cap set later by a reload sees
// the connections already open). It reports whether the connection may
// stay; every admitted connection is Released once.
func (c *IPCounter) Admit(ip netip.Addr, max int) bool {
	sh := &c.shards[ipShard(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.m[ip]
	if max > 0 && int(n) >= max {
		return false
	}
	if sh.m == nil {
		sh.m = make(map[netip.Addr]int32)
	}
	sh.m[ip] = n + 1
	return true
}

// Release forgets one admitted connection from ip.
func (c *IPCounter) Release(ip netip.Addr) {
	sh := &c.shards[ipShard(ip)]
	sh.mu.Lock()
	if n := sh.m[ip]; n > 1 {
		sh.m[ip] = n - 1
	} else {
		delete(sh.m, ip)
	}
	sh.mu.Unlock()
}

// Count returns the open connections counted for ip.
func (c *IPCounter) Count(ip netip.Addr) int {
	sh := &c.shards[ipShard(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return int(sh.m[ip])
}
