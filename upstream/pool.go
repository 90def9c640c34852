package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// PoolConfig tunes a Pool. Zero values mean the documented defaults.
type PoolConfig struct {
	MaxIdle     int           // idle connections kept; 0 = 64
	IdleTimeout time.Duration // an idle connection older than this is closed; 0 = 30s
	DialTimeout time.Duration // 0 = 5s
}

// idleConns counts the idle connections of every Pool of the process: each
// holds one file descriptor that no request accounts for (IdleConns).
var idleConns atomic.Int64

// IdleConns returns the idle connections held by all pools of the process,
// an atomic load. Connections in use are not counted: their callers
// account for them.
func IdleConns() int64 { return idleConns.Load() }

// Pool keeps idle keep-alive connections to one backend address.
// It is safe for concurrent use.
type Pool struct {
	addr string
	tls  *tls.Config
	cfg  PoolConfig

	mu   sync.Mutex
	idle []*Conn // LIFO: the most recently used is reused first

	open atomic.Int64 // connections dialed and not yet closed
}

// NewPool returns a pool dialing addr (TLS when tc is non-nil).
func NewPool(addr string, tc *tls.Config, cfg PoolConfig) *Pool {
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = 64
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	return &Pool{addr: addr, tls: tc, cfg: cfg}
}

// Conn is one upstream connection. TCP is nil when the connection is TLS
// (bodies to it take the copy path).
type Conn struct {
	net.Conn
	TCP *net.TCPConn
	Raw syscall.RawConn // of TCP; nil for TLS

	// Reused is true when the connection served an earlier request; a
	// failure before any response byte may then be retried on a new one.
	Reused bool

	pool    *Pool
	closed  atomic.Bool  // counted out of pool.open
	sock    *net.TCPConn // the TCP socket, also under TLS
	idleAt  time.Time
	rbuf    []byte // response read buffer
	rn      int    // bytes valid in rbuf
	bodyBuf []byte
}

// Get returns an idle connection or dials a new one. It blocks: call it
// off the event loop.
func (p *Pool) Get(ctx context.Context) (*Conn, error) {
	now := time.Now()
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		idleConns.Add(-1)
		p.mu.Unlock()
		if now.Sub(c.idleAt) < p.cfg.IdleTimeout && c.alive() {
			c.Reused = true
			return c, nil
		}
		c.Close()
	}
	return p.dial(ctx)
}

func (p *Pool) dial(ctx context.Context) (*Conn, error) {
	d := net.Dialer{Timeout: p.cfg.DialTimeout, KeepAlive: -1}
	nc, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("cannot dial %q: %w", p.addr, err)
	}
	tcp := nc.(*net.TCPConn)
	// Every backend socket closes with a reset: a connection closed by
	// the process's exit (or any close mid-body) must never look like the
	// end of a body to the backend (see Abort). Closes after a complete
	// exchange have nothing left to send, so a reset loses nothing.
	_ = tcp.SetLinger(0)
	c := &Conn{pool: p, sock: tcp, rbuf: make([]byte, 4096)}
	if p.tls != nil {
		tc := tls.Client(nc, p.tls)
		hctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("cannot complete TLS handshake with %q: %w", p.addr, err)
		}
		c.Conn = tc
		p.open.Add(1)
		return c, nil
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cannot get raw conn for %q: %w", p.addr, err)
	}
	c.Conn, c.TCP, c.Raw = tcp, tcp, raw
	p.open.Add(1)
	return c, nil
}

// Put returns c for reuse. Call it only after a complete response was read
// and the response did not ask to close; otherwise call c.Close.
func (p *Pool) Put(c *Conn) {
	c.idleAt = time.Now()
	c.rn = 0
	_ = c.Conn.SetDeadline(time.Time{})
	p.mu.Lock()
	if len(p.idle) < p.cfg.MaxIdle {
		p.idle = append(p.idle, c)
		idleConns.Add(1)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	c.Close()
}

// IdleTimeout is how long an idle connection may be kept.
func (p *Pool) IdleTimeout() time.Duration { return p.cfg.IdleTimeout }

// DialTimeout bounds a dial.
func (p *Pool) DialTimeout() time.Duration { return p.cfg.DialTimeout }

// Open returns the number of connections open: idle, or in use by a
// caller between Get and Put or Close.
func (p *Pool) Open() int64 { return p.open.Load() }

// Idle returns the number of idle connections.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// CloseIdle closes all idle connections.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	idleConns.Add(-int64(len(idle)))
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}

// Ping dials the backend and closes the connection: a reachability check
// for readiness probes.
func (p *Pool) Ping(ctx context.Context) error {
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return fmt.Errorf("cannot dial %q: %w", p.addr, err)
	}
	return nc.Close()
}

// Close closes the connection (it is not returned to the pool).
func (c *Conn) Close() error {
	c.release()
	return c.Conn.Close()
}

// release counts c out of its pool's open connections, once.
func (c *Conn) release() {
	if c.closed.CompareAndSwap(false, true) {
		c.pool.open.Add(-1)
	}
}

// Abort closes the connection with a TCP reset (SO_LINGER 0) instead of a
// FIN. A backend that sees a FIN mid-body may still commit the truncated
// object (versitygw v1.8.0 does with UNSIGNED-PAYLOAD); a reset makes it
// fail the request, so an aborted upload leaves nothing behind.
func (c *Conn) Abort() error {
	c.release()
	_ = c.sock.SetLinger(0)
	return c.sock.Close()
}

// alive probes an idle connection: a non-blocking MSG_PEEK must find no data
// and no EOF.
func (c *Conn) alive() bool {
	if c.Raw == nil {
		return true // TLS: rely on the retry of a reused connection
	}
	ok := false
	var b [1]byte
	err := c.Raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		_ = n
		ok = errors.Is(err, syscall.EAGAIN)
		return true
	})
	return err == nil && ok
}
