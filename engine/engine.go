package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"go.opentelemetry.io/otel/trace"

	"github.com/mizuchi-gw/mizuchi/engine/accesslog"
	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/sigv4"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// Config tunes the engine. Zero values mean the documented defaults. The
// fields that are also in Tunables are the starting values; a reload
// changes them with Server.SetTunables.
type Config struct {
	Addr            string        // listen address, e.g. "127.0.0.1:8080" (required)
	Loops           int           // gnet event loops; 0 = GOMAXPROCS
	MaxHeadSize     int           // bytes of one request head; 0 = 64 KiB
	SpliceThreshold int64         // bodies of at least this many bytes leave the loop; 0 = 256 KiB
	ZeroCopy        bool          // splice large bodies; false copies them in user space
	HeaderTimeout   time.Duration // a started head must complete within it; 0 = 10s
	IdleTimeout     time.Duration // keep-alive idle time; 0 = 60s
	BodyTimeout     time.Duration // body stall (no progress) timeout; 0 = 60s
	UpstreamTimeout time.Duration // wait for the backend's reply after the body; 0 = 5m
	MaxConns        int           // open client connections; 0 = 10000
	MaxObjectSize   int64         // largest PutObject body; 0 = 5 GiB
	Pipes           *pipes.Pool   // required when ZeroCopy is set
	Logger          *slog.Logger  // nil = slog.Default()
	// NoLoopRelay turns the in-loop relay of buffered requests off: every
	// request is relayed by a worker goroutine (uplink.go). For comparison.
	NoLoopRelay bool
	// AccessLog writes one line per request (engine/accesslog.go); nil = off.
	AccessLog *accesslog.Logger
	// TLS, when set, serves HTTPS on Addr (HTTP/1.1, TLS 1.2 or newer;
	// NextProtos and MinVersion are enforced on a copy). See tls.go.
	TLS *tls.Config
	// Tracer, when set, traces every S3 request (trace.go); nil = off.
	Tracer trace.Tracer
	// ProxyProtocol lists the load balancers whose connections start with
	// a PROXY protocol header (v1 or v2); when not empty, every other
	// connection is refused. Empty = off. See proxyproto.go.
	ProxyProtocol []netip.Prefix
	// TrustedProxies lists the socket peers whose X-Forwarded-For is
	// believed; empty = X-Forwarded-For is ignored. See clientaddr.go.
	TrustedProxies []netip.Prefix
	// Limits are the admission limits (limits.go); zero values are off.
	// Reloadable with Server.SetLimits.
	Limits Limits
	// BufferBudget bounds the body bytes held in user space: auto-multipart
	// part buffers and copy-path pump buffers (membudget.go). A request
	// that needs more is refused with 503 SlowDown before its body is
	// read. 0 = 256 MiB.
	BufferBudget int64
	// SpoolDir and SpoolMaxBytes spool chunked UploadPart bodies to disk
	// (spool.go): the directory ("" = os.TempDir()) and the bytes spooled
	// at once; 0 = off (such bodies get 501).
	SpoolDir      string
	SpoolMaxBytes int64
	// FDLimit is the file descriptors the connection work may hold: client
	// connections, backend connections, pipes and spool files, counted as
	// they are used (fdaccount.go); new connections and requests that do
	// not fit are refused with 503 SlowDown. 0 = not limited.
	FDLimit int64
}

