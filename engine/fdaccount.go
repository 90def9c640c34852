package engine

import (
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// The file descriptor account. gnet v2.9.7 stops its event loops when
// accept(2) fails with EMFILE or ENFILE (fdlimit.go), so the gateway must
// never run out of descriptors with a connection waiting. Instead of a
// static worst case per client connection, it counts the descriptors its
// connection work holds and refuses new work when they would not fit in
// Config.FDLimit (RLIMIT_NOFILE less a reserve kept by cmd/mizuchi for the
// listeners, event loops, logs, the admin listener, DNS, transient
// duplicates and connections gnet's acceptor took before OnOpen):
//
//   - every client connection: 1 (activeConns), charged from accept while
//     the TLS front handshakes it (and checked there, not in OnOpen);
//   - every request admitted to the backend, from admission to its end:
//     its backend connection, for an auto-multipart upload one per
//     concurrent part, and, when its body may leave the loop, the
//     duplicates of the detached socket (2), a pipe (2) when it may be
//     spliced and a spool file (1) when it is spooled;
//   - every in-loop backend connection (link), from its dial to its close;
//   - every idle pooled backend connection (upstream.IdleConns) and every
//     free pipe of the pipe pool (2 each): pools grow lazily, and what is
//     in use is charged to the request using it.
//
// So an idle keep-alive connection costs one descriptor. A request's
// charge is what it may open; a backend connection or pipe it takes from
// a pool was counted there and moves to its charge, so nothing open goes
// uncounted. The account errs toward refusing: a charge is the most a
// request may hold (the socket duplicates last microseconds, a small body
// is charged a backend connection even when relayed over a link, which is
// counted too).
//
// Checks: a new connection is refused when the account is at the limit,
// as over max_connections (OnOpen answers 503 SlowDown and closes; the
// TLS front closes before the handshake); a request whose charge does not fit is answered 503 SlowDown with
// Retry-After before 100 Continue and before any body byte (admitFDs); a
// link is not dialed when it does not fit (the request takes the worker
// path, which its charge covers). The accept check reads without
// reserving, so concurrent loops may each admit one connection past the
// limit: at most one per event loop, well inside the reserve. gnet's
// acceptor takes connections off the listen queue before OnOpen runs, so
// the descriptors of a burst not yet seen by the loops are the reserve's,
// not the account's.
//
// Everything is atomic: no lock, no allocation, nothing that waits.
type fdAccount struct {
	limit atomic.Int64 // descriptors the account may reach; 0 = not limited
	held  atomic.Int64 // charges: requests, links, TLS front sockets
	pipes atomic.Pointer[pipes.Pool]
}

// fdAcct is the process's account (activeConns and the pools it reads are
// process-wide too).
var fdAcct fdAccount

var refusedFDs = metrics.NewCounter(`mizuchi_limit_refusals_total{limit="fds"}`)

func init() {
	metrics.NewGauge(`mizuchi_fds_accounted`, func() float64 { return float64(fdAcct.used()) })
	metrics.NewGauge(`mizuchi_fds_limit`, func() float64 { return float64(fdAcct.limit.Load()) })
}

// setFDLimit installs the limit and the pipe pool whose free pipes count.
func setFDLimit(limit int64, p *pipes.Pool) {
	fdAcct.limit.Store(max(limit, 0))
	fdAcct.pipes.Store(p)
}

// used returns the descriptors accounted now.
func (a *fdAccount) used() int64 {
	n := a.held.Load() + activeConns.Load() + upstream.IdleConns()
	if p := a.pipes.Load(); p != nil {
		n += 2 * int64(p.Free())
	}
	return n
}

// full reports whether n more descriptors would pass the limit.
func (a *fdAccount) full(n int64) bool {
	lim := a.limit.Load()
	return lim > 0 && a.used()+n > lim
}

// take charges n descriptors when they fit and reports whether they did.
// The charge is made first and undone on refusal, so concurrent takers
// never pass the limit together. Pair every true with release(n).
func (a *fdAccount) take(n int64) bool {
	a.held.Add(n)
	if lim := a.limit.Load(); lim > 0 && a.used() > lim {
		a.held.Add(-n)
		return false
	}
	return true
}

// release returns n descriptors charged by take.
func (a *fdAccount) release(n int64) {
	if n != 0 {
		a.held.Add(-n)
	}
}

// fdCharge is what a request admitted to the backend may open (see
// fdAccount): detach is whether its body may leave the loop.
func (s *Server) fdCharge(rt *Route, req *httpparse.Request, ar *authResult, bodyLen int64) int64 {
	if ar.autoMP {
		return int64(rt.Upload.concurrent()) + 2
	}
	n := int64(1)
	if req.Chunked || bodyLen >= s.tun().SpliceThreshold {
		n += 2
		if s.cfg.ZeroCopy && !ar.streaming {
			n += 2
		}
	}
	if ar.spool {
		n++
	}
	return n
}

// admitFDs charges the current request of st its descriptors, on the loop,
// and reports whether they fit. A head looked at again (its small body
// arriving, a parked decision) is not charged twice. The charge moves to
// the request's exchange (handFDs) or is released when the request ends
// without one (releaseFDs).
func (s *Server) admitFDs(st *connState, rt *Route, req *httpparse.Request, ar *authResult, bodyLen int64) bool {
	if st.fds > 0 {
		return true
	}
	n := s.fdCharge(rt, req, ar, bodyLen)
	if !fdAcct.take(n) {
		refusedFDs.Inc()
		return false
	}
	st.fds = n
	return true
}

// handFDs moves the current request's charge from st to ex, which releases
// it in putExchange.
func (st *connState) handFDs(ex *exchange) {
	ex.fds, st.fds = st.fds, 0
}

// releaseFDs releases the charge of a request that ends on the loop.
func (st *connState) releaseFDs() {
	fdAcct.release(st.fds)
	st.fds = 0
}
