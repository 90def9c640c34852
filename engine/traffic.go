package engine

import (
	"bytes"
	"errors"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy/authz"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// loopScratch is the parser and key scratch used while handling one event.
// It is pooled, not per connection, so idle connections cost no parser.
type loopScratch struct {
	req httpparse.Request
	key []byte // the client's decoded key
	id  []byte
	out []byte

	// upload binding (binding.go)
	stored    []byte // the stored key: key, or storedBuf with a key template
	storedBuf []byte
	altBuf    []byte // the stored key of an earlier day ({date} templates)
	upTok     []byte // the client's sealed upload id, decoded
	upIDBuf   []byte // uploadid.Open scratch
	upID      []byte // the backend's upload id (in upIDBuf); empty: none

	cors []byte // CORS header lines for this request's origin, or empty
	hdrs []byte // extra header lines of a refusal

	// authentication scratch
	verifier *sigv4.Verifier
	verified sigv4.Verified
	sigHdrs  []sigv4.Header
	tok      []byte

	role string // the STS role of the request being handled, for the access log of a refusal

	authzJSON    []byte // the decision input's JSON (authorize.go)
	authzOutcome string // a refusal's authorization outcome, for the access log
	authzReason  string

	acc accessScratch // for the access log and the error format (accesslog.go)
}

var continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// OnTraffic implements gnet.EventHandler. It runs on the event loop and
// never blocks: it parses the head in gnet's buffer, answers what it can
// refuse at once, and hands an accepted request to a worker goroutine.
//
// Invariant: a connection has at most one request in flight (busy); bytes
// of the next request stay in gnet's buffer until the response is queued.
// The views in sc.req point into gnet's buffer and are dead once this
// function returns: everything a worker needs is copied first.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	var st *connState
	switch x := c.Context().(type) {
	case *connState:
		st = x
	case *link:
		return s.linkTraffic(c, x)
	default:
		return gnet.Close
	}
	tn := s.tun()
	if st.tls != nil {
		// Decrypt what gnet read; the engine reads the plaintext.
		if err := st.tls.pull(c, tn.maxBuffered); err != nil {
			return gnet.Close
		}
		c = st.tls
	}
	if st.busy || st.authWait.Load() {
		if c.InboundBuffered() > tn.maxBuffered {
			return gnet.Close
		}
		return gnet.None
	}
	buf, _ := c.Peek(-1)
	if len(buf) == 0 {
		return gnet.None
	}
	if !st.headStarted {
		st.headStarted = true
		st.setDeadline(tn.HeaderTimeout)
	}
	if st.proxyWait {
		var act gnet.Action
		var ok bool
		if buf, act, ok = s.proxyHeader(c, st, buf); !ok {
			return act
		}
	}
	sc := s.scratch.Get().(*loopScratch)
	act := s.onHead(c, st, sc, tn, buf) // not deferred: see loopscratch.go
	s.scratch.Put(sc)
	return act
}

