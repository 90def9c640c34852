package engine

import (
	"context"
	"errors"
	"net"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// The in-loop relay. A request whose head and body are all in gnet's
// buffer (the common small upload) is relayed without leaving its event
// loop: the upstream head is signed on the loop, written with one writev
// to a backend connection registered on the same loop (a link), and the
// backend's reply is parsed and answered from that link's OnTraffic. No
// goroutine, no cross-thread wake-up, no blocking read: the per-request
// cost is the handful of syscalls a proxy like nginx makes.
//
// Links are dialed off the loop (DNS and connect can wait) and enrolled on
// the loop that asked for them; until one is idle there, the request takes
// the worker path (relayBuffered), which is also the fallback whenever the
// loop cannot finish a request itself: TLS backends, credentials that need
// a refresh, a body that fails to decode (the worker reports it), and a
// reused link that the backend closed before answering (retried once).
//
// Everything here runs on the loop, so none of it is locked.

const (
	// maxLinks bounds one loop's links to one endpoint; beyond it requests
	// take the worker path and its shared pool.
	maxLinks = 256
	// maxLinkDials bounds the dials in flight for one loop and endpoint.
	maxLinkDials = 4
	// maxLoopDecode bounds an aws-chunked body decoded on the loop (every
	// chunk is hashed); larger ones are decoded by a worker.
	maxLoopDecode = 64 << 10
)

var errLinkClosed = errors.New("engine: backend closed the connection before answering")
var errLinkTimeout = errors.New("engine: backend did not answer in time")

// loopLinks is one event loop's links, by endpoint.
type loopLinks struct {
	s     *Server
	loop  gnet.EventLoop
	pools map[*upstream.Endpoint]*linkPool
	all   map[*link]struct{}
	b     *upstream.Builder // the loop's upstream head builder (loopscratch.go)
}

// linkPool is one loop's links to one endpoint.
type linkPool struct {
	idle    []*link // LIFO: the most recently used is reused first
	open    int     // links open or being dialed
	dialing int
}

// link is a backend connection registered on an event loop.
type link struct {
	ll       *loopLinks
	ep       *upstream.Endpoint
	gc       gnet.Conn
	ex       *exchange // in flight; nil when idle
	used     bool      // it served an earlier request
	timedOut bool
	idleAt   int64 // Unix ns
	deadline int64 // Unix ns, while ex is in flight
	rbuf     []byte
	body     []byte
	te       httpparse.Chunked
}

// linkDial is the gnet context of a link being enrolled.
type linkDial struct {
	ll *loopLinks
	ep *upstream.Endpoint
}

// loopLinksFor returns the links of loop, creating them on first use.
func (s *Server) loopLinksFor(loop gnet.EventLoop) *loopLinks {
	if v, ok := s.links.Load(loop); ok {
		return v.(*loopLinks)
	}
	ll := &loopLinks{s: s, loop: loop, pools: make(map[*upstream.Endpoint]*linkPool), all: make(map[*link]struct{})}
	v, _ := s.links.LoadOrStore(loop, ll)
	return v.(*loopLinks)
}

// relayInLoop starts ex on an idle link of the client's loop and reports
// whether it did; false leaves ex untouched for the worker path. The
// caller has counted ex in workers and inflight; whoever completes it
// (linkTraffic, linkClosed, or the worker it is handed to) uncounts it.
func (s *Server) relayInLoop(st *connState, ex *exchange) bool {
	ep := ex.route.Endpoint
	if s.cfg.NoLoopRelay || ep.TLS != nil || st.ll == nil ||
		ex.streaming && len(ex.buf)-ex.headLen > maxLoopDecode {
		return false
	}
	ll := st.ll
	now := nowNanos()
	l := ll.take(ep, now)
	if l == nil {
		return false
	}
	ex.onLoop = true
	err := ex.prepare(context.Background())
	ex.onLoop = false
	var body []byte
	if err == nil {
		body, err = ex.bufferedBody()
	}
	if err != nil {
		// Credentials to refresh, or a request the worker will refuse
		// with the right error: it redoes the work off the loop.
		ll.putIdle(l, now)
		return false
	}
	ex.iov = append(ex.iov[:0], ex.head, body)
	l.ex, ex.link = ex, l
	l.rbuf = l.rbuf[:0]
	l.deadline = now + int64(s.tun().UpstreamTimeout)
	ex.upStart = ex.sinceStart()
	bytesCopied.Add(len(body))
	relayLoop.Inc()
	ex.acc.inLoop = true
	// A failed write closes the link at once, and linkClosed retries or
	// fails the exchange: either way it is handled.
	_, _ = l.gc.Writev(ex.iov)
	return true
}

// take pops an idle link to ep, closing those idle too long, and starts a
// dial when none is left.
func (ll *loopLinks) take(ep *upstream.Endpoint, now int64) *link {
	p := ll.pool(ep)
	idleTimeout := int64(ep.Pool.IdleTimeout())
	for n := len(p.idle); n > 0; n = len(p.idle) {
		l := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		ep.Links.Add(0, -1)
		if now-l.idleAt < idleTimeout {
			return l
		}
		_ = ll.loop.Close(l.gc) // OnClose (linkClosed) runs now
	}
	if p.open < maxLinks && p.dialing < maxLinkDials && fdAcct.take(1) {
		ll.dial(ep, p) // the charge is released in dialFailed or linkClosed
	}
	return nil
}

// pool returns the links to ep, creating the pool on first use. Empty
// pools are dropped by the sweep (Run).
func (ll *loopLinks) pool(ep *upstream.Endpoint) *linkPool {
	p := ll.pools[ep]
	if p == nil {
		p = &linkPool{}
		ll.pools[ep] = p
	}
	return p
}

// putIdle returns an idle link to its pool.
func (ll *loopLinks) putIdle(l *link, now int64) {
	l.idleAt = now
	p := ll.pool(l.ep)
	p.idle = append(p.idle, l)
	l.ep.Links.Add(0, 1)
}

// dial connects a new link off the loop and enrolls it on the loop, where
// linkOpened pools it.
func (ll *loopLinks) dial(ep *upstream.Endpoint, p *linkPool) {
	p.open++
	p.dialing++
	linkDials.Inc()
	go func() {
		d := net.Dialer{Timeout: ep.Pool.DialTimeout(), KeepAlive: -1}
		nc, err := d.Dial("tcp", ep.Addr)
		if tc, ok := nc.(*net.TCPConn); ok && err == nil {
			// As upstream.Pool: a link dropped by the process's exit
			// resets, so the backend never commits a truncated body.
			_ = tc.SetLinger(0)
		}
		if err == nil {
			var ch <-chan gnet.RegisteredResult
			ch, err = ll.loop.Enroll(gnet.NewContext(context.Background(), linkDial{ll, ep}), nc)
			if err != nil {
				nc.Close()
			} else if res := <-ch; res.Err != nil {
				err = res.Err
			}
		}
		if err != nil {
			linkDialFailures.Inc()
			_ = ll.loop.Execute(context.Background(), dialFailed{ll, ep})
		}
	}()
}

// dialFailed runs on the loop after a failed dial.
type dialFailed struct {
	ll *loopLinks
	ep *upstream.Endpoint
}

func (d dialFailed) Run(context.Context) error {
	p := d.ll.pool(d.ep)
	p.open--
	p.dialing--
	fdAcct.release(1)
	return nil
}

// linkOpened pools a freshly enrolled link.
func (s *Server) linkOpened(c gnet.Conn, d linkDial) {
	d.ll.pool(d.ep).dialing--
	l := &link{ll: d.ll, ep: d.ep, gc: c}
	c.SetContext(l)
	d.ll.all[l] = struct{}{}
	d.ep.Links.Add(1, 0)
	d.ll.putIdle(l, nowNanos())
}

// linkTraffic reads a backend reply on the loop and answers the client.
func (s *Server) linkTraffic(c gnet.Conn, l *link) gnet.Action {
	buf, _ := c.Next(-1)
	ex := l.ex
	if ex == nil {
		return gnet.Close // bytes on an idle link: the backend is confused
	}
	l.rbuf = append(l.rbuf, buf...)
	n, body, err := upstream.ParseResponse(l.rbuf, &ex.resp, ex.op == opHeadObject, false, &l.te, l.body[:0])
	l.body = body
	if errors.Is(err, httpparse.ErrNeedMore) {
		return gnet.None
	}
	l.ex, ex.link = nil, nil
	if err != nil {
		s.linkFail(ex, err)
		return gnet.Close
	}
	keep := !ex.resp.Close && n == len(l.rbuf)
	s.linkDone(ex, body)
	if !keep {
		return gnet.Close
	}
	l.used = true
	l.ll.putIdle(l, nowNanos())
	return gnet.None
}

// linkClosed runs when a link closes: by the backend, by a timeout or
// after an unusable reply. An exchange still on it is answered, retried
// once by a worker (a reused link closed before any reply), or failed.
func (s *Server) linkClosed(l *link) {
	ll := l.ll
	delete(ll.all, l)
	fdAcct.release(1)
	l.ep.Links.Add(-1, 0)
	if p := ll.pools[l.ep]; p != nil {
		p.open--
		for i, x := range p.idle {
			if x == l {
				l.ep.Links.Add(0, -1)
				p.idle = append(p.idle[:i], p.idle[i+1:]...)
				break
			}
		}
	}
	ex := l.ex
	if ex == nil {
		return
	}
	l.ex, ex.link = nil, nil
	switch {
	case l.timedOut:
		s.linkFail(ex, errLinkTimeout)
	case len(l.rbuf) > 0:
		// A reply delimited by the close, or a truncated one.
		_, body, err := upstream.ParseResponse(l.rbuf, &ex.resp, ex.op == opHeadObject, true, &l.te, l.body[:0])
		if err != nil {
			s.linkFail(ex, err)
			return
		}
		s.linkDone(ex, body)
	case l.used && !ex.retried:
		// The backend closed an idle keep-alive connection as the request
		// went out: retry once on a worker, as the worker path does.
		ex.retried = true
		relayRetried.Inc()
		go ex.relayBuffered()
	case ex.canRetry() && ex.replayable():
		// Reset or closed before any reply: nothing can have been stored,
		// and the body is in memory. A worker waits and retries (retry.go).
		go ex.retryBuffered()
	default:
		s.linkFail(ex, errLinkClosed)
	}
}

// linkDone answers the client from the backend's reply, or hands a 503
// to a worker that retries it (retry.go).
func (s *Server) linkDone(ex *exchange, body []byte) {
	d := ex.observeLinkDone()
	if retryableStatus(ex.resp.Status) && ex.canRetry() {
		s.log.Warn("backend asked for a retry", "id", string(ex.id), "route", ex.route.Name, "status", ex.resp.Status)
		go ex.retryBuffered()
		return
	}
	ex.doneIn = d
	ex.finish(ex.mapResponse(body))
	s.completeOnLoop(ex)
}

// linkFail answers the client with an error for a failed backend exchange.
func (s *Server) linkFail(ex *exchange, err error) {
	upstreamErrors.Inc()
	ex.finish(ex.failUpstream("backend exchange failed", err))
	s.completeOnLoop(ex)
}

// completeOnLoop writes ex.out to the client and ends the exchange, on the
// client's loop (it is the link's loop too).
func (s *Server) completeOnLoop(ex *exchange) {
	st := ex.st
	c := st.gc
	k := ex.kind // ex goes back to its pool in onWritten
	var err error
	if !st.closed {
		_, err = c.Write(ex.out)
	}
	_ = ex.onWritten(c, err)
	inflight.Add(-1)
	k.done()
	s.workers.Done()
}

// Run sweeps the links on their loop (see Server.sweep): a link whose
// exchange is overdue is closed (failing it), and idle links past the
// endpoint's idle timeout are closed.
func (ll *loopLinks) Run(context.Context) error {
	now := nowNanos()
	for l := range ll.all {
		switch {
		case l.ex != nil && now > l.deadline:
			l.timedOut = true
			_ = ll.loop.Close(l.gc)
		case l.ex == nil && now-l.idleAt > int64(l.ep.Pool.IdleTimeout()):
			_ = ll.loop.Close(l.gc)
		}
	}
	for ep, p := range ll.pools {
		if p.open == 0 && p.dialing == 0 {
			delete(ll.pools, ep) // an endpoint gone with a reload
		}
	}
	return nil
}

// sweepLinks asks every loop to sweep its links.
func (s *Server) sweepLinks() {
	s.links.Range(func(_, v any) bool {
		ll := v.(*loopLinks)
		_ = ll.loop.Execute(context.Background(), ll)
		return true
	})
}