func (c *Config) setDefaults() {
	t := c.tunables()
	t.setDefaults() // one place for the defaults of the reloadable settings
	c.MaxHeadSize, c.SpliceThreshold = t.MaxHeadSize, t.SpliceThreshold
	c.HeaderTimeout, c.IdleTimeout, c.BodyTimeout, c.UpstreamTimeout = t.HeaderTimeout, t.IdleTimeout, t.BodyTimeout, t.UpstreamTimeout
	c.MaxConns, c.MaxObjectSize = t.MaxConns, t.MaxObjectSize
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Server is the S3 upload endpoint. It implements gnet.EventHandler.
type Server struct {
	gnet.BuiltinEventEngine

	cfg    Config
	log    *slog.Logger
	router atomic.Pointer[Router]
	keys   *sigv4.KeyCache // backend signing keys
	// clientKeys caches signing keys derived from client secrets.
	clientKeys *sigv4.KeyCache

	scratch   sync.Pool // *loopScratch
	builders  sync.Pool // *upstream.Builder
	exchanges sync.Pool // *exchange
	copyBufs  sync.Pool // *[]byte, copy-path pump buffers
	spool     *spooler  // chunked UploadPart bodies (spool.go); nil = off
	links     sync.Map  // gnet.EventLoop -> *loopLinks

	budget *memBudget // buffered body bytes (membudget.go)

	autoMP   chan struct{} // slots of concurrent auto-multipart uploads
	reg      registry
	workers  sync.WaitGroup
	eng      gnet.Engine // set in OnBoot, before booted is closed
	front    *tlsFront   // the TLS listener; nil without Config.TLS
	bootOnce sync.Once
	booted   chan struct{}
	stopping atomic.Bool
	done     chan struct{}

	// tunPtr holds the settings a reload may change (tunables.go).
	tunPtr atomic.Pointer[Tunables]

	lim limitState // admission limits (limits.go)
}

// New returns a Server serving routes.
func New(cfg Config, router *Router) (*Server, error) {
	cfg.setDefaults()
	if cfg.Addr == "" {
		return nil, errors.New("engine: listen address is required")
	}
	if cfg.ZeroCopy && cfg.Pipes == nil {
		return nil, errors.New("engine: zero copy needs a pipe pool")
	}
	if cfg.TLS != nil {
		cfg.TLS = tlsConfig(cfg.TLS)
	}
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		keys:       sigv4.NewKeyCache(1024),
		clientKeys: sigv4.NewKeyCache(4096),
		booted:     make(chan struct{}),
		autoMP:     make(chan struct{}, maxAutoMultipart),
		done:       make(chan struct{}),
	}
	s.SetTunables(cfg.tunables())
	s.SetRouter(router)
	s.SetLimits(cfg.Limits)
	s.scratch.New = func() any { return &loopScratch{} }
	s.builders.New = func() any { return upstream.NewBuilder(s.keys) }
	s.exchanges.New = func() any {
		ex := &exchange{s: s}
		ex.written = ex.onWritten
		return ex
	}
	s.copyBufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	setFDLimit(cfg.FDLimit, cfg.Pipes)
	s.budget = newMemBudget(cfg.BufferBudget)
	liveBudget.Store(s.budget)
	if cfg.SpoolMaxBytes > 0 {
		s.spool = newSpooler(cfg.SpoolDir, cfg.SpoolMaxBytes)
	}
	return s, nil
}

// SetRouter swaps the live routes atomically; requests already routed keep
// the route they matched.
func (s *Server) SetRouter(r *Router) {
	for _, rt := range r.byPrefix {
		if rt.m == nil {
			rt.m = newRouteMetrics(rt.Name)
		}
	}
	s.router.Store(r)
}

// Router returns the live routes.
func (s *Server) Router() *Router { return s.router.Load() }

// Serve runs the event loops until Shutdown. It returns an error if the
// listener cannot be set up.
func (s *Server) Serve() error {
	defer close(s.done)
	addr := "tcp://" + s.cfg.Addr
	opts := []gnet.Option{
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReuseAddr(true),
		gnet.WithLogger(gnetLogger{s.log}),
		gnet.WithLogLevel(logging.WarnLevel),
	}
	if s.cfg.TLS != nil {
		f, err := newTLSFront(s)
		if err != nil {
			return fmt.Errorf("cannot serve on %q: %w", s.cfg.Addr, err)
		}
		defer f.close()
		s.front = f
		addr = f.gnetAddr()
		// Register is called from the front's goroutines: RoundRobin is
		// not safe for that (see gnet.Engine.Register). The ticker's first
		// OnTick says the loops run.
		opts = append(opts, gnet.WithLoadBalancing(gnet.LeastConnections), gnet.WithTicker(true))
	}
	go s.sweep()
	err := gnet.Run(s, addr, opts...)
	if err != nil {
		return fmt.Errorf("cannot serve on %q: %w", s.cfg.Addr, err)
	}
	return nil
}

// Booted is closed once the listener accepts connections.
func (s *Server) Booted() <-chan struct{} { return s.booted }

// Shutdown stops taking new requests (new ones get 503 SlowDown and a
// closed connection), waits for in-flight uploads until ctx is done, then
// stops the event loops and closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	waited := make(chan struct{})
	go func() { s.workers.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = fmt.Errorf("in-flight uploads did not finish: %w", ctx.Err())
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case <-s.booted:
		if serr := s.eng.Stop(sctx); serr != nil && err == nil {
			err = serr
		}
	case <-s.done:
	}
	<-s.done
	return err
}

