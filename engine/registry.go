package engine

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/policy/authz"
)

// connState is the engine's state of one client connection. Fields other
// than deadline are touched only on the connection's event loop (or by the
// one worker that owns a detached connection).
type connState struct {
	gc  gnet.Conn
	tls *tlsConn   // a TLS client (tlsconn.go): gc is tls, tls.Conn gnet's conn
	ll  *loopLinks // the links of the connection's event loop

	fds int64 // descriptors charged to the current request (fdaccount.go)

	busy        bool // a request is being relayed; do not parse the next one
	continued   bool // 100 Continue was sent for the current request
	headStarted bool // bytes of a new head have arrived (header timeout runs)
	bodyWait    bool // the head is complete and its small body is awaited (body timeout runs)
	detaching   bool // the socket left gnet for a body; OnClose must not count it closed
	closed      bool

	// kidRefreshed: the current request already waited for a JWKS refresh.
	kidRefreshed bool
	// authed: the current head was authenticated (for authFor) and the
	// loop is waiting for the rest of its small body; later read events
	// reuse authRes instead of verifying the same head again. The head's
	// bytes cannot change while they wait in gnet's buffer.
	authed  bool
	authFor *Auth
	authRes authResult
	// authWait is set while a JWKS refresh runs for this connection's
	// request; the refresh goroutine clears it and wakes the connection.
	authWait atomic.Bool

	// decided: the current head was authorized (by decFor) and decRes is
	// the decision, kept like authRes while a small body arrives.
	decided bool
	decFor  *authz.Authorizer
	decRes  authz.Result
	// decReady is the decision a parked connection waits for, stored by
	// the deciding goroutine before it clears authWait and wakes the
	// connection; the loop takes it (Swap) on the next OnTraffic.
	decReady atomic.Pointer[parkedDecision]
	// retryWake: a delayed Wake is pending for a head that waits for
	// queued output to drain before it can detach (set on the loop,
	// cleared by the timer).
	retryWake atomic.Bool
	// peer is the client address of a connection that came through the
	// TLS front (as its handshake saw it); invalid otherwise.
	peer netip.Addr
	// client addresses (clientaddr.go): the connection's client (PROXY
	// source, TLS peer or socket peer), the immediate TCP peer, and the
	// current request's client from a trusted X-Forwarded-For (invalid:
	// client). proxyWait: a PROXY header must come first (proxyproto.go).
	client, sockPeer, fwdClient netip.Addr
	proxyWait                   bool

	// tr is the current head's trace (trace.go); nil with tracing off.
	tr *reqTrace

	// deadline is when the sweeper closes the connection (Unix ns; 0 = none).
	deadline atomic.Int64
	shard    uint32

	lim connLimits // per-IP count, admission and body rate (limits.go)
}

// nextRequest readies the connection for its next request head: the
// per-request flags and the current head's decisions are forgotten.
func (st *connState) nextRequest() {
	st.headStarted = false
	st.bodyWait = false
	st.continued = false
	st.kidRefreshed = false
	st.clearAuth()
	st.lim.next()
	st.releaseFDs()
}

// clearAuth forgets the current head's authentication and authorization
// results, when its request is relayed or refused.
func (st *connState) clearAuth() {
	st.authed = false
	st.decided = false
	st.decFor = nil
	st.decReady.Store(nil)
}

func (st *connState) setDeadline(d time.Duration) {
	st.deadline.Store(nowNanos() + int64(d))
}

// registry holds in-loop connections so a sweeper can enforce header and
// idle timeouts, which gnet does not do per connection.
type registry struct {
	next   atomic.Uint32
	shards [16]struct {
		mu sync.Mutex
		m  map[*connState]struct{}
	}
}

func (r *registry) add(st *connState) {
	st.shard = r.next.Add(1) % uint32(len(r.shards))
	sh := &r.shards[st.shard]
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[*connState]struct{})
	}
	sh.m[st] = struct{}{}
	sh.mu.Unlock()
}

func (r *registry) remove(st *connState) {
	sh := &r.shards[st.shard]
	sh.mu.Lock()
	delete(sh.m, st)
	sh.mu.Unlock()
}

// sweep closes connections whose deadline passed, once a second.
// Closing goes through gnet's concurrency-safe Close, which runs on the loop.
func (s *Server) sweep() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		now := nowNanos()
		for i := range s.reg.shards {
			sh := &s.reg.shards[i]
			sh.mu.Lock()
			for st := range sh.m {
				if d := st.deadline.Load(); d != 0 && now > d {
					st.deadline.Store(0)
					timeoutsTotal.Inc()
					_ = st.gc.Close()
				}
				wakeForBodyRate(st, now)
			}
			sh.mu.Unlock()
		}
		s.sweepLinks()
	}
}