// onHead handles the head in buf (OnTraffic) with the scratch sc.
func (s *Server) onHead(c gnet.Conn, st *connState, sc *loopScratch, tn *Tunables, buf []byte) gnet.Action {
	sc.role = ""
	req := &sc.req
	req.MaxHeadSize = tn.MaxHeadSize
	n, err := req.Parse(buf) // Parse resets req
	if err != nil {
		if errors.Is(err, httpparse.ErrNeedMore) {
			return gnet.None
		}
		return s.refuseHead(c, sc, err)
	}
	s.forwardedFor(st, req)
	s.noteRequest(sc)

	router := s.router.Load()
	if router.STS != nil && router.isSTSCall(req) {
		return s.serveSTS(c, st, sc, n, router.STS)
	}
	rt, rawKey, found := router.Match(req.Host, req.Path)
	sc.cors = sc.cors[:0]
	if !found {
		return s.refuse(c, st, sc, n, noRoute, opUnknown, errNoSuchBucket)
	}
	if !router.MatchesDecoded(req.Host, req.Path, rt) {
		// The signature covers the decoded path, which names another route.
		return s.refuse(c, st, sc, n, rt.m, opUnknown, errRouteAmbiguous)
	}
	if string(req.Method) == "OPTIONS" {
		return s.preflight(c, st, sc, n, rt)
	}
	if rt.CORS != nil {
		sc.cors = rt.CORS.appendHeaders(sc.cors, req.Header("origin"))
	}
	var authParams []string
	if rt.Auth != nil {
		authParams = rt.Auth.QueryParams
	}
	o, e := classify(req, rawKey, authParams, rt.AllowHead)
	if e != nil {
		return s.refuse(c, st, sc, n, rt.m, o, e)
	}
	s.traceBegin(st, req, rt, o)
	if s.stopping.Load() {
		return s.refuse(c, st, sc, n, rt.m, o, errSlowDown)
	}
	var ar authResult
	switch {
	case rt.Auth != nil && st.authed && st.authFor == rt.Auth:
		ar = st.authRes // this head, authenticated on an earlier read event
	case rt.Auth != nil:
		// Authenticate from the head alone, before any body byte moves and
		// before 100 Continue.
		st.tr.authBegin()
		ar = s.authenticate(st, sc, rt.Auth, req)
		st.tr.authEnd(&ar)
		if ar.pending {
			return gnet.None
		}
		if ar.fail != nil {
			return s.refuseAuth(c, st, sc, n, rt, o, ar.fail)
		}
	}
	sc.role = ar.id.role
	sc.acc.id = ar.id
	bodyLen := req.ContentLength
	switch {
	case !o.hasBody():
		if req.Chunked || req.ContentLength > 0 {
			return s.refuse(c, st, sc, n, rt.m, o, errUnexpectedBody)
		}
		bodyLen = 0
	case req.ContentLength < 0 && !req.Chunked:
		return s.refuse(c, st, sc, n, rt.m, o, errMissingLength)
	case o == opPutObject && req.ContentLength > maxMultipartObject:
		return s.refuse(c, st, sc, n, rt.m, o, errEntityTooLarge)
	case o != opPutObject && req.ContentLength > tn.MaxObjectSize:
		return s.refuse(c, st, sc, n, rt.m, o, errEntityTooLarge)
	}
	decodedLen := int64(-1)
	if o.hasBody() {
		var e *s3Error
		if decodedLen, e = s.bodyMode(rt, o, req, &ar); e != nil {
			return s.refuse(c, st, sc, n, rt.m, o, e)
		}
	}
	if ar.autoMP {
		bodyLen = tn.SpliceThreshold // always detached
	}
	if retry := s.admitRequest(st, o, &ar); retry > 0 {
		return s.refuseLimit(c, st, sc, n, rt.m, o, retry)
	}
	if !s.admitFDs(st, rt, req, &ar, bodyLen) {
		return s.refuseLimit(c, st, sc, n, rt.m, o, 1)
	}
	// Key, stored key, sealed upload id and limits: before authorization,
	// 100 Continue, any body byte and any backend connection.
	if rt.Authz != nil || len(rt.Upload.AllowedContentTypes) > 0 {
		// What policies and content-type limits judge must be one value.
		if e := checkPolicyHeaders(req); e != nil {
			return s.refuse(c, st, sc, n, rt.m, o, e)
		}
	}
	if f := s.bind(sc, rt, o, &ar, rawKey, decodedLen); f.e != nil {
		return s.refuseBind(c, st, sc, n, rt, o, f)
	}
	total := int64(n) + bodyLen
	var dec *authz.Result
	var az authzStep
	if rt.Authz != nil {
		detach := req.Chunked || ar.autoMP || (int64(len(buf)) < total && bodyLen >= tn.SpliceThreshold)
		st.tr.authzBegin()
		az = s.authorize(c, st, sc, rt, o, sc.key, &ar, decodedLen, detach)
		st.tr.authzEnd(&az)
		switch {
		case az.pending:
			return gnet.None
		case az.deferred():
		case !az.res.Allow:
			return s.refuseAuthz(c, st, sc, n, rt, o, &az.res)
		default:
			dec = &st.decRes
		}
	}
	if !req.Chunked && !ar.autoMP && int64(len(buf)) >= total {
		// Head and body are here: relay from memory.
		st.clearAuth()
		ex := s.newExchange(st, rt, o, req.Close)
		ex.buf = append(ex.buf[:0], buf[:total]...)
		ex.headLen = n
		ex.rebased = ex.req.Rebase(req, buf, ex.buf) // spares parseHead a second parse
		ex.keyLen = len(rawKey)
		ex.setAuth(&ar, sc, decodedLen)
		ex.setBind(sc)
		ex.setAuthz(dec)
		st.handFDs(ex)
		ex.slot = st.lim.handOff()
		_, _ = c.Discard(int(total))
		st.busy = true
		st.deadline.Store(0)
		s.workers.Add(1)
		inflight.Add(1)
		ex.startInflight()
		if s.relayInLoop(st, ex) {
			return gnet.None
		}
		relayWorker.Inc()
		go ex.relayBuffered()
		return gnet.None
	}
	if !req.Chunked && !ar.autoMP && bodyLen < tn.SpliceThreshold {
		// A small body: wait for it in gnet's buffer (bounded by maxBuffered).
		if req.Expect100 && !st.continued {
			st.continued = true
			_, _ = c.Write(continue100)
		}
		if rt.Auth != nil && !ar.streaming {
			st.authed, st.authFor, st.authRes = true, rt.Auth, ar
		}
		if s.bodyTooSlow(st, int64(len(buf)-n)) {
			return s.refuse(c, st, sc, n, rt.m, o, errRequestTimeout)
		}
		if !st.bodyWait {
			// Once per request: the whole small body must arrive within
			// BodyTimeout, so a byte now and then does not keep it open
			// (the spliced path asks as much of each pumpChunk).
			st.bodyWait = true
			st.setDeadline(tn.BodyTimeout)
		}
		return gnet.None
	}
	// A large body, or a chunked one of unknown length: take the socket
	// out of gnet and pump it from a worker.
	if c.OutboundBuffered() > 0 {
		// A previous response is still queued; detaching now would lose it.
		// The decisions stay: the same head is looked at again in a
		// millisecond (an immediate Wake would spin the loop for as long
		// as the client does not read).
		if st.retryWake.CompareAndSwap(false, true) {
			gc := c
			time.AfterFunc(time.Millisecond, func() {
				st.retryWake.Store(false)
				_ = gc.Wake(nil)
			})
		}
		return gnet.None
	}
	st.clearAuth()
	fd, err := c.Dup()
	if err != nil {
		s.log.Warn("cannot dup client socket", "err", err)
		return s.refuse(c, st, sc, n, rt.m, o, errInternal)
	}
	ex := s.newExchange(st, rt, o, req.Close)
	ex.buf = append(ex.buf[:0], buf...)
	ex.headLen = n
	ex.keyLen = len(rawKey)
	ex.setAuth(&ar, sc, decodedLen)
	ex.setBind(sc)
	ex.setAuthz(dec)
	ex.authzIn, ex.authzJSON = az.in, az.js
	ex.expect100 = req.Expect100 && !st.continued
	ex.loop = c.EventLoop()
	st.handFDs(ex)
	ex.slot = st.lim.handOff()
	st.detaching = true
	st.busy = true
	detachTotal.Inc()
	detachedConns.Add(1)
	s.workers.Add(1)
	inflight.Add(1)
	ex.startInflight()
	go ex.relayDetached(fd)
	return gnet.Close
}