// InFlight returns the number of requests being relayed.
func (s *Server) InFlight() int64 { return inflight.Load() }

// OnBoot implements gnet.EventHandler. gnet's listener is bound; with TLS
// its private path is unlinked now, and booting completes in OnTick.
func (s *Server) OnBoot(e gnet.Engine) gnet.Action {
	s.eng = e
	if s.front != nil {
		s.front.unlink()
		return gnet.None
	}
	close(s.booted)
	return gnet.None
}

// OnTick implements gnet.EventHandler. The ticker runs only with TLS: its
// first tick (right after the loops start) starts the TLS front.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	s.bootOnce.Do(func() {
		if s.front != nil {
			go s.front.serve()
			close(s.booted)
		}
	})
	return time.Hour, gnet.None
}

// reenrolled marks a connection handed back to gnet after a detached body.
type reenrolled struct{ st *connState }

// OnOpen implements gnet.EventHandler.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	out, act := s.open(c)
	if len(out) > 0 {
		if p, ok := c.Context().(tlsPeer); ok {
			// A refused TLS client: what gnet would write is sealed.
			p.t.Conn = c
			_, _ = p.t.Write(out)
			return nil, act
		}
	}
	return out, act
}

// open is OnOpen before a refusal of a TLS client is sealed.
func (s *Server) open(c gnet.Conn) ([]byte, gnet.Action) {
	if d, ok := c.Context().(linkDial); ok {
		s.linkOpened(c, d)
		return nil, gnet.None
	}
	if r, ok := c.Context().(reenrolled); ok {
		st := r.st
		st.setConn(c)
		st.detaching = false
		st.closed = false
		st.busy = false
		st.continued = false
		st.headStarted = false
		st.bodyWait = false
		c.SetContext(st)
		st.setDeadline(s.tun().IdleTimeout)
		s.reg.add(st)
		s.tlsOpened(c, st)
		return nil, gnet.None
	}
	connsAccepted.Inc()
	if s.stopping.Load() {
		// Draining: new connections are turned away at once, so a load
		// balancer moves them elsewhere.
		connsRejected.Inc()
		var id [16]byte
		return appendErrorResponse(nil, errSlowDown.Code, errSlowDown.Status, "The gateway is shutting down.", appendRequestID(id[:0]), nil, true), gnet.Close
	}
	if activeConns.Load() >= s.maxConns() {
		connsRejected.Inc()
		var id [16]byte
		return appendErrorResponse(nil, errSlowDown.Code, errSlowDown.Status, errSlowDown.Message, appendRequestID(id[:0]), nil, true), gnet.Close
	}
	if _, front := c.Context().(tlsPeer); !front && fdAcct.full(1) { // the TLS front checked at accept
		connsRejected.Inc()
		return refuseConnLimit(), gnet.Close
	}
	if !s.admitProxyPeer(c) {
		return nil, gnet.Close
	}
	ip := s.connIP(c)
	if !s.admitIP(ip) {
		connsRejected.Inc()
		return refuseConnLimit(), gnet.Close
	}
	activeConns.Add(1)
	st := &connState{gc: c, ll: s.loopLinksFor(c.EventLoop())}
	st.lim.ip = ip
	if p, ok := c.Context().(tlsPeer); ok {
		st.peer = p.addr
		st.tls = p.t
		st.setConn(c)
	}
	s.openClient(c, st)
	c.SetContext(st)
	st.setDeadline(s.tun().IdleTimeout)
	s.reg.add(st)
	s.tlsOpened(c, st)
	return nil, gnet.None
}

// OnClose implements gnet.EventHandler. It also fires when a connection is
// detached for a body (err is nil then and the connection lives on).
func (s *Server) OnClose(c gnet.Conn, _ error) gnet.Action {
	if l, ok := c.Context().(*link); ok {
		s.linkClosed(l)
		return gnet.None
	}
	st, ok := c.Context().(*connState)
	if !ok {
		if _, ok := c.Context().(tlsPeer); ok {
			tlsConns.Add(-1) // refused in OnOpen
		}
		return gnet.None
	}
	s.reg.remove(st)
	s.proxyClosed(st)
	st.closed = true
	st.traceClosed()
	if !st.detaching {
		activeConns.Add(-1)
		s.connGone(st)
		if st.tls != nil {
			tlsConns.Add(-1)
		}
	}
	return gnet.None
}

// gnetLogger routes gnet's logs to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Info(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }
