package engine

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/pipes"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// The detached body path: a request whose body leaves the event loop is
// pumped from the client's socket to the backend by a worker goroutine
// (splice, or a copy for TLS), answered directly, and the socket is handed
// back to its loop.

// relayDetached relays a request whose socket left gnet: the body is pumped
// from the socket to the backend (splice, or copy for TLS), the response is
// written directly, and the socket is handed back to its event loop.
func (ex *exchange) relayDetached(fd int) {
	s := ex.s
	defer s.workers.Done()
	defer inflight.Add(-1)
	defer ex.kind.done()
	defer detachedConns.Add(-1)
	owner, kept := ex.st, false
	defer func() {
		if !kept {
			s.connGone(owner) // closed for good: its IP count goes
			if owner.tls != nil {
				tlsConns.Add(-1)
			}
		}
	}()

	f := os.NewFile(uintptr(fd), "client")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		s.log.Warn("cannot adopt detached socket", "err", err)
		activeConns.Add(-1)
		s.putExchange(ex)
		return
	}
	tcp := nc.(clientConn) // *net.TCPConn
	if owner.tls != nil {
		tcp = owner.tls.detach(nc.(*net.TCPConn)) // read through crypto/tls
	}
	keep := ex.pumpDetached(ex.withBodyRate(tcp))
	st := ex.st
	loop := ex.loop
	s.putExchange(ex)
	if !keep || s.stopping.Load() {
		lingerClose(tcp)
		activeConns.Add(-1)
		return
	}
	_ = tcp.SetDeadline(time.Time{})
	sock := socketOf(tcp)
	if st.tls != nil {
		st.tls.attach()
	}
	ch, err := loop.Enroll(gnet.NewContext(context.Background(), reenrolled{st}), sock)
	if err != nil {
		reenrollFail.Inc()
		tcp.Close()
		activeConns.Add(-1)
		return
	}
	if res := <-ch; res.Err != nil {
		reenrollFail.Inc()
		activeConns.Add(-1)
	} else {
		kept = true
	}
	// Enroll duplicated the socket and closed it.
}

// pumpDetached runs the exchange on a detached socket and reports whether
// the connection may be kept alive.
func (ex *exchange) pumpDetached(tcp clientConn) (keep bool) {
	s := ex.s
	ctx := context.Background()
	writeOut := func() {
		_ = tcp.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
		_, _ = tcp.Write(ex.out)
	}
	if !ex.authorizeDetached() {
		writeOut()
		return false
	}
	if ex.autoMP {
		return ex.pumpMultipart(tcp, writeOut)
	}
	if ex.spool {
		return ex.pumpSpooled(tcp, writeOut)
	}
	if err := ex.prepare(ctx); err != nil {
		ex.close = true
		ex.finish(ex.failPrepare(err))
		writeOut()
		return false
	}
	ep := ex.route.Endpoint
	up, err := getConn(ctx, ex.route, &ex.retry)
	ex.retry.done(ex.route, err == nil)
	if err != nil {
		upstreamErrors.Inc()
		ex.close = true
		ex.finish(ex.fail(errBadGateway, "cannot reach backend", err))
		writeOut()
		return false
	}
	bb, ok := ex.takeBodyBuf(tcp, up)
	if !ok {
		ep.Pool.Put(up) // nothing written yet
		ex.close = true
		ex.finish(ex.fail(errBufferBusy, "no pipe and no buffer budget", nil))
		writeOut()
		return false
	}
	defer ex.putBodyBuf(bb)
	t0 := time.Now()
	pre := ex.buf[ex.headLen:]
	remaining := ex.req.ContentLength - int64(len(pre))
	_ = up.SetWriteDeadline(t0.Add(s.tun().BodyTimeout))
	raw := pre
	if ex.streaming {
		raw = nil // decoded below, after 100 Continue
	}
	ex.iov = append(ex.iov[:0], ex.head, raw)
	iov := ex.iov
	if _, err := iov.WriteTo(up); err != nil {
		up.Close()
		upstreamErrors.Inc()
		ex.close = true
		ex.finish(ex.failUpstream("cannot write to backend", err))
		writeOut()
		return false
	}
	bytesCopied.Add(len(raw))
	if ex.expect100 {
		_ = tcp.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
		if _, err := tcp.Write(continue100); err != nil {
			up.Abort()
			clientAborts.Inc()
			ex.finish(499)
			return false
		}
	}

	var err2 error
	if ex.streaming {
		err2 = ex.pumpDecoded(tcp, up, pre, remaining, bb.bufp)
	} else {
		err2 = ex.pumpBody(tcp, up, remaining, bb)
	}
	if err := err2; err != nil {
		if isDecodeError(err) {
			// A chunk failed verification: reset the backend request (the
			// last byte was held back, so it cannot complete) and answer.
			up.Abort()
			ex.close = true
			ex.finish(ex.failDecode(err))
			writeOut()
			return false
		}
		var se *pipes.SideError
		if errors.As(err, &se) && se.Src {
			// The client went away or stalled: abort the upstream request
			// with a reset mid-body, so no object is created.
			up.Abort()
			clientAborts.Inc()
			ex.close = true
			if isTimeout(se.Err) {
				ex.finish(ex.fail(errRequestTimeout, "client body stalled", se.Err))
				writeOut()
			} else {
				ex.finish(ex.fail(errIncompleteBody, "client closed mid-body", se.Err))
			}
			return false
		}
		// The backend failed mid-body. It may have answered before closing.
		upstreamErrors.Inc()
		ex.close = true
		if respBody, rerr := up.ReadResponse(&ex.resp, time.Now().Add(2*time.Second)); rerr == nil && ex.resp.Status >= 300 {
			ex.finish(ex.mapResponse(respBody))
		} else {
			ex.finish(ex.failUpstream("backend failed mid-body", err))
		}
		up.Close()
		writeOut()
		return false
	}
	return ex.answerFromBackend(up, ep, t0, writeOut)
}