// refuse answers a request with an S3 error from the loop. The connection
// stays open only when the whole body is already buffered (it is discarded);
// otherwise the body is never read and the connection is closed.
func (s *Server) refuse(c gnet.Conn, st *connState, sc *loopScratch, headLen int, m *routeMetrics, o op, e *s3Error) gnet.Action {
	return s.refuseWith(c, st, sc, headLen, m, o, e.Code, e.Status, e.Message, "", nil)
}

// refuseWith is refuse with a custom message, optional extra header lines
// (each "Name: value\r\n") and extra XML elements in the error body.
func (s *Server) refuseWith(c gnet.Conn, st *connState, sc *loopScratch, headLen int, m *routeMetrics, o op, code string, status int, msg, hdrLines string, xml []byte) gnet.Action {
	sc.hdrs = append(sc.hdrs[:0], hdrLines...)
	sc.hdrs = append(sc.hdrs, sc.cors...)
	req := &sc.req
	total := int64(headLen)
	if req.ContentLength > 0 {
		total += req.ContentLength
	}
	keep := !req.Close && !req.Chunked && int64(c.InboundBuffered()) >= total
	sc.id = appendRequestID(sc.id[:0])
	sc.out = appendErrorResponseAs(sc.out[:0], sc.acc.json, code, status, msg, sc.id, req.Path, !keep, sc.hdrs, xml)
	if string(req.Method) == "HEAD" {
		sc.out = withoutBody(sc.out)
	}
	m.count(o, status)
	s.traceRefused(st, req, m, o, status, code)
	s.logLoop(c, sc, m, o, status, code)
	sc.authzOutcome, sc.authzReason = "", ""
	_, _ = c.Write(sc.out)
	if !keep {
		return gnet.Close
	}
	return s.answeredOnLoop(c, st, int(total))
}

