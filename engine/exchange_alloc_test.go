//go:build !race

package engine

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/golang-jwt/jwt/v5"
	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine/accesslog"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/sigv4"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// fakeConn is the part of a gnet.Conn the in-loop relay uses: an inbound
// buffer the test fills and what the loop wrote. Any other method panics
// (the embedded interface is nil), so a path that starts using one shows.
type fakeConn struct {
	gnet.Conn
	ctx    any
	in     []byte
	out    []byte
	closed bool
	addr   net.Addr
}

func (c *fakeConn) Context() any                  { return c.ctx }
func (c *fakeConn) SetContext(ctx any)            { c.ctx = ctx }
func (c *fakeConn) Peek(int) ([]byte, error)      { return c.in, nil }
func (c *fakeConn) InboundBuffered() int          { return len(c.in) }
func (c *fakeConn) OutboundBuffered() int         { return 0 }
func (c *fakeConn) RemoteAddr() net.Addr          { return c.addr }
func (c *fakeConn) LocalAddr() net.Addr           { return c.addr }
func (c *fakeConn) Wake(gnet.AsyncCallback) error { return nil }
func (c *fakeConn) Close() error                  { c.closed = true; return nil }

func (c *fakeConn) Next(int) ([]byte, error) {
	b := c.in
	c.in = c.in[len(c.in):]
	return b, nil
}

func (c *fakeConn) Discard(n int) (int, error) {
	c.in = c.in[n:]
	return n, nil
}

func (c *fakeConn) Write(b []byte) (int, error) {
	c.out = append(c.out, b...)
	return len(b), nil
}

func (c *fakeConn) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		c.out = append(c.out, b...)
		n += len(b)
	}
	return n, nil
}

// loopRig is a server with one route, a client connection and one idle
// backend link on the same (fake) loop, wired as OnOpen and linkOpened
// wire them.
type loopRig struct {
	s      *Server
	client *fakeConn
	up     *fakeConn
	ll     *loopLinks
}

func newLoopRig(t testing.TB, rt *Route, accessLog bool) *loopRig {
	t.Helper()
	creds := credentials.NewStaticCredentialsProvider("BACKENDAK", "backend-secret", "")
	rt.Endpoint = upstream.NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "bkt", "", true, creds,
		upstream.PoolConfig{IdleTimeout: time.Hour})
	cfg := Config{Addr: "127.0.0.1:0"}
	if accessLog {
		l, err := accesslog.New(accesslog.Config{Format: accesslog.FormatJSON, Output: filepath.Join(t.TempDir(), "access.log"), Sample: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		cfg.AccessLog = l
	}
	s, err := New(cfg, NewRouter([]*Route{rt}, nil))
	if err != nil {
		t.Fatal(err)
	}
	// Off the loop, a worker's AppendHead caches the backend credentials
	// the loop signs with.
	if _, err := upstream.NewBuilder(s.keys).AppendHead(context.Background(), nil, rt.Endpoint,
		&upstream.Request{Method: []byte("PUT"), Key: []byte("k"), ContentLength: 0}, time.Now()); err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	r := &loopRig{s: s, client: &fakeConn{addr: addr}, up: &fakeConn{addr: addr}}
	r.ll = &loopLinks{s: s, pools: make(map[*upstream.Endpoint]*linkPool), all: make(map[*link]struct{})}
	st := &connState{gc: r.client, ll: r.ll}
	s.openClient(r.client, st)
	r.client.SetContext(st)
	p := r.ll.pool(rt.Endpoint)
	p.open++
	p.dialing++
	s.linkOpened(r.up, linkDial{r.ll, rt.Endpoint})
	return r
}

// cycle is one request on the loop: the client's bytes arrive (OnTraffic
// relays them on the idle link), the backend's reply arrives on the link
// (OnTraffic answers the client). It reports what went wrong, if anything.
func (r *loopRig) cycle(req, reply []byte) string {
	r.client.in, r.client.out, r.up.out = req, r.client.out[:0], r.up.out[:0]
	if a := r.s.OnTraffic(r.client); a != gnet.None || len(r.client.in) != 0 {
		return "the request was not taken"
	}
	if len(r.up.out) == 0 {
		return "nothing was written to the link (the request left the loop)"
	}
	r.up.in = reply
	if a := r.s.OnTraffic(r.up); a != gnet.None {
		return "the link was closed"
	}
	if !bytes.HasPrefix(r.client.out, []byte("HTTP/1.1 200 OK\r\n")) {
		return "the client was not answered 200: " + string(r.client.out)
	}
	if r.client.closed || r.up.closed {
		return "a connection was closed"
	}
	return ""
}

// The whole in-loop exchange of a small PutObject allocates nothing in
// steady state: OnTraffic on the client connection (parse, route,
// classify, SigV4 verification, binding, the exchange and its upstream
// head built and signed, the writev to the link) and OnTraffic on the
// link (the reply parsed, the response built, metrics, the access log
// record, the connection readied for its next request).
func TestLoopExchangeNoAllocs(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1024/16)
	reply := []byte("HTTP/1.1 200 OK\r\nETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\nContent-Length: 0\r\n\r\n")
	anonHead := []byte("PUT /uploads/dir/key.bin?x-id=PutObject HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\n\r\n")
	for _, tc := range []struct {
		name      string
		auth      *Auth
		head      []byte
		accessLog bool
	}{
		{"anonymous", nil, anonHead, false},
		{"anonymous/accesslog", nil, anonHead, true},
		{"sigv4", &Auth{SigV4: &sigv4.VerifyConfig{Region: "us-east-1", Keys: sigv4.Keys{"AKTEST": {Secret: "SKTEST", Subject: "alice"}}}},
			sigv4Head("SKTEST", "UNSIGNED-PAYLOAD"), false},
		{"sigv4/accesslog", &Auth{SigV4: &sigv4.VerifyConfig{Region: "us-east-1", Keys: sigv4.Keys{"AKTEST": {Secret: "SKTEST", Subject: "alice"}}}},
			sigv4Head("SKTEST", "UNSIGNED-PAYLOAD"), true},
		{"jwt", loopAuthCases(t)[2].auth, loopAuthCases(t)[2].head, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newLoopRig(t, &Route{Name: "uploads", Prefix: "/uploads", Auth: tc.auth}, tc.accessLog)
			req := append(append([]byte(nil), tc.head...), body...)
			loops := relayLoop.Get()
			for i := 0; i < 3000; i++ { // grows every buffer and free list
				if msg := r.cycle(req, reply); msg != "" {
					t.Fatalf("warm-up cycle %d: %s", i, msg)
				}
			}
			if got := relayLoop.Get() - loops; got != 3000 {
				t.Fatalf("requests relayed in the loop; got %d; want 3000", got)
			}
			if !bytes.Contains(r.up.out, []byte("PUT /bkt/dir/key.bin HTTP/1.1\r\n")) ||
				!bytes.Contains(r.up.out, []byte("\r\nauthorization: AWS4-HMAC-SHA256 Credential=BACKENDAK/")) ||
				!bytes.HasSuffix(r.up.out, body) {
				t.Fatalf("unexpected upstream request:\n%s", r.up.out[:len(r.up.out)-len(body)])
			}
			if l := r.s.cfg.AccessLog; l != nil {
				// The writer catches up, so the free list holds more than
				// the measured cycles take while it lags.
				for deadline := time.Now().Add(10 * time.Second); l.Queued() > 0; {
					if time.Now().After(deadline) {
						t.Fatal("the access log writer did not catch up")
					}
					time.Sleep(time.Millisecond)
				}
			}
			var msg string
			n := testing.AllocsPerRun(200, func() {
				if m := r.cycle(req, reply); m != "" {
					msg = m
				}
			})
			if msg != "" {
				t.Fatal(msg)
			}
			if n != 0 {
				t.Fatalf("unexpected allocations per request; got %v; want 0", n)
			}
		})
	}
}

