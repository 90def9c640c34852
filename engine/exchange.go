package engine

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/engine/limits"
	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/authz"
	"github.com/mizuchi-gw/mizuchi/sigv4"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// exchange is one request relayed by a worker goroutine: the head (and body
// or its first bytes) copied out of gnet, the upstream head, the reply.
type exchange struct {
	s     *Server
	st    *connState
	route *Route
	op    op
	close bool // the client asked to close after this request

	buf       []byte // client head + body bytes read so far (owned)
	headLen   int
	keyLen    int // length of the raw key, a suffix of the request path
	expect100 bool
	loop      gnet.EventLoop

	fds int64 // descriptors charged to this request (fdaccount.go)

	req httpparse.Request // parsed over buf
	key []byte            // the client's decoded key
	// rebased: req already holds the loop's parse, moved onto buf
	// (httpparse.Request.Rebase); the next parseHead takes it.
	rebased bool
	// keyCopied: key already holds the loop's decode (setBind); the next
	// parseHead takes it.
	keyCopied bool

	// upload binding, from the loop (binding.go)
	hasStored bool   // the route has a key template: stored is the upstream key
	stored    []byte // the stored key (without the endpoint's KeyPrefix)
	upID      []byte // the backend's upload id of a sealed one; empty: none
	tok       []byte // the sealed upload id of the reply
	query     []byte // upstream query
	xml       []byte // rewritten XML reply
	loc       []byte // Location in XML replies
	cors      []byte // CORS header lines, copied from the loop
	id        []byte
	head      []byte // upstream head
	out       []byte // client response
	resp      httpparse.Response
	start     time.Time
	client    netip.Addr // the request's client address (clientaddr.go)

	written gnet.AsyncCallback // ex.onWritten, bound once
	iov     net.Buffers

	// in-loop relay (uplink.go)
	onLoop  bool  // prepare uses cached credentials only: it runs on the loop
	link    *link // the upstream link carrying this exchange, while in flight
	retried bool  // the in-loop attempt failed on a reused link; retried by a worker
	upStart time.Time
	retry   retrier // upstream retries of a buffered body (retry.go)
	errHdrs []byte  // extra header lines of an error reply (retry.go)

	kind uploadKind // the in-flight gauge this exchange counts in (inflight.go)

	doneIn time.Duration // the request's duration, measured by linkDone (loopclock.go)

	// authorization outcome and reason, for the access log ("" = none)
	authzOutcome, authzReason string
	// a decision deferred to the worker of a detached socket (authorize.go)
	authzIn   *policy.Input
	authzJSON []byte

	tr *reqTrace // the request's trace, from the loop (trace.go); nil with tracing off

	// authentication
	ident      identity
	streaming  bool // aws-chunked body with chunk signatures: decoded here
	unverified bool // ... whose signatures cannot be checked (anonymous route)
	unsigned   bool // ... STREAMING-UNSIGNED-PAYLOAD-TRAILER in a chunked body
	teChunked  bool // Transfer-Encoding: chunked (length unknown until the end)
	rechunk    bool // decoded payload re-framed with its checksum trailer (rechunk.go)
	rc         rechunker
	rcBuf      []byte
	autoMP     bool // a PutObject uploaded as a multipart upload (automp.go)
	te         httpparse.Chunked
	teBuf      []byte
	trailer    bool           // ... with a signed trailer
	verified   sigv4.Verified // seed signature, signing key, date, scope (views unused)
	decodedLen int64          // x-amz-decoded-content-length
	dec        sigv4.ChunkDecoder
	decBuf     []byte // decoded payload scratch
	ckName     []byte // lower-case x-amz-trailer checksum name

	acc exchangeAccess // for the access log and the error format (accesslog.go)
	// limits (limits.go, rateconn.go)
	slot  limits.Slot // the in-flight upload place, released with the exchange
	rateC rateConn    // the detached socket held to the minimum body rate

	spool    bool  // a chunked UploadPart spooled to disk first (spool.go)
	spoolLen int64 // ... its length, once spooled
}

// setAuth records what authentication found, on the loop. The Verified
// views into gnet's buffer are not used after the copy; only its arrays
// (key, date, seed, scope) are.
func (ex *exchange) setAuth(ar *authResult, sc *loopScratch, decodedLen int64) {
	ex.cors = append(ex.cors[:0], sc.cors...)
	ex.setAccess(sc)
	ex.ident = ar.id
	ex.teChunked = sc.req.Chunked
	ex.autoMP = ar.autoMP
	ex.spool = ar.spool
	ex.streaming, ex.trailer, ex.unverified, ex.unsigned = ar.streaming, ar.trailer, ar.unverified, ar.unsigned
	ex.decodedLen = decodedLen
	if ar.streaming && !ar.unverified && !ar.unsigned {
		ex.verified = sc.verified
	}
	// Counted here, once per request: the decoder may be initialized twice
	// (an in-loop attempt that falls back to a worker).
	switch {
	case !ar.streaming:
	case ar.unsigned:
		chunkedUnsigned.Inc()
	case ar.unverified:
		chunkedUnverified.Inc()
	default:
		chunkedBodies.Inc()
	}
}

// setAuthz records the authorization decision (nil: the route has none).
func (ex *exchange) setAuthz(r *authz.Result) {
	ex.authzOutcome, ex.authzReason = "", ""
	if r != nil {
		ex.authzOutcome, ex.authzReason = r.Outcome(), r.Reason
	}
}

func (s *Server) newExchange(st *connState, rt *Route, o op, closeConn bool) *exchange {
	ex := s.exchanges.Get().(*exchange)
	ex.st, ex.route, ex.op, ex.close = st, rt, o, closeConn
	ex.expect100, ex.loop = false, nil
	ex.onLoop, ex.link, ex.retried = false, nil, false
	ex.tr, st.tr = st.tr, nil
	ex.retry = retrier{}
	ex.doneIn = 0
	ex.start = time.Now()
	ex.client = st.clientAddr()
	ex.id = appendRequestID(ex.id[:0])
	return ex
}

func (s *Server) putExchange(ex *exchange) {
	if cap(ex.buf) > 1<<20 {
		ex.buf = nil
	}
	if cap(ex.decBuf) > 1<<20 {
		ex.decBuf = nil
	}
	if cap(ex.rcBuf) > 1<<20 {
		ex.rcBuf = nil
	}
	ex.traceDrop()
	ex.st, ex.route, ex.loop = nil, nil, nil
	ex.hasStored = false
	ex.rebased = false
	ex.keyCopied = false
	ex.upID = ex.upID[:0]
	ex.iov = ex.iov[:0]
	ex.ident = identity{}
	ex.slot.Release()
	fdAcct.release(ex.fds)
	ex.fds = 0
	ex.rateC = rateConn{}
	ex.authzIn, ex.authzJSON = nil, nil
	ex.streaming, ex.trailer, ex.unverified, ex.unsigned, ex.teChunked, ex.autoMP, ex.rechunk = false, false, false, false, false, false, false
	ex.spool, ex.spoolLen = false, 0
	s.exchanges.Put(ex)
}

// parseHead parses the copied head into ex.req and decodes the key.
func (ex *exchange) parseHead() error {
	ex.req.MaxHeadSize = ex.headLen // accepted on the loop; a reload since must not refuse it
	if ex.rebased {
		ex.rebased = false
	} else if _, err := ex.req.Parse(ex.buf[:ex.headLen]); err != nil {
		return err // cannot happen: the loop parsed the same bytes
	}
	if ex.keyCopied {
		ex.keyCopied = false
		return nil
	}
	// The raw key is always a suffix of the path (see Router.Match); the
	// route was fixed on the loop, so a reload cannot move this request.
	rawKey := ex.req.Path[len(ex.req.Path)-ex.keyLen:]
	var err error
	ex.key, err = httpparse.AppendUnescape(ex.key[:0], rawKey)
	return err
}

// prepare parses the copied head and builds the signed upstream head.
func (ex *exchange) prepare(ctx context.Context) error {
	err := ex.parseHead()
	if err != nil {
		return err
	}
	ex.query = appendUpstreamQuery(ex.query[:0], ex.req.Query, ex.upID)
	ur := upstream.Request{
		Method:        ex.req.Method,
		Key:           ex.upstreamKey(),
		Query:         ex.query,
		ContentLength: ex.req.ContentLength,
		PayloadHash:   ex.req.Header("x-amz-content-sha256"),
		Headers:       ex.req.Headers,
		Unsigned:      ex.tr.upstream(ex.route.Endpoint.Host, ex.req.Method),
	}
	switch {
	case ex.op == opCreateMultipart:
		ur.ContentLength = 0
	case !ex.op.hasBody():
		ur.ContentLength = -1
	case ex.spool:
		ur.ContentLength = ex.spoolLen
	}
	if ex.streaming {
		if err := ex.initDecoder(); err != nil {
			return err
		}
		ur.ContentLength, ur.PayloadHash, ur.Decoded = ex.decodedLen, nil, true
		ex.rechunk = false
		if b64 := checksumB64Len(ex.ckName); ex.trailer && b64 > 0 {
			// Re-framed with the checksum trailer, so the backend verifies
			// and stores it (rechunk.go). The client's aws-chunked headers
			// (content-encoding, decoded length, x-amz-trailer) describe
			// this body too and are forwarded.
			ex.rechunk = true
			ex.rc.reset(ex.decodedLen)
			ur.ContentLength = rechunkedLength(ex.decodedLen, len(ex.ckName), b64)
			ur.PayloadHash, ur.Decoded = streamingUnsignedTrailer, false
		}
	}
	if ex.onLoop {
		// The loop's own builder (loopscratch.go) and the request's one
		// clock read (loopclock.go).
		ex.head, err = ex.st.ll.builder().AppendHeadCached(ex.head[:0], ex.route.Endpoint, &ur, ex.start)
		return err
	}
	b := ex.s.builders.Get().(*upstream.Builder)
	ex.head, err = b.AppendHead(ctx, ex.head[:0], ex.route.Endpoint, &ur, time.Now())
	ex.s.builders.Put(b)
	return err
}

