package engine

import (
	"bytes"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/engine/accesslog"
	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// The access log (Config.AccessLog, package accesslog): one record per
// answered request, built where the answer is made (refuseWith,
// refuseHead, preflight, exchange.finish, the STS answers) and handed to
// the logger, which formats it on the calling goroutine and queues it for
// its writer: no I/O and no allocation on the loop. The client address is
// connState.clientAddr (PROXY protocol and trusted X-Forwarded-For aware).
// Connections turned away before a
// head is read (draining, max_connections) are counted, not logged.

// accessScratch is what the loop notes about the head it is handling, for
// the access log and the error format.
type accessScratch struct {
	start time.Time // when the head was parsed (set only with an access log)
	json  bool      // the client's Accept prefers JSON errors
	id    identity  // who authenticated, once known
}

// exchangeAccess is accessScratch's part an exchange keeps.
type exchangeAccess struct {
	code    string // the S3 error code answered; "" on success
	json    bool
	inLoop  bool // relayed over a link of the loop (relayInLoop)
	spliced bool // the body was spliced (pumpBody)
}

// noteRequest records what the access log and the error writer need from
// a parsed head, while it is in gnet's buffer.
func (s *Server) noteRequest(sc *loopScratch) {
	sc.acc = accessScratch{json: prefersJSON(sc.req.Header("accept"))}
	if s.cfg.AccessLog != nil {
		sc.acc.start = time.Now()
	}
}

// setAccess copies the loop's notes into an exchange (on the loop).
func (ex *exchange) setAccess(sc *loopScratch) {
	ex.acc = exchangeAccess{json: sc.acc.json}
	ex.resp.Status = 0 // the pooled exchange's last reply
}

// logLoop logs a request answered on the loop (refused, or a preflight).
func (s *Server) logLoop(c gnet.Conn, sc *loopScratch, m *routeMetrics, o op, status int, code string) {
	l := s.cfg.AccessLog
	if l == nil {
		return
	}
	req := &sc.req
	r := accesslog.Record{
		Time: time.Now(), ID: sc.id, Method: req.Method, Path: req.Path, Op: o.String(),
		Status: status, Code: code, BytesIn: bytesIn(req), Body: accesslog.BodyNone,
		Auth: sc.acc.id.method, Subject: sc.acc.id.subject, Role: sc.role,
		Authz: sc.authzOutcome, Reason: sc.authzReason,
	}
	if st, ok := c.Context().(*connState); ok {
		r.Client = st.clientAddr()
	}
	if m != noRoute {
		r.Route = m.name
	}
	if sc.acc.id.accessKey != "" {
		r.AccessKey = []byte(sc.acc.id.accessKey) // no copy: the compiler keeps this view on the stack
	} else {
		r.AccessKey = credentialKey(req)
	}
	if !sc.acc.start.IsZero() {
		r.Duration = r.Time.Sub(sc.acc.start)
	}
	l.Log(&r)
}

// logHead logs a head that could not be parsed: no method, path or route.
func (s *Server) logHead(c gnet.Conn, sc *loopScratch, e *s3Error) {
	l := s.cfg.AccessLog
	if l == nil {
		return
	}
	r := accesslog.Record{Time: time.Now(), ID: sc.id, Op: opUnknown.String(), Status: e.Status, Code: e.Code, Body: accesslog.BodyNone}
	if st, ok := c.Context().(*connState); ok {
		r.Client = st.clientAddr()
	}
	l.Log(&r)
}

// logPreflight logs an allowed CORS preflight, whose answer is in sc.out.
func (s *Server) logPreflight(c gnet.Conn, sc *loopScratch, route string) {
	l := s.cfg.AccessLog
	if l == nil {
		return
	}
	req := &sc.req
	r := accesslog.Record{
		Time: time.Now(), ID: answerRequestID(sc.out), Method: req.Method, Path: req.Path, Route: route,
		Op: opPreflight.String(), Status: 200, Body: accesslog.BodyNone,
	}
	if st, ok := c.Context().(*connState); ok {
		r.Client = st.clientAddr()
	}
	if !sc.acc.start.IsZero() {
		r.Duration = r.Time.Sub(sc.acc.start)
	}
	l.Log(&r)
}

// answerRequestID returns the x-amz-request-id value of an answer built
// on the loop (a view into out).
func answerRequestID(out []byte) []byte {
	const name = "\r\nx-amz-request-id: "
	i := bytes.Index(out, []byte(name))
	if i < 0 {
		return nil
	}
	v := out[i+len(name):]
	if j := bytes.IndexByte(v, '\r'); j >= 0 {
		return v[:j]
	}
	return nil
}

// logAccess logs a relayed request (worker or loop).
func (ex *exchange) logAccess(status int) {
	l := ex.s.cfg.AccessLog
	if l == nil {
		return
	}
	r := accesslog.Record{
		Time: time.Now(), ID: ex.id, Client: ex.client, Method: ex.req.Method, Path: ex.req.Path,
		Route: ex.route.Name, Op: ex.op.String(), Status: status, Code: ex.acc.code, BytesIn: bytesIn(&ex.req),
		Upstream: ex.resp.Status, Auth: ex.ident.method, Subject: ex.ident.subject, Role: ex.ident.role,
		AccessKey: []byte(ex.ident.accessKey), Authz: ex.authzOutcome, Reason: ex.authzReason,
	}
	r.Duration = r.Time.Sub(ex.start)
	switch {
	case ex.loop != nil && ex.acc.spliced:
		r.Body = accesslog.BodySplice
	case ex.acc.inLoop && !ex.retried:
		r.Body = accesslog.BodyLoop
	case ex.loop == nil && !ex.op.hasBody():
		r.Body = accesslog.BodyNone
	default:
		r.Body = accesslog.BodyCopy
	}
	l.Log(&r)
}

// logSTS logs an STS call.
func (s *Server) logSTS(st *connState, reqID []byte, start time.Time, status int, code, role, subject, reason string) {
	l := s.cfg.AccessLog
	if l == nil {
		return
	}
	r := accesslog.Record{
		Time: time.Now(), ID: reqID, Route: "sts", Op: "AssumeRoleWithWebIdentity", Status: status, Code: code,
		Body: accesslog.BodyNone, Subject: subject, Role: role, Reason: reason, Client: st.clientAddr(),
	}
	if !start.IsZero() {
		r.Duration = r.Time.Sub(start)
	}
	l.Log(&r)
}

// bytesIn is the body length a request declared: -1 for chunked.
func bytesIn(req *httpparse.Request) int64 {
	if req.Chunked {
		return -1
	}
	return max(req.ContentLength, 0)
}

// credentialKey returns the access key id a SigV4 request names (from the
// Authorization header's Credential= or a presigned X-Amz-Credential), a
// view into req; nil when none. Only the key id: never the scope's other
// parts, the signature or a token.
func credentialKey(req *httpparse.Request) []byte {
	if a := req.Header("authorization"); len(a) > 0 {
		i := bytes.Index(a, []byte("Credential="))
		if i < 0 {
			return nil
		}
		v := a[i+len("Credential="):]
		if j := bytes.IndexByte(v, '/'); j >= 0 {
			return v[:j]
		}
		return nil
	}
	for q := req.Query; len(q) > 0; {
		var k, v []byte
		k, v, q = httpparse.NextParam(q)
		if string(k) != "X-Amz-Credential" {
			continue
		}
		if j := bytes.IndexByte(v, '/'); j >= 0 {
			return v[:j]
		}
		if j := bytes.Index(v, []byte("%2F")); j >= 0 {
			return v[:j]
		}
		return nil
	}
	return nil
}
