package engine

import (
	"bytes"
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy/authz"
)

// Tracing (Config.Tracer): with a Tracer, every S3 request the loop
// classifies gets a server span "s3.<Operation>" whose parent is the
// client's W3C traceparent (and tracestate) when it sent one, with child
// spans "authentication" (when the route authenticates), "authorization"
// (when it authorizes) and "s3.upstream" (the backend exchange). The
// backend request carries the upstream span's traceparent (and the
// client's tracestate) as unsigned header lines (upstream.Request.Unsigned).
//
// The engine depends on the OpenTelemetry API only: the SDK (sampling,
// batching, OTLP export off the loop) is the binary's (cmd/mizuchi).
// Without a Tracer every hook is a nil check and nothing is added to the
// upstream head (trace_alloc_test.go). With one, spans are created on the
// loop (in memory; the SDK's batch processor exports them from its own
// goroutine); a request costs a few allocations.
//
// A request's trace (reqTrace) lives on its connState while the loop works
// on the head (across read events, a JWKS wait and a parked decision) and
// moves to the exchange when one is made (newExchange). It is ended by
// refuseWith for refusals from the loop, by exchange.finish for relayed
// requests, by OnClose when the client goes away first, and by
// putExchange for an exchange dropped unanswered.

// Span attribute keys (documented in docs/OPERATIONS.md).
const (
	attrRoute      = attribute.Key("mizuchi.route")
	attrOperation  = attribute.Key("s3.operation")
	attrMethod     = attribute.Key("http.request.method")
	attrStatus     = attribute.Key("http.response.status_code")
	attrBodySize   = attribute.Key("http.request.body.size")
	attrAuthMethod = attribute.Key("mizuchi.auth.method")
	attrAuthz      = attribute.Key("mizuchi.authz.decision")
	attrAuthzEng   = attribute.Key("mizuchi.authz.engine")
	attrErrorCode  = attribute.Key("s3.error_code")
	attrServer     = attribute.Key("server.address")
)

var spanNames = func() (n [numOps]string) {
	for i := range n {
		n[i] = "s3." + opNames[i]
	}
	return n
}()

var traceProp = propagation.TraceContext{}

// reqCarrier reads the W3C headers of a parsed head for the propagator.
type reqCarrier struct{ r *httpparse.Request }

func (c reqCarrier) Get(k string) string { return string(c.r.Header(k)) }
func (c reqCarrier) Set(string, string)  {}
func (c reqCarrier) Keys() []string      { return []string{"traceparent", "tracestate"} }

// reqTrace is the trace of one request. It is used by one goroutine at a
// time: the loop, then the exchange's owner.
type reqTrace struct {
	tracer   trace.Tracer
	ctx      context.Context // carries span: the parent of the children
	span     trace.Span
	bodySize int64 // the head's Content-Length; -1: none or chunked

	auth      trace.Span // authentication in progress (a JWKS wait), or nil
	authDone  bool
	authz     trace.Span // authorization in progress (parked, or deferred to a worker), or nil
	authzDone bool
	up        trace.Span // the backend exchange, or nil
	upStatus  int        // the backend's reply status; 0: none yet
	hdr       []byte     // the upstream traceparent and tracestate lines

	authMethod string // sigv4, jwt, sts, anonymous; "" until known
	decision   string // allow, deny, unavailable, none; "" until known
}

// traceBegin starts the request span of the head in req, unless tracing is
// off or the connection's current head already has one (a later read event).
func (s *Server) traceBegin(st *connState, req *httpparse.Request, rt *Route, o op) {
	if s.cfg.Tracer != nil && st.tr == nil {
		s.traceBeginSlow(st, req, rt, o)
	}
}

func (s *Server) traceBeginSlow(st *connState, req *httpparse.Request, rt *Route, o op) {
	tr := s.traceStart(req, rt.Name, o)
	if rt.Auth == nil {
		tr.authMethod = "anonymous"
	}
	if rt.Authz == nil {
		tr.decision = "none"
	}
	st.tr = tr
}