// bufferedBody returns the bytes to send upstream after the head for a
// body that is all in ex.buf: the body itself, or, for aws-chunked, the
// decoded payload (re-framed with its checksum trailer when needed).
func (ex *exchange) bufferedBody() ([]byte, error) {
	body := ex.buf[ex.headLen:]
	if !ex.streaming {
		return body, nil
	}
	body, err := ex.decodeAll(body)
	if err != nil {
		return nil, err
	}
	if ex.rechunk {
		name, value := ex.dec.Checksum()
		ex.rcBuf = ex.rc.finish(ex.rc.frame(ex.rcBuf[:0], body), name, value)
		body = ex.rcBuf
	}
	return body, nil
}

// relayBuffered relays a request whose body is entirely in ex.buf, then
// queues the response on the gnet connection.
func (ex *exchange) relayBuffered() {
	s := ex.s
	defer s.workers.Done()
	defer inflight.Add(-1)
	defer ex.kind.done()
	ctx := context.Background()
	status := ex.exchangeBuffered(ctx)
	ex.finish(status)
	_ = ex.st.gc.AsyncWrite(ex.out, ex.written)
}

// onWritten runs on the loop once the response is written or queued. It is
// bound once per pooled exchange (ex.written) so queuing allocates nothing.
func (ex *exchange) onWritten(c gnet.Conn, err error) error {
	s, st := ex.s, ex.st
	st.busy = false
	st.nextRequest()
	closeConn := ex.close || err != nil
	s.putExchange(ex)
	if st.closed {
		return nil
	}
	if closeConn {
		return c.Close()
	}
	st.setDeadline(s.tun().IdleTimeout)
	if c.InboundBuffered() > 0 {
		return c.Wake(nil)
	}
	return nil
}

