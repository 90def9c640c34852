package upstream

import "sync/atomic"

// Conns counts a set of backend connections for gauges read at scrape
// time: open ones (idle included) and idle ones. Its owner updates it; it
// is safe for concurrent use.
type Conns struct {
	open, idle atomic.Int64
}

// Add moves the counts by open and idle.
func (c *Conns) Add(open, idle int64) {
	if open != 0 {
		c.open.Add(open)
	}
	if idle != 0 {
		c.idle.Add(idle)
	}
}

// Open returns the number of open connections, idle ones included.
func (c *Conns) Open() int64 { return c.open.Load() }

// Idle returns the number of idle connections.
func (c *Conns) Idle() int64 { return c.idle.Load() }
