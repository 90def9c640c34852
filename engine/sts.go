package engine

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/sts"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// The STS endpoint (see the package doc): AssumeRoleWithWebIdentity on the
// S3 listener, answered as AWS STS answers. The loop recognizes the call
// and waits for its (small, bounded) body in gnet's buffer; the call itself
// (RS256 verification is about 50 µs uncached, Assume about 10 µs) runs on
// a worker goroutine, which answers through AsyncWrite like relayBuffered.
// The connection is busy meanwhile: one request in flight.

// STS is the AssumeRoleWithWebIdentity endpoint of a Router. It is
// immutable; a reload builds a new one with the new routes.
type STS struct {
	// Issuer verifies web identity tokens (Issuer.JWT, started) and issues
	// and opens sessions.
	Issuer *sts.Issuer
	// CORS lets browser apps call the endpoint; nil: preflights refused,
	// no CORS headers.
	CORS *CORS
}

// SessionResolver returns the sigv4.Resolver of a route that accepts STS
// credentials: it opens the session token with iss (without decoding its
// claims: the loop does that once the signature verified, when the route
// needs them) and returns a Key whose Session is the *sts.Session. Its
// errors are sts.ErrInvalidToken, sts.ErrExpiredToken and
// sts.ErrAccessKeyMismatch.
func SessionResolver(iss *sts.Issuer) sigv4.Resolver {
	return func(accessKey, token []byte, now time.Time) (*sigv4.Key, error) {
		s, secret, err := iss.OpenNoClaims(accessKey, token, now)
		if err != nil {
			return nil, err
		}
		return &sigv4.Key{AccessKey: s.AccessKeyID, Secret: string(secret), Subject: s.Subject, Session: s}, nil
	}
}

// S3 errors for refused session credentials, as S3 answers them.
var (
	errSessionInvalid = &s3Error{"InvalidToken", 400, "The provided token is malformed or otherwise invalid."}
	errSessionExpired = &s3Error{"ExpiredToken", 400, "The provided token has expired."}
	errSessionScope   = &s3Error{"AccessDenied", 403, "Access Denied: the key is outside the assumed role's scope (its routes and key prefix)."}
)

// STS metrics, registered once; result values come from stsCodes.
var (
	stsIssued       = metrics.NewCounter(`mizuchi_sts_requests_total{result="issued"}`)
	stsPreflights   = metrics.NewCounter(`mizuchi_sts_requests_total{result="preflight"}`)
	stsOther        = metrics.NewCounter(`mizuchi_sts_requests_total{result="other"}`)
	stsResults      = map[string]*metrics.Counter{}
	sessionInvalid  = metrics.NewCounter(`mizuchi_sts_session_refused_total{reason="invalid"}`)
	sessionExpired  = metrics.NewCounter(`mizuchi_sts_session_refused_total{reason="expired"}`)
	sessionMismatch = metrics.NewCounter(`mizuchi_sts_session_refused_total{reason="mismatch"}`)
	sessionScope    = metrics.NewCounter(`mizuchi_upload_refused_total{reason="sts_scope"}`)
	authSTSOK       = metrics.NewCounter(`mizuchi_auth_success_total{method="sts"}`)
)

// stsRefusalLog rate-limits the log lines of refused calls: the Unix
// second << 16 | the lines logged in it.
var stsRefusalLog atomic.Int64

// stsCodes are the error codes the endpoint answers.
var stsCodes = []string{
	sts.CodeInvalidIdentityToken, sts.CodeExpiredToken, sts.CodeIDPCommunication, sts.CodeAccessDenied,
	sts.CodeValidation, sts.CodeInvalidAction, sts.CodeMissingAction, sts.CodeInvalidParameterValue,
	sts.CodePackedPolicyTooLarge, codeServiceUnavailable,
}

const codeServiceUnavailable = "ServiceUnavailable"

func init() {
	for _, c := range stsCodes {
		stsResults[c] = metrics.NewCounter(`mizuchi_sts_requests_total{result="` + c + `"}`)
	}
}

func countSTS(code string) {
	if code == "" {
		stsIssued.Inc()
		return
	}
	if c := stsResults[code]; c != nil {
		c.Inc()
		return
	}
	stsOther.Inc()
}

var (
	errSTSTooLarge = &sts.Error{Code: sts.CodeInvalidParameterValue, Status: http.StatusBadRequest,
		Message: "The request's parameters exceed 64 KiB."}
	errSTSLength = &sts.Error{Code: sts.CodeInvalidParameterValue, Status: http.StatusBadRequest,
		Message: "Send the parameters with a Content-Length body, not chunked."}
	errSTSStopping = &sts.Error{Code: codeServiceUnavailable, Status: http.StatusServiceUnavailable,
		Message: "The gateway is shutting down; retry."}
	errSTSInternal = &sts.Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Message: "The request processing has failed because of an unknown error."}
)

