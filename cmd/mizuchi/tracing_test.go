package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP trace receiver in the test process: it decodes the
// gateway's real exports (OTLP/HTTP protobuf, or gRPC) and keeps the spans.
type otlpReceiver struct {
	coltracepb.UnimplementedTraceServiceServer

	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string // service.name of every export
}

func (r *otlpReceiver) add(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				r.services = append(r.services, kv.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			r.spans = append(r.spans, ss.GetSpans()...)
		}
	}
}

// Export implements the gRPC TraceService.
func (r *otlpReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.add(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// serveHTTP serves OTLP/HTTP (protobuf, optionally gzip) on /v1/traces and
// returns the base URL.
func (r *otlpReceiver) serveHTTP(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Method != http.MethodPost {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		data, err := io.ReadAll(io.LimitReader(body, 16<<20))
		var m coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(data, &m)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.add(&m)
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// serveGRPC serves OTLP/gRPC and returns its URL.
func (r *otlpReceiver) serveGRPC(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(s, r)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return "http://" + ln.Addr().String()
}

// span returns the received span named name in trace tid, or nil.
func (r *otlpReceiver) span(tid, name string) *tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.spans {
		if hex.EncodeToString(s.GetTraceId()) == tid && s.GetName() == name {
			return s
		}
	}
	return nil
}

// waitSpans polls until every (trace id, name) pair has been received.
func (r *otlpReceiver) waitSpans(t *testing.T, timeout time.Duration, want ...[2]string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing := ""
		for _, w := range want {
			if r.span(w[0], w[1]) == nil {
				missing = w[1] + " of trace " + w[0]
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			r.mu.Lock()
			var got []string
			for _, s := range r.spans {
				got = append(got, hex.EncodeToString(s.GetTraceId())+"/"+s.GetName())
			}
			r.mu.Unlock()
			t.Fatalf("span %s not received within %s; got %v", missing, timeout, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// attr returns a span attribute as a string ("" when absent).
func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() != key {
			continue
		}
		switch v := kv.GetValue(); {
		case v.GetStringValue() != "":
			return v.GetStringValue()
		default:
			return fmt.Sprint(v.GetIntValue())
		}
	}
	return ""
}

// recordingProxy is a TCP proxy between the gateway and versitygw that
// records every byte sent to the backend, so a test sees the request heads
// the backend received.
type recordingProxy struct {
	addr string
	mu   sync.Mutex
	sent bytes.Buffer
}

func (p *recordingProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent.Len() < 64<<20 {
		p.sent.Write(b)
	}
	return len(b), nil
}

func (p *recordingProxy) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.String()
}

func startRecordingProxy(t *testing.T, target string) *recordingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &recordingProxy{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				u, err := net.DialTimeout("tcp", target, 5*time.Second)
				if err != nil {
					return
				}
				defer u.Close()
				go func() {
					_, _ = io.Copy(c, u)
					c.Close()
				}()
				_, _ = io.Copy(u, io.TeeReader(c, p))
			}(c)
		}
	}()
	return p
}

const traceBucket = "trace-bucket"

// tracedRoute is a SigV4 route to traceBucket.
var tracedRoute = route{name: "uploads", pathPrefix: "/uploads", bucket: traceBucket, extra: "" +
	"    auth:\n      enabled: true\n      sigv4:\n" +
	"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n"}

// gatedRoute is tracedRoute's twin with an embedded OPA policy: keys under
// ok/ are allowed.
func gatedRoute(t *testing.T) route {
	policy := filepath.Join(t.TempDir(), "policy.rego")
	if err := os.WriteFile(policy, []byte("package mizuchi\nimport rego.v1\nallow if startswith(input.key, \"ok/\")\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := tracedRoute
	r.name, r.pathPrefix, r.keyPrefix = "gated", "/gated", "gated/"
	r.extra += "    authz:\n      enabled: true\n      opa:\n        policy_file: " + policy + "\n"
	return r
}

// tracedPut sends a SigV4 PutObject of n bytes ('z') to path carrying the
// client's traceparent and returns the status.
func tracedPutStatus(t *testing.T, g *gateway, path string, n int, traceparent string) int {
	t.Helper()
	req := sdkSigned(t, g, path, bytes.Repeat([]byte("z"), n), clientAK, clientSK, backendRegion, time.Now())
	req.Header.Set("Traceparent", traceparent)
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// tracedPut sends a SigV4 PutObject of n bytes ('z') to key carrying the
// client's traceparent, and checks the object on the backend.
func tracedPut(t *testing.T, g *gateway, b *backend, key string, n int, traceparent string) {
	t.Helper()
	body := bytes.Repeat([]byte("z"), n)
	req := sdkSigned(t, g, "/uploads/"+key, body, clientAK, clientSK, backendRegion, time.Now())
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
		req.Header.Set("Tracestate", "client=1")
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unexpected PUT status; got %d; want 200: %s", resp.StatusCode, rb)
	}
	if sum, size := b.objectSHA(t, traceBucket, key); sum != sha256Hex(body) || size != int64(n) {
		t.Fatalf("unexpected object on the backend; got %d bytes", size)
	}
}

// TestE2ETracing runs the gateway with tracing on against an OTLP receiver
// in the test (HTTP, then gRPC with a batch delay longer than the test so
// only the flush on exit can deliver), with a recording proxy in front of
// versitygw: the client's traceparent is the request span's parent, the
// authentication and upstream spans are its children, the attributes say
// what happened, and the backend received the upstream span's traceparent.
// The HTTP variant also exports gzip, samples parent_based with ratio 0 (a
// client's unsampled trace is not exported but still reaches the backend)
// and checks that a reload changing the section warns.
func TestE2ETracing(t *testing.T) {
	b := startBackend(t, traceBucket)
	f := func(name, protocol string, delayMillis int, flushOnExit bool) {
		t.Run(name, func(t *testing.T) {
			rec := &otlpReceiver{}
			endpoint := rec.serveHTTP(t)
			if protocol == "grpc" {
				endpoint = rec.serveGRPC(t)
			}
			px := startRecordingProxy(t, b.addr)
			pb := *b
			pb.endpoint = "http://" + px.addr
			yaml := fmt.Sprintf("tracing:\n  enabled: true\n  service_name: mizuchi-e2e\n  otlp:\n    endpoint: %q\n    protocol: %s\n"+
				"  batch:\n    scheduled_delay_millis: %d\n", endpoint, protocol, delayMillis)
			if protocol != "grpc" {
				yaml += "  sampling: {strategy: parent_based, ratio: 0}\n" // the client's sampled flag decides
				yaml = strings.Replace(yaml, "    protocol:", "    compression: gzip\n    protocol:", 1)
			}
			g := startGatewayWith(t, &pb, gwOptions{yaml: yaml}, tracedRoute, gatedRoute(t))

			// A small body (relayed on the loop), a large one (spliced by
			// a worker) and a refusal, each with its own client trace.
			const small, large = 1024, 1 << 20
			tids := [3]string{"0af7651916cd43dd8448eb211c80319c", "1bf7651916cd43dd8448eb211c80319d", "2cf7651916cd43dd8448eb211c80319e"}
			const parent = "b7ad6b7169203331"
			const unsampled = "5af7651916cd43dd8448eb211c8031a1"
			if protocol != "grpc" {
				// Not sampled by the client, ratio 0: no span, but the
				// backend still gets the trace (sampled flag off).
				tracedPut(t, g, b, "unsampled.bin", small, "00-"+unsampled+"-"+parent+"-00")
			}
			tracedPut(t, g, b, "small.bin", small, "00-"+tids[0]+"-"+parent+"-01")
			tracedPut(t, g, b, "large.bin", large, "00-"+tids[1]+"-"+parent+"-01")
			r := g.do(t, http.MethodGet, "/uploads/small.bin", nil, http.Header{"Traceparent": {"00-" + tids[2] + "-" + parent + "-01"}})
			if r.status != http.StatusForbidden {
				t.Fatalf("unexpected GET status; got %s; want 403", r)
			}
			// Authorization: allowed (decided off the loop, parked), denied.
			authzTids := [2]string{"3df7651916cd43dd8448eb211c80319f", "4ef7651916cd43dd8448eb211c8031a0"}
			if st := tracedPutStatus(t, g, "/gated/ok/a.bin", small, "00-"+authzTids[0]+"-"+parent+"-01"); st != http.StatusOK {
				t.Fatalf("unexpected allowed PUT status; got %d; want 200", st)
			}
			if st := tracedPutStatus(t, g, "/gated/no.bin", small, "00-"+authzTids[1]+"-"+parent+"-01"); st != http.StatusForbidden {
				t.Fatalf("unexpected denied PUT status; got %d; want 403", st)
			}
			if flushOnExit {
				g.proc.stop()
				if !g.proc.exited() {
					t.Fatalf("gateway did not exit")
				}
			}
			rec.waitSpans(t, 30*time.Second,
				[2]string{tids[0], "s3.PutObject"}, [2]string{tids[0], "authentication"}, [2]string{tids[0], "s3.upstream"},
				[2]string{tids[1], "s3.PutObject"}, [2]string{tids[1], "authentication"}, [2]string{tids[1], "s3.upstream"},
				[2]string{tids[2], "s3.Read"},
				[2]string{authzTids[0], "s3.PutObject"}, [2]string{authzTids[0], "authorization"}, [2]string{authzTids[0], "s3.upstream"},
				[2]string{authzTids[1], "s3.PutObject"}, [2]string{authzTids[1], "authorization"})
			for i, want := range []struct{ decision, status, code string }{{"allow", "200", ""}, {"deny", "403", "AccessDenied"}} {
				req, az := rec.span(authzTids[i], "s3.PutObject"), rec.span(authzTids[i], "authorization")
				if !bytes.Equal(az.GetParentSpanId(), req.GetSpanId()) {
					t.Fatalf("authorization span %d is not a child of the request span", i)
				}
				got := [...]string{attr(az, "mizuchi.authz.decision"), attr(req, "mizuchi.authz.decision"), attr(req, "http.response.status_code"), attr(req, "s3.error_code")}
				if got != [...]string{want.decision, want.decision, want.status, want.code} {
					t.Fatalf("authorization %d: got decision %q (request span %q), status %s, code %q; want %+v", i, got[0], got[1], got[2], got[3], want)
				}
			}
			if rec.span(authzTids[1], "s3.upstream") != nil {
				t.Fatalf("a denied request has an upstream span")
			}

			for i, size := range []int{small, large} {
				tid := tids[i]
				req := rec.span(tid, "s3.PutObject")
				if got := hex.EncodeToString(req.GetParentSpanId()); got != parent {
					t.Fatalf("request span's parent; got %q; want the client's span %q", got, parent)
				}
				if req.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
					t.Fatalf("unexpected request span kind %v", req.GetKind())
				}
				want := map[string]string{
					"mizuchi.route": "uploads", "s3.operation": "PutObject", "http.request.method": "PUT",
					"http.response.status_code": "200", "http.request.body.size": fmt.Sprint(size),
					"mizuchi.auth.method": "sigv4", "mizuchi.authz.decision": "none", "s3.error_code": "",
				}
				for k, v := range want {
					if got := attr(req, k); got != v {
						t.Fatalf("trace %d: request span attribute %s; got %q; want %q", i, k, got, v)
					}
				}
				for _, child := range []string{"authentication", "s3.upstream"} {
					c := rec.span(tid, child)
					if !bytes.Equal(c.GetParentSpanId(), req.GetSpanId()) {
						t.Fatalf("trace %d: span %s is not a child of the request span", i, child)
					}
				}
				up := rec.span(tid, "s3.upstream")
				if got := attr(up, "http.response.status_code"); got != "200" {
					t.Fatalf("upstream span status; got %q; want 200", got)
				}
				// The backend received the upstream span's traceparent and
				// the client's tracestate.
				wantHdr := "traceparent: 00-" + tid + "-" + hex.EncodeToString(up.GetSpanId()) + "-01\r\ntracestate: client=1\r\n"
				if !strings.Contains(px.String(), wantHdr) {
					t.Fatalf("trace %d: the backend did not receive %q", i, wantHdr)
				}
			}
			if protocol != "grpc" {
				if rec.span(unsampled, "s3.PutObject") != nil {
					t.Fatalf("a request the client did not sample was exported under parent_based with ratio 0")
				}
				if !strings.Contains(px.String(), "traceparent: 00-"+unsampled+"-") || !strings.Contains(px.String(), "-00\r\ntracestate: client=1\r\n") {
					t.Fatalf("the backend did not receive the unsampled trace")
				}
			}
			refused := rec.span(tids[2], "s3.Read")
			if got := attr(refused, "s3.error_code"); got != "AccessDenied" {
				t.Fatalf("refusal's s3.error_code; got %q; want AccessDenied", got)
			}
			if got := attr(refused, "http.response.status_code"); got != "403" {
				t.Fatalf("refusal's status; got %q; want 403", got)
			}
			if got := hex.EncodeToString(refused.GetParentSpanId()); got != parent {
				t.Fatalf("refusal's parent; got %q; want %q", got, parent)
			}
			rec.mu.Lock()
			svc := rec.services
			rec.mu.Unlock()
			if len(svc) == 0 || svc[0] != "mizuchi-e2e" {
				t.Fatalf("unexpected service.name; got %q", svc)
			}
			if !flushOnExit {
				// Tracing is set up once: a reload that changes it says so.
				g.sighup(t, "configuration reloaded")
				if strings.Contains(g.proc.stderr.String(), "tracing was changed") {
					t.Fatalf("an unchanged tracing section was reported changed")
				}
				data, err := os.ReadFile(g.cfg)
				if err != nil {
					t.Fatal(err)
				}
				data = bytes.Replace(data, []byte("service_name: mizuchi-e2e"), []byte("service_name: renamed"), 1)
				if err := os.WriteFile(g.cfg, data, 0o600); err != nil {
					t.Fatal(err)
				}
				g.sighup(t, "tracing was changed; it takes effect on a restart")
			}
		})
	}
	f("HTTP", "http/protobuf", 100, false)
	f("GRPCFlushOnExit", "grpc", 600000, true)
}

// TestE2ETracingOff: with tracing off (the default), nothing is added to the
// backend's request: the client's traceparent is not forwarded either.
func TestE2ETracingOff(t *testing.T) {
	b := startBackend(t, traceBucket)
	px := startRecordingProxy(t, b.addr)
	pb := *b
	pb.endpoint = "http://" + px.addr
	g := startGateway(t, &pb, tracedRoute)
	tracedPut(t, g, b, "small.bin", 1024, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	tracedPut(t, g, b, "large.bin", 1<<20, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	sent := px.String()
	if !strings.Contains(sent, "PUT /"+traceBucket+"/small.bin ") || !strings.Contains(sent, "PUT /"+traceBucket+"/large.bin ") {
		t.Fatalf("the proxy did not see the uploads")
	}
	if l := strings.ToLower(sent); strings.Contains(l, "traceparent") || strings.Contains(l, "tracestate") {
		t.Fatalf("a trace header reached the backend with tracing off")
	}
}