// exchangeBuffered does the upstream round trip for a buffered body and
// fills ex.out. It returns the status sent to the client.
func (ex *exchange) exchangeBuffered(ctx context.Context) int {
	if err := ex.prepare(ctx); err != nil {
		return ex.failPrepare(err)
	}
	ep := ex.route.Endpoint
	body, err := ex.bufferedBody()
	if err != nil {
		return ex.failDecode(err)
	}
	for attempt := 0; ; attempt++ {
		up, err := getConn(ctx, ex.route, &ex.retry)
		if err != nil {
			upstreamErrors.Inc()
			ex.retry.done(ex.route, false)
			return ex.fail(errBadGateway, "cannot reach backend", err)
		}
		t0 := time.Now()
		deadline := t0.Add(ex.s.tun().UpstreamTimeout)
		_ = up.SetWriteDeadline(deadline)
		ex.iov = append(ex.iov[:0], ex.head, body)
		iov := ex.iov
		_, err = iov.WriteTo(up)
		var respBody []byte
		if err == nil {
			if ex.op == opHeadObject {
				err = up.ReadResponseHead(&ex.resp, deadline)
			} else {
				respBody, err = up.ReadResponse(&ex.resp, deadline)
			}
		}
		if err != nil {
			up.Close()
			if up.Reused && attempt == 0 && !up.Replied() && !isTimeout(err) {
				continue // the backend closed an idle connection: retry once on a new one
			}
			if retryableErr(err, up.Replied()) && ex.replayable() && ex.retry.again() {
				continue
			}
			upstreamErrors.Inc()
			ex.retry.done(ex.route, false)
			return ex.failUpstream("backend exchange failed", err)
		}
		ex.route.m.observeUpstream(ex.op, t0)
		bytesCopied.Add(len(body))
		if retryableStatus(ex.resp.Status) && ex.canRetry() {
			ex.s.log.Warn("backend asked for a retry", "id", string(ex.id), "route", ex.route.Name, "status", ex.resp.Status)
			closeOrPut(ep.Pool, up, &ex.resp)
			ex.retry.again()
			continue
		}
		status := ex.mapResponse(respBody)
		closeOrPut(ep.Pool, up, &ex.resp)
		ex.retry.done(ex.route, status < 500)
		return status
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fail fills ex.out with an S3 error, logs the cause, and returns the status.
func (ex *exchange) fail(e *s3Error, what string, err error) int {
	ex.s.log.Warn(what, "id", string(ex.id), "route", ex.route.Name, "op", ex.op.String(), "err", err)
	ex.acc.code = e.Code
	ex.out = appendErrorResponseAs(ex.out[:0], ex.acc.json, e.Code, e.Status, e.Message, ex.id, ex.req.Path, ex.close, ex.errHeaders(e.Status), nil)
	return e.Status
}

// failPrepare answers a request whose upstream head could not be built.
func (ex *exchange) failPrepare(err error) int {
	if isDecodeError(err) {
		return ex.failDecode(err)
	}
	if errors.Is(err, upstream.ErrTooManyHeaders) {
		return ex.fail(errTooManyHeaders, "too many forwarded headers", err)
	}
	return ex.fail(errInternal, "cannot build upstream request", err)
}

// mapResponse turns the backend's reply into the client's response in ex.out.
func (ex *exchange) mapResponse(body []byte) int {
	r := &ex.resp
	ex.tr.backendStatus(r.Status)
	if ex.op == opCompleteMultipart && r.Status == 200 && isErrorBody(body) {
		// S3 may fail a completion after answering 200: the error is in
		// the body, and the client must see it there.
		return ex.mapError(body, 200)
	}
	if r.Status >= 200 && r.Status < 300 && ex.op == opHeadObject {
		return ex.mapHead()
	}
	if r.Status >= 200 && r.Status < 300 && ex.op.repliesXML() {
		return ex.mapXML(body)
	}
	if r.Status >= 200 && r.Status < 300 {
		out := appendStatusLine(ex.out[:0], r.Status)
		out = ex.appendCommon(out)
		if r.Status != 204 {
			out = append(out, "Content-Length: 0\r\n"...)
		}
		if ex.streaming && ex.trailer {
			if name, val := ex.dec.Checksum(); len(name) > 0 && len(r.Header(string(name))) == 0 {
				out = append(out, name...)
				out = append(out, ": "...)
				out = append(out, val...)
				out = append(out, "\r\n"...)
			}
		}
		ex.out = append(out, "\r\n"...)
		return r.Status
	}
	return ex.mapError(body, r.Status)
}

// appendCommon appends the headers of every successful reply: request id,
// the backend headers a client may see (ETag, version id, checksums, SSE),
// Date and, when closing, Connection: close.
func (ex *exchange) appendCommon(out []byte) []byte {
	out = append(out, "x-amz-request-id: "...)
	out = append(out, ex.id...)
	out = append(out, "\r\n"...)
	for _, h := range ex.resp.Headers {
		if upstream.Returned(h.Name) {
			out = append(out, h.Name...)
			out = append(out, ": "...)
			out = append(out, h.Value...)
			out = append(out, "\r\n"...)
		}
	}
	out = append(out, ex.cors...)
	out = appendDate(out)
	if ex.close {
		out = append(out, "Connection: close\r\n"...)
	}
	return out
}

// mapError answers a backend error with the same code and status and a
// canonical message.
func (ex *exchange) mapError(body []byte, status int) int {
	code, msg := upstream.ErrorCode(body)
	codeS := string(code)
	if codeS == "" {
		codeS = "InternalError"
		if status < 500 {
			codeS = "InvalidRequest"
		}
		if status == 404 && ex.op == opHeadObject {
			codeS = "NotFound"
		}
	}
	ex.s.log.Warn("backend error", "id", string(ex.id), "route", ex.route.Name, "op", ex.op.String(),
		"status", status, "code", codeS, "backend_message", string(msg),
		"backend_request_id", string(ex.resp.Header("x-amz-request-id")))
	m, ok := backendMessages[codeS]
	if !ok {
		m = "The backend rejected the request with " + codeS + "."
	}
	ex.acc.code = codeS
	ex.out = appendErrorResponseAs(ex.out[:0], ex.acc.json, codeS, status, m, ex.id, ex.req.Path, ex.close, ex.errHeaders(status), nil)
	if ex.op == opHeadObject {
		ex.out = withoutBody(ex.out)
	}
	return status
}

// finish records metrics and the access log line for a completed exchange.
func (ex *exchange) finish(status int) {
	ex.route.m.count(ex.op, status)
	ex.observeDuration()
	ex.traceFinish(status)
	ex.logAccess(status)
}
