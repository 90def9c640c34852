package engine

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/mizuchi-gw/mizuchi/pipes"
)

// spoolBufBytes is what one spooled body holds in memory, reserved from
// the buffer budget (membudget.go).
const spoolBufBytes = 3 * copyBufSize

// pumpSpooled runs a chunked UploadPart on its detached socket: the body
// is decoded into a spool file, then sent to the backend with its length
// (spool.go). It reports whether the connection may be kept alive.
func (ex *exchange) pumpSpooled(tcp clientConn, writeOut func()) (keep bool) {
	s := ex.s
	fail := func(e *s3Error, what string, err error) bool {
		ex.close = true
		ex.finish(ex.fail(e, what, err))
		writeOut()
		return false
	}
	if err := ex.parseHead(); err != nil {
		return fail(errInternal, "cannot parse the head again", err)
	}
	sp := s.spool
	if sp.full() {
		spoolRefusals.Inc()
		return fail(errSpoolFull, "spool budget spent", nil)
	}
	limit := int64(maxPartSize)
	if l := ex.route.bind.partLimit; l > 0 {
		limit = l
	}
	// The copy buffer, the socket read buffer and the decoded bytes.
	if !s.budget.TryAcquire(spoolBufBytes) {
		return fail(errBufferBusy, "buffer budget spent", nil)
	}
	defer s.budget.Release(spoolBufBytes)
	w, err := sp.open(limit)
	if err != nil {
		return fail(errInternal, "cannot open a spool file", err)
	}
	defer w.close()
	spoolBodies.Inc()
	if ex.expect100 {
		_ = tcp.SetWriteDeadline(time.Now().Add(s.tun().BodyTimeout))
		if _, err := tcp.Write(continue100); err != nil {
			clientAborts.Inc()
			ex.finish(499)
			return false
		}
	}
	ex.te.Reset()
	src := &bodySource{ex: ex, tcp: tcp, pre: ex.buf[ex.headLen:], raw: make([]byte, copyBufSize)}
	bufp := s.copyBufs.Get().(*[]byte)
	defer s.copyBufs.Put(bufp)
	if err := w.fill(src, *bufp); err != nil {
		var se *pipes.SideError
		switch {
		case errors.Is(err, errSpoolTooLarge):
			spoolRefusals.Inc()
			e := errEntityTooLarge
			if w.limit == ex.route.bind.partLimit && ex.route.bind.partErr != nil {
				e = ex.route.bind.partErr
			}
			return fail(e, "chunked part above its spool limit", err)
		case errors.Is(err, errSpoolBudget):
			spoolRefusals.Inc()
			return fail(errSpoolFull, "spool budget spent mid-body", err)
		case isDecodeError(err):
			ex.close = true
			ex.finish(ex.failDecode(err))
			writeOut()
			return false
		case errors.As(err, &se) && se.Src && isTimeout(se.Err):
			clientAborts.Inc()
			return fail(errRequestTimeout, "client body stalled", err)
		case errors.As(err, &se) && se.Src:
			clientAborts.Inc()
			ex.close = true
			ex.finish(ex.fail(errIncompleteBody, "client closed mid-body", err))
			return false
		}
		return fail(errInternal, "cannot write the spool file", err)
	}
	ex.spoolLen = w.n
	return ex.sendSpooled(w, *bufp, writeOut)
}

// sendSpooled sends the spooled body with its head to the backend and
// answers the client.
func (ex *exchange) sendSpooled(w *spoolFile, buf []byte, writeOut func()) bool {
	s := ex.s
	ctx := context.Background()
	if err := ex.prepare(ctx); err != nil {
		ex.close = true
		ex.finish(ex.failPrepare(err))
		writeOut()
		return false
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		ex.close = true
		ex.finish(ex.fail(errInternal, "cannot rewind the spool file", err))
		writeOut()
		return false
	}
	up, err := getConn(ctx, ex.route, &ex.retry)
	ex.retry.done(ex.route, err == nil)
	if err != nil {
		upstreamErrors.Inc()
		ex.close = true
		ex.finish(ex.fail(errBadGateway, "cannot reach backend", err))
		writeOut()
		return false
	}
	t0 := time.Now()
	_ = up.SetWriteDeadline(t0.Add(s.tun().BodyTimeout))
	if _, err = up.Write(ex.head); err == nil {
		err = ex.sendFile(up, w, buf)
	}
	if err != nil {
		up.Close()
		upstreamErrors.Inc()
		ex.close = true
		ex.finish(ex.failUpstream("cannot write to backend", err))
		writeOut()
		return false
	}
	return ex.answerFromBackend(up, ex.route.Endpoint, t0, writeOut)
}