func (s *Server) traceStart(req *httpparse.Request, route string, o op) *reqTrace {
	tr := &reqTrace{tracer: s.cfg.Tracer, bodySize: req.ContentLength}
	if req.Chunked {
		tr.bodySize = -1
	}
	ctx := traceProp.Extract(context.Background(), reqCarrier{req})
	tr.ctx, tr.span = tr.tracer.Start(ctx, spanNames[o], trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attrRoute.String(route), attrOperation.String(o.String()), attrMethod.String(string(req.Method))))
	return tr
}

// authBegin starts the authentication span (once per head).
func (tr *reqTrace) authBegin() {
	if tr != nil && !tr.authDone && tr.auth == nil {
		tr.authBeginSlow()
	}
}

//go:noinline
func (tr *reqTrace) authBeginSlow() {
	_, tr.auth = tr.tracer.Start(tr.ctx, "authentication")
}

// authEnd ends the authentication span with ar's outcome; a pending result
// (a JWKS wait) keeps it open.
func (tr *reqTrace) authEnd(ar *authResult) {
	if tr != nil && tr.auth != nil && !ar.pending {
		tr.authEndSlow(ar)
	}
}

func (tr *reqTrace) authEndSlow(ar *authResult) {
	if ar.fail != nil {
		tr.auth.SetAttributes(attrErrorCode.String(ar.fail.e.Code))
		tr.auth.SetStatus(codes.Error, ar.fail.e.Code)
	} else {
		tr.authMethod = ar.id.method
		tr.auth.SetAttributes(attrAuthMethod.String(ar.id.method))
	}
	tr.auth.End()
	tr.auth, tr.authDone = nil, true
}

// authzBegin starts the authorization span (once per head).
func (tr *reqTrace) authzBegin() {
	if tr != nil && !tr.authzDone && tr.authz == nil {
		tr.authzBeginSlow()
	}
}

//go:noinline
func (tr *reqTrace) authzBeginSlow() {
	_, tr.authz = tr.tracer.Start(tr.ctx, "authorization")
}

// authzEnd ends the authorization span with the loop's decision; a parked
// or deferred decision keeps it open.
func (tr *reqTrace) authzEnd(az *authzStep) {
	if tr != nil && tr.authz != nil && !az.pending && az.in == nil {
		tr.authzDecided(&az.res)
	}
}

// authzDecided ends the authorization span with r.
func (tr *reqTrace) authzDecided(r *authz.Result) {
	if tr == nil || tr.authz == nil {
		return
	}
	tr.decision = r.Outcome()
	tr.authz.SetAttributes(attrAuthz.String(tr.decision), attrAuthzEng.String(r.Engine))
	if r.Unavailable {
		tr.authz.SetStatus(codes.Error, "authorization unavailable")
	}
	tr.authz.End()
	tr.authz, tr.authzDone = nil, true
}

// upstream starts the backend exchange's span (once; a retry reuses it)
// and returns the header lines that carry it to the backend.
func (tr *reqTrace) upstream(host string, method []byte) []byte {
	if tr == nil {
		return nil
	}
	return tr.upstreamSlow(host, method)
}

func (tr *reqTrace) upstreamSlow(host string, method []byte) []byte {
	if tr.up == nil {
		kv := [2]attribute.KeyValue{attrServer.String(host), attrMethod.String(string(method))}
		n := 2
		if len(method) == 0 {
			n = 1 // auto-multipart: one span for calls of several methods
		}
		_, tr.up = tr.tracer.Start(tr.ctx, "s3.upstream", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(kv[:n]...))
		tr.hdr = appendTraceHeaders(tr.hdr[:0], tr.up.SpanContext())
	}
	return tr.hdr
}