// stsForm is the form media type SDKs send their STS calls with.
var stsForm = []byte("application/x-www-form-urlencoded")

// isSTSCall reports whether req is an STS query API call (or its CORS
// preflight) for router's STS endpoint: "/" with POST and a form body, GET
// with an Action parameter, or OPTIONS; not on a virtual-hosted bucket.
func (r *Router) isSTSCall(req *httpparse.Request) bool {
	if r.STS == nil || string(req.Path) != "/" {
		return false
	}
	switch string(req.Method) {
	case "POST":
		ct := req.Header("content-type")
		if len(ct) < len(stsForm) || !bytes.EqualFold(ct[:len(stsForm)], stsForm) {
			return false
		}
	case "GET":
		if !hasParam(req.Query, "Action") {
			return false
		}
	case "OPTIONS":
	default:
		return false
	}
	return r.hostRoute(req.Host) == nil
}

func hasParam(q []byte, name string) bool {
	for len(q) > 0 {
		var k []byte
		k, _, q = httpparse.NextParam(q)
		if string(k) == name {
			return true
		}
	}
	return false
}

// serveSTS handles an STS call on the loop: it waits for the body in
// gnet's buffer (bounded by sts.MaxRequestSize), then hands the call to a
// worker. headLen is the parsed head's length.
func (s *Server) serveSTS(c gnet.Conn, st *connState, sc *loopScratch, headLen int, ep *STS) gnet.Action {
	req := &sc.req
	sc.cors = sc.cors[:0]
	if ep.CORS != nil {
		sc.cors = ep.CORS.appendHeaders(sc.cors, req.Header("origin"))
	}
	if string(req.Method) == "OPTIONS" {
		return s.stsPreflight(c, st, sc, headLen, ep.CORS)
	}
	switch {
	case s.stopping.Load():
		return s.refuseSTS(c, st, sc, headLen, errSTSStopping)
	case req.Chunked:
		return s.refuseSTS(c, st, sc, headLen, errSTSLength)
	case req.ContentLength > sts.MaxRequestSize:
		return s.refuseSTS(c, st, sc, headLen, errSTSTooLarge)
	}
	bodyLen := max(req.ContentLength, 0)
	total := headLen + int(bodyLen)
	buf, _ := c.Peek(-1)
	if len(buf) < total {
		if req.Expect100 && !st.continued {
			st.continued = true
			_, _ = c.Write(continue100)
		}
		st.setDeadline(s.tun().BodyTimeout)
		return gnet.None
	}
	call := &stsCall{s: s, st: st, iss: ep.Issuer, method: string(req.Method), close: req.Close, start: time.Now()}
	call.buf = append(call.buf, req.Query...)
	call.queryLen = len(req.Query)
	call.buf = append(call.buf, buf[headLen:total]...)
	call.cors = append(call.cors, sc.cors...)
	_, _ = c.Discard(total)
	st.busy = true
	st.deadline.Store(0)
	s.workers.Add(1)
	go call.run()
	return gnet.None
}

// stsCall is one STS call, run by a worker goroutine.
type stsCall struct {
	s        *Server
	st       *connState
	iss      *sts.Issuer
	method   string
	close    bool
	buf      []byte // query, then body (owned)
	queryLen int
	cors     []byte
	start    time.Time
}

// run makes the call and queues the answer on the connection.
func (call *stsCall) run() {
	s := call.s
	defer s.workers.Done()
	var id [16]byte
	reqID := appendRequestID(id[:0])
	role, subject := "", ""
	creds, e := call.assume(&role, &subject)
	var body []byte
	status := http.StatusOK
	if e != nil {
		status = e.Status
		body = sts.AppendErrorXML(nil, e, reqID)
		countSTS(e.Code)
	} else {
		body = sts.AppendResponseXML(nil, creds, reqID)
		countSTS("")
	}
	out := appendSTSAnswer(nil, status, reqID, call.cors, body, call.close)
	call.log(reqID, status, e, role, subject)
	// An error means the connection is gone: nothing to answer.
	_ = call.st.gc.AsyncWrite(out, call.written)
}

// assume parses, verifies and assumes; role and subject are set as soon as
// they are known, for the log.
func (call *stsCall) assume(role, subject *string) (*sts.Credentials, *sts.Error) {
	req, err := sts.ParseRequest(call.method, call.buf[:call.queryLen], call.buf[call.queryLen:])
	if err != nil {
		var e *sts.Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, errSTSInternal
	}
	*role = req.RoleARN
	v := call.iss.JWT()
	if v == nil {
		return nil, errSTSInternal
	}
	ident, err := v.Verify(req.WebIdentityToken, time.Now())
	if errors.Is(err, policy.ErrUnknownKey) {
		// A key the verifier has not fetched: refresh the JWK set (never
		// on a loop: this is a worker) and try once more.
		done := make(chan struct{})
		v.RefreshUnknownKey(func() { close(done) })
		select {
		case <-done:
		case <-time.After(stsRefreshWait):
		}
		ident, err = v.Verify(req.WebIdentityToken, time.Now())
	}
	if err != nil {
		return nil, call.iss.TokenError(err)
	}
	*subject = ident.Subject
	return call.iss.Assume(req, ident, time.Now())
}