// BenchmarkLoopExchange is one small PutObject (1 KiB body) relayed in
// the loop, from the client's bytes to its response (no sockets: fake
// connections), per authentication method: none, SigV4 (header form,
// UNSIGNED-PAYLOAD) and a cached HS256 bearer token.
func BenchmarkLoopExchange(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1024/16)
	reply := []byte("HTTP/1.1 200 OK\r\nETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\nContent-Length: 0\r\n\r\n")
	for _, tc := range loopAuthCases(b) {
		b.Run(tc.name, func(b *testing.B) {
			r := newLoopRig(b, &Route{Name: "uploads", Prefix: "/uploads", Auth: tc.auth}, false)
			req := append(append([]byte(nil), tc.head...), body...)
			b.ReportAllocs()
			for b.Loop() {
				if msg := r.cycle(req, reply); msg != "" {
					b.Fatal(msg)
				}
			}
		})
	}
}

// loopAuthCase is a route's Auth and a request head it accepts.
type loopAuthCase struct {
	name string
	auth *Auth
	head []byte
}

// loopAuthCases are the authentication methods the loop benchmarks and
// allocation tests cover, each with a head for PUT /uploads/dir/key.bin.
func loopAuthCases(t testing.TB) []loopAuthCase {
	t.Helper()
	jc := &config.JWT{Algorithms: []string{"HS256"}, Secret: "jwt-secret", SubjectClaim: "sub",
		TokenSources: []config.TokenSource{{Type: "bearer"}}, Leeway: time.Minute, CacheTTL: time.Hour, MinRefresh: time.Second}
	j, err := policy.NewJWT(jc, policy.JWTOptions{Route: "uploads"})
	if err != nil {
		t.Fatal(err)
	}
	tok := hsToken(t, jwt.MapClaims{"sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
	return []loopAuthCase{
		{"anonymous", nil, []byte("PUT /uploads/dir/key.bin?x-id=PutObject HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\n\r\n")},
		{"sigv4", &Auth{SigV4: &sigv4.VerifyConfig{Region: "us-east-1", Keys: sigv4.Keys{"AKTEST": {Secret: "SKTEST", Subject: "alice"}}}},
			sigv4Head("SKTEST", "UNSIGNED-PAYLOAD")},
		{"jwt", &Auth{JWT: j}, []byte("PUT /uploads/dir/key.bin?x-id=PutObject HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\n" +
			"Authorization: Bearer " + tok + "\r\n\r\n")},
	}
}
