package engine

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy/authz"
)

const tracedHead = "PUT /uploads/k.bin HTTP/1.1\r\nHost: gw\r\nContent-Length: 1024\r\n" +
	"traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: k=v\r\n\r\n"

// traceRequest runs the tracing hooks of one relayed request in the order
// the loop and the exchange call them (authorization parked once), and
// returns the upstream header lines. ex is the exchange the trace moves to.
func traceRequest(s *Server, st *connState, ex *exchange, req *httpparse.Request, rt *Route, ar *authResult) []byte {
	s.traceBegin(st, req, rt, opPutObject)
	st.tr.authBegin()
	st.tr.authEnd(ar)
	st.tr.authzBegin()
	st.tr.authzEnd(&authzStep{pending: true})
	s.traceBegin(st, req, rt, opPutObject) // the woken connection's next pass
	st.tr.authzBegin()
	st.tr.authzEnd(&authzStep{res: authz.Result{Allow: true, Engine: "opa"}})
	ex.tr, st.tr = st.tr, nil // newExchange
	hdr := ex.tr.upstream("backend:9000", req.Method)
	ex.tr.backendStatus(200)
	ex.out = append(ex.out[:0], "HTTP/1.1 200 OK\r\n\r\n"...)
	ex.traceFinish(200)
	return hdr
}

func newTraceFixture(t testing.TB, tr trace.Tracer) (*Server, *Route, *httpparse.Request) {
	t.Helper()
	s, err := New(Config{Addr: "127.0.0.1:0", Tracer: tr}, NewRouter(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	rt := &Route{Name: "uploads", Prefix: "/uploads", Auth: &Auth{}, Authz: &authz.Authorizer{}}
	req := &httpparse.Request{}
	if _, err := req.Parse([]byte(tracedHead)); err != nil {
		t.Fatal(err)
	}
	return s, rt, req
}

func spanAttr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// With the SDK: the client's traceparent is the parent of the request span,
// the steps are its children, the upstream header carries the upstream
// span, and the attributes say what happened.
func TestTraceSpans(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	s, rt, req := newTraceFixture(t, tp.Tracer("test"))
	st, ex := &connState{}, &exchange{s: s}
	hdr := traceRequest(s, st, ex, req, rt, &authResult{id: identity{method: "sigv4"}})

	ended := sr.Ended()
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range ended {
		byName[sp.Name()] = sp
	}
	if len(ended) != 4 || len(byName) != 4 {
		t.Fatalf("unexpected spans; got %d: %v", len(ended), byName)
	}
	root := byName["s3.PutObject"]
	if root == nil || root.Parent().SpanID().String() != "b7ad6b7169203331" || root.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("request span is not the client's child: %+v", root)
	}
	for _, name := range []string{"authentication", "authorization", "s3.upstream"} {
		if sp := byName[name]; sp == nil || sp.Parent().SpanID() != root.SpanContext().SpanID() {
			t.Fatalf("span %s is not a child of the request span", name)
		}
	}
	up := byName["s3.upstream"].SpanContext()
	want := "traceparent: 00-0af7651916cd43dd8448eb211c80319c-" + up.SpanID().String() + "-01\r\ntracestate: k=v\r\n"
	if string(hdr) != want {
		t.Fatalf("unexpected upstream header lines; got %q; want %q", hdr, want)
	}
	f := func(sp sdktrace.ReadOnlySpan, key, want string) {
		t.Helper()
		if got := spanAttr(sp, key).String(); got != want {
			t.Fatalf("%s: attribute %s; got %q; want %q", sp.Name(), key, got, want)
		}
	}
	f(root, "mizuchi.route", "uploads")
	f(root, "s3.operation", "PutObject")
	f(root, "http.response.status_code", "200")
	f(root, "http.request.body.size", "1024")
	f(root, "mizuchi.auth.method", "sigv4")
	f(root, "mizuchi.authz.decision", "allow")
	f(byName["authorization"], "mizuchi.authz.engine", "opa")
	f(byName["s3.upstream"], "http.response.status_code", "200")
}

// A request refused from the loop before it was classified still gets a
// span with its status and S3 error code; a head whose client went away
// ends its span too.
func TestTraceRefused(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	s, rt, req := newTraceFixture(t, tp.Tracer("test"))
	st := &connState{}
	s.traceRefused(st, req, noRoute, opUnknown, 404, "NoSuchBucket")
	s.traceBegin(st, req, rt, opPutObject)
	st.tr.authBegin()
	st.traceClosed()
	if st.tr != nil {
		t.Fatalf("trace left on the connection")
	}
	ended := sr.Ended()
	if len(ended) != 3 {
		t.Fatalf("unexpected number of spans; got %d; want 3", len(ended))
	}
	sp := ended[0]
	if sp.Name() != "s3.Unknown" || spanAttr(sp, "s3.error_code").AsString() != "NoSuchBucket" ||
		spanAttr(sp, "http.response.status_code").AsInt64() != 404 || spanAttr(sp, "mizuchi.route").AsString() != "-" {
		t.Fatalf("unexpected refusal span %s %v", sp.Name(), sp.Attributes())
	}
}

func TestErrorCodeOf(t *testing.T) {
	f := func(resp, want string) {
		t.Helper()
		if got := errorCodeOf([]byte(resp)); got != want {
			t.Fatalf("unexpected code; got %q; want %q", got, want)
		}
	}
	f("HTTP/1.1 403 Forbidden\r\n\r\n<Error><Code>AccessDenied</Code></Error>", "AccessDenied")
	f("HTTP/1.1 404 Not Found\r\n\r\n", "")
	f("<Code>Broken", "")
}

// BenchmarkTraceHooks: the hooks of one request with tracing off (nil
// checks) and on (the SDK, always sampling, batching to a discarding
// exporter).
func BenchmarkTraceHooks(b *testing.B) {
	f := func(name string, tr trace.Tracer) {
		b.Run(name, func(b *testing.B) {
			s, rt, req := newTraceFixture(b, tr)
			st, ex := &connState{}, &exchange{s: s}
			ar := &authResult{id: identity{method: "sigv4"}}
			b.ReportAllocs()
			for b.Loop() {
				traceRequest(s, st, ex, req, rt, ar)
			}
		})
	}
	f("off", nil)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	f("on", tp.Tracer("bench"))
}
