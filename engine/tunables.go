package engine

import (
	"time"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// Tunables are the engine settings a configuration reload may change
// without a restart. The Server reads them through one atomic pointer
// (Server.tun), so SetTunables applies them to what starts afterwards:
// a connection accepted, a head started, a body or a backend wait begun
// after the swap uses the new values; a deadline already set keeps the
// value it was set with. Zero values mean the defaults documented on
// Config.
//
// Readers load the pointer once per decision (one OnTraffic call, one
// worker step) and never keep it across requests; a *Tunables, once
// stored, is never written again.
type Tunables struct {
	MaxHeadSize     int           // bytes of one request head; 0 = 64 KiB
	SpliceThreshold int64         // bodies of at least this many bytes leave the loop; 0 = 256 KiB
	HeaderTimeout   time.Duration // a started head must complete within it; 0 = 10s
	IdleTimeout     time.Duration // keep-alive idle time; 0 = 60s
	BodyTimeout     time.Duration // body stall (no progress) timeout; 0 = 60s
	UpstreamTimeout time.Duration // wait for the backend's reply after the body; 0 = 5m
	MaxConns        int           // open client connections; 0 = 10000
	MaxObjectSize   int64         // largest PutObject body; 0 = 5 GiB

	// maxBuffered bounds what gnet may hold for one connection while the
	// loop waits (a small body, or pipelined bytes behind a busy request).
	// Derived by setDefaults.
	maxBuffered int
}

func (t *Tunables) setDefaults() {
	if t.MaxHeadSize <= 0 {
		t.MaxHeadSize = httpparse.DefaultMaxHeadSize
	}
	if t.SpliceThreshold <= 0 {
		t.SpliceThreshold = 256 << 10
	}
	if t.HeaderTimeout <= 0 {
		t.HeaderTimeout = 10 * time.Second
	}
	if t.IdleTimeout <= 0 {
		t.IdleTimeout = 60 * time.Second
	}
	if t.BodyTimeout <= 0 {
		t.BodyTimeout = 60 * time.Second
	}
	if t.UpstreamTimeout <= 0 {
		t.UpstreamTimeout = 5 * time.Minute
	}
	if t.MaxConns <= 0 {
		t.MaxConns = 10000
	}
	if t.MaxObjectSize <= 0 {
		t.MaxObjectSize = 5 << 30
	}
	t.maxBuffered = t.MaxHeadSize + int(t.SpliceThreshold) + 64<<10
}

// tunables returns the reloadable part of cfg.
func (c *Config) tunables() Tunables {
	return Tunables{
		MaxHeadSize:     c.MaxHeadSize,
		SpliceThreshold: c.SpliceThreshold,
		HeaderTimeout:   c.HeaderTimeout,
		IdleTimeout:     c.IdleTimeout,
		BodyTimeout:     c.BodyTimeout,
		UpstreamTimeout: c.UpstreamTimeout,
		MaxConns:        c.MaxConns,
		MaxObjectSize:   c.MaxObjectSize,
	}
}

// SetTunables swaps the reloadable settings atomically (defaults applied
// to zero values). Requests and connections that start afterwards use
// them; see Tunables.
func (s *Server) SetTunables(t Tunables) {
	t.setDefaults()
	s.tunPtr.Store(&t)
}

// Tunables returns the settings in force (defaults applied).
func (s *Server) Tunables() Tunables { return *s.tunPtr.Load() }

// tun is the settings in force. Load it once per decision.
func (s *Server) tun() *Tunables { return s.tunPtr.Load() }