// answeredOnLoop finishes a request answered from the loop whose consumed
// bytes (head and any body) are all in gnet's buffer: they are discarded,
// the connection waits for its next request, and pipelined bytes already
// read are looked at.
func (s *Server) answeredOnLoop(c gnet.Conn, st *connState, consumed int) gnet.Action {
	_, _ = c.Discard(consumed)
	st.nextRequest()
	st.setDeadline(s.tun().IdleTimeout)
	if c.InboundBuffered() > 0 {
		_ = c.Wake(nil)
	}
	return gnet.None
}

// refuseHead answers a head that cannot be parsed and closes the connection.
func (s *Server) refuseHead(c gnet.Conn, sc *loopScratch, err error) gnet.Action {
	e := errBadRequest
	switch {
	case errors.Is(err, httpparse.ErrHeadTooLarge), errors.Is(err, httpparse.ErrTooManyHeaders):
		e = errHeaderTooLarge
	case errors.Is(err, httpparse.ErrUnsupportedVersion):
		e = errVersionUnsupported
	case errors.Is(err, httpparse.ErrUnsupportedTransferEncoding):
		e = errUnsupportedTE
	case errors.Is(err, httpparse.ErrURITooLong):
		e = errURITooLong
	}
	sc.id = appendRequestID(sc.id[:0])
	msg := e.Message
	if e == errBadRequest {
		msg = "The request could not be parsed: " + err.Error()
	}
	sc.out = appendErrorResponse(sc.out[:0], e.Code, e.Status, msg, sc.id, nil, true)
	noRoute.count(opUnknown, e.Status)
	s.logHead(c, sc, e)
	_, _ = c.Write(sc.out)
	return gnet.Close
}

// bodyMode decides how a body is read, from its framing and payload mode,
// and returns x-amz-decoded-content-length for aws-chunked bodies the
// gateway decodes (-1 otherwise):
//
//   - Content-Length, payload hash passed through: spliced as is;
//   - signed aws-chunked (ar.streaming set by authentication, or unverified
//     on an anonymous route): decoded and checked here;
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER with Transfer-Encoding: chunked
//     (botocore over HTTPS): both layers decoded, trailer checksum checked
//     here, since the backend cannot be sent an aws-chunked body of unknown
//     encoded length;
//   - a PutObject above the route's multipart threshold, or chunked of
//     unknown length: an auto-multipart upload (automp.go);
//   - an UploadPart of unknown length: spooled to disk (spool.go) when
//     spooling is on;
//   - any other chunked body: refused.
func (s *Server) bodyMode(rt *Route, o op, req *httpparse.Request, ar *authResult) (int64, *s3Error) {
	ph := req.Header("x-amz-content-sha256")
	switch {
	case ar.streaming || isStreamingSigned(ph) || bytes.Equal(ph, streamingUnsignedTrailer):
		// aws-chunked: below.
	case o == opPutObject && (req.Chunked || req.ContentLength > rt.Upload.threshold() || req.ContentLength > s.tun().MaxObjectSize):
		ar.autoMP = true
		return -1, nil
	}
	switch {
	case ar.streaming:
	case rt.Auth == nil && isStreamingSigned(ph):
		// An anonymous route: the client signed its chunks with a key the
		// gateway does not know. The framing, the decoded length and any
		// trailer checksum are checked; the signatures cannot be.
		ar.streaming, ar.unverified = true, true
		ar.trailer = bytes.Equal(ph, streamingSignedTrailer)
		if !ar.trailer && !bytes.Equal(ph, streamingSigned) {
			return -1, errStreamingSigned // SigV4a (ECDSA)
		}
	case req.Chunked && bytes.Equal(ph, streamingUnsignedTrailer):
		ar.streaming, ar.unsigned, ar.trailer = true, true, true
	case req.Chunked && o == opUploadPart && s.spool.on():
		ar.spool = true // spool.go
		return -1, nil
	case req.Chunked:
		return -1, errChunkedTE
	default:
		return -1, nil
	}
	n, ok := parseLength(req.Header("x-amz-decoded-content-length"))
	if !ok {
		return -1, errNoDecodedLength
	}
	if n > s.tun().MaxObjectSize {
		return -1, errEntityTooLarge
	}
	return n, nil
}