// answerFromBackend reads the backend's reply to a request whose body was
// sent, answers the client (writeOut) and gives the backend connection
// back to ep's pool when it may be reused. It reports whether the client
// connection may be kept alive.
func (ex *exchange) answerFromBackend(up *upstream.Conn, ep *upstream.Endpoint, t0 time.Time, writeOut func()) bool {
	respBody, err := up.ReadResponse(&ex.resp, time.Now().Add(ex.s.tun().UpstreamTimeout))
	if err != nil {
		up.Close()
		upstreamErrors.Inc()
		ex.close = true
		ex.finish(ex.failUpstream("backend response failed", err))
		writeOut()
		return false
	}
	ex.route.m.observeUpstream(ex.op, t0)
	ex.finish(ex.mapResponse(respBody))
	if ex.resp.Close {
		up.Close()
	} else {
		ep.Pool.Put(up)
	}
	writeOut()
	return !ex.close
}

// pumpChunk bounds one pump call so the stall deadlines are refreshed as the
// body makes progress: a client slower than pumpChunk per BodyTimeout fails.
const pumpChunk = 4 << 20

// pumpBody moves n body bytes from the client to the backend through bb
// (takeBodyBuf): splice when it holds a pipe, else a user-space copy.
func (ex *exchange) pumpBody(tcp clientConn, up *upstream.Conn, n int64, bb bodyBuf) error {
	s := ex.s
	pp, bufp := bb.pp, bb.bufp
	var src, dst = bb.src, up.Raw
	if pp != nil {
		ex.acc.spliced = true
	}
	for n > 0 {
		chunk := min(n, pumpChunk)
		d := time.Now().Add(s.tun().BodyTimeout)
		_ = tcp.SetReadDeadline(d)
		// The backend's write deadline is a little later: a byte read
		// just before d is still written, so a stalled client is reported
		// as the client's timeout (400), never as the backend's (504).
		_ = up.SetWriteDeadline(d.Add(time.Second))
		var m int64
		var err error
		if pp != nil {
			t0 := time.Now()
			m, err = pipes.Splice(dst, src, pp, chunk)
			bytesSpliced.Add(int(m))
			err = ex.spliced(tcp, t0, m, err)
		} else {
			// Full buffers: a TLS client's reads return one record each.
			m, err = pipes.CopyFull(up, tcp, chunk, *bufp)
			bytesCopied.Add(int(m))
		}
		n -= m
		if err != nil {
			return err
		}
	}
	return nil
}

func tcpRaw(c clientConn) syscall.RawConn {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// lingerTime bounds how long a connection closed with unread body bytes is
// drained, so the client finishes sending and reads the error response
// instead of meeting a reset (nginx's lingering_close does the same).
const lingerTime = 2 * time.Second

// lingerClose half-closes tcp, discards what the client still sends for up
// to lingerTime, then closes. It runs on the worker goroutine.
func lingerClose(tcp clientConn) {
	_ = tcp.CloseWrite()
	_ = tcp.SetReadDeadline(time.Now().Add(lingerTime))
	var buf [32 << 10]byte
	for {
		if _, err := tcp.Read(buf[:]); err != nil {
			break
		}
	}
	tcp.Close()
}