// stsRefreshWait bounds the wait for a JWK set refresh (RefreshUnknownKey
// always answers; a rate-limited refresh may take its minimum interval).
const stsRefreshWait = 30 * time.Second

// written runs on the loop once the answer is written or queued, and
// readies the connection for its next request.
func (call *stsCall) written(c gnet.Conn, err error) error {
	st, s := call.st, call.s
	st.busy = false
	st.nextRequest()
	if st.closed {
		return nil
	}
	if call.close || err != nil {
		return c.Close()
	}
	st.setDeadline(s.tun().IdleTimeout)
	if c.InboundBuffered() > 0 {
		return c.Wake(nil)
	}
	return nil
}

// log writes the access log line and, rate-limited, why a call was
// refused (Error.Reason is for operators only; it is never sent). Tokens
// and keys are never logged.
func (call *stsCall) log(reqID []byte, status int, e *sts.Error, role, subject string) {
	s := call.s
	code, reason := "", ""
	if e != nil {
		code, reason = e.Code, e.Reason
	}
	if s.cfg.AccessLog != nil {
		s.logSTS(call.st, reqID, call.start, status, code, role, subject, reason)
		return
	}
	if e != nil && (reason != "" || e.Status >= 500 || e.Code == sts.CodeIDPCommunication) && allowRefusalLog() {
		s.log.Warn("sts call refused", "id", string(reqID), "code", code, "status", status, "role", role, "reason", reason)
	}
}

// allowRefusalLog lets at most 10 refusal lines a second through.
func allowRefusalLog() bool {
	now := time.Now().Unix() << 16
	for {
		v := stsRefusalLog.Load()
		next := now + 1
		if v&^0xffff == now {
			if v&0xffff >= 10 {
				return false
			}
			next = v + 1
		}
		if stsRefusalLog.CompareAndSwap(v, next) {
			return true
		}
	}
}

// appendSTSAnswer appends a complete STS answer: status, AWS's headers
// (x-amzn-RequestId, text/xml), the CORS lines and the XML body.
func appendSTSAnswer(dst []byte, status int, reqID, cors, body []byte, closeConn bool) []byte {
	dst = appendStatusLine(dst, status)
	dst = append(dst, "x-amzn-RequestId: "...)
	dst = append(dst, reqID...)
	dst = append(dst, "\r\nContent-Type: "+sts.ContentType+"\r\nCache-Control: no-store\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, cors...)
	dst = appendDate(dst)
	if closeConn {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

// refuseSTS answers an STS call from the loop with e. The connection stays
// open only when the whole body is buffered (it is discarded).
func (s *Server) refuseSTS(c gnet.Conn, st *connState, sc *loopScratch, headLen int, e *sts.Error) gnet.Action {
	req := &sc.req
	total := int64(headLen) + max(req.ContentLength, 0)
	keep := !req.Close && !req.Chunked && int64(c.InboundBuffered()) >= total
	sc.id = appendRequestID(sc.id[:0])
	body := sts.AppendErrorXML(nil, e, sc.id)
	sc.out = appendSTSAnswer(sc.out[:0], e.Status, sc.id, sc.cors, body, !keep)
	countSTS(e.Code)
	s.logSTS(st, sc.id, sc.acc.start, e.Status, e.Code, "", "", e.Reason)
	_, _ = c.Write(sc.out)
	if !keep {
		return gnet.Close
	}
	return s.answeredOnLoop(c, st, int(total))
}

// stsPreflight answers a CORS preflight of the STS endpoint on the loop.
func (s *Server) stsPreflight(c gnet.Conn, st *connState, sc *loopScratch, headLen int, cors *CORS) gnet.Action {
	req := &sc.req
	method := req.Header("access-control-request-method")
	if cors == nil || (string(method) != "POST" && string(method) != "GET") {
		return s.refuseSTS(c, st, sc, headLen, &sts.Error{Code: "AccessForbidden", Status: http.StatusForbidden,
			Message: "CORSResponse: This CORS request is not allowed."})
	}
	out, ok := appendPreflight(sc.out[:0], cors, req)
	if !ok {
		return s.refuseSTS(c, st, sc, headLen, &sts.Error{Code: "AccessForbidden", Status: http.StatusForbidden,
			Message: "CORSResponse: This CORS request is not allowed."})
	}
	sc.out = out
	stsPreflights.Inc()
	s.logPreflight(c, sc, "sts")
	_, _ = c.Write(sc.out)
	if req.Close {
		return gnet.Close
	}
	return s.answeredOnLoop(c, st, headLen)
}