// appendTraceHeaders appends the W3C traceparent (and tracestate) header
// lines of sc.
func appendTraceHeaders(dst []byte, sc trace.SpanContext) []byte {
	if !sc.IsValid() {
		return dst
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	dst = append(dst, "traceparent: 00-"...)
	dst = hex.AppendEncode(dst, tid[:])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, sid[:])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, []byte{byte(sc.TraceFlags())})
	dst = append(dst, "\r\n"...)
	if ts := sc.TraceState(); ts.Len() > 0 {
		dst = append(dst, "tracestate: "...)
		dst = append(dst, ts.String()...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// backendStatus records the backend's reply status.
func (tr *reqTrace) backendStatus(status int) {
	if tr != nil {
		tr.upStatus = status
	}
}

// end ends the request span (and any child still open) with the client's
// status and, for a refusal, its S3 error code.
func (tr *reqTrace) end(status int, code string) {
	if tr.auth != nil {
		tr.auth.End()
	}
	if tr.authz != nil {
		tr.authz.SetStatus(codes.Error, "not decided")
		tr.authz.End()
	}
	if tr.up != nil {
		if tr.upStatus > 0 {
			tr.up.SetAttributes(attrStatus.Int(tr.upStatus))
			if tr.upStatus >= 500 {
				tr.up.SetStatus(codes.Error, "")
			}
		} else if status >= 500 || status == 0 {
			// No reply mapped (a failed exchange; auto-multipart's calls
			// record none).
			tr.up.SetStatus(codes.Error, "no reply from the backend")
		}
		tr.up.End()
	}
	sp := tr.span
	if sp.IsRecording() {
		var buf [5]attribute.KeyValue
		kv := append(buf[:0], attrStatus.Int(status))
		if tr.bodySize >= 0 {
			kv = append(kv, attrBodySize.Int64(tr.bodySize))
		}
		if tr.authMethod != "" {
			kv = append(kv, attrAuthMethod.String(tr.authMethod))
		}
		if tr.decision != "" {
			kv = append(kv, attrAuthz.String(tr.decision))
		}
		if code != "" {
			kv = append(kv, attrErrorCode.String(code))
		}
		sp.SetAttributes(kv...)
		if status >= 500 || status == 0 {
			sp.SetStatus(codes.Error, code)
		}
	}
	sp.End()
}

// traceRefused ends the trace of a request refused from the loop (starting
// it first when the refusal came before classification).
func (s *Server) traceRefused(st *connState, req *httpparse.Request, m *routeMetrics, o op, status int, code string) {
	if s.cfg.Tracer != nil {
		s.traceRefusedSlow(st, req, m, o, status, code)
	}
}

func (s *Server) traceRefusedSlow(st *connState, req *httpparse.Request, m *routeMetrics, o op, status int, code string) {
	tr := st.tr
	if tr == nil {
		tr = s.traceStart(req, m.name, o)
	}
	st.tr = nil
	tr.end(status, code)
}

// traceClosed ends the trace of a head whose client went away before it
// was answered.
func (st *connState) traceClosed() {
	if tr := st.tr; tr != nil {
		st.tr = nil
		tr.end(0, "")
	}
}

// traceFinish ends an exchange's trace with the client's status; the S3
// error code is read back from the error body in ex.out.
func (ex *exchange) traceFinish(status int) {
	if ex.tr != nil {
		ex.traceFinishSlow(status)
	}
}

func (ex *exchange) traceFinishSlow(status int) {
	tr := ex.tr
	ex.tr = nil
	code := ""
	if status >= 300 {
		code = errorCodeOf(ex.out)
	}
	tr.end(status, code)
}

// errorCodeOf returns the <Code> of an S3 error response, or "".
func errorCodeOf(resp []byte) string {
	i := bytes.Index(resp, []byte("<Code>"))
	if i < 0 {
		return ""
	}
	rest := resp[i+len("<Code>"):]
	j := bytes.Index(rest, []byte("</Code>"))
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// traceDrop ends the trace of an exchange released unanswered.
func (ex *exchange) traceDrop() {
	if tr := ex.tr; tr != nil {
		ex.tr = nil
		tr.end(0, "")
	}
}
