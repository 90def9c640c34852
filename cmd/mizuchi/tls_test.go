package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// tlsHeaderTimeout is the gateway's -header-timeout in TestE2ETLS: it also
// bounds the TLS handshake.
const tlsHeaderTimeout = 2 * time.Second

// TestE2ETLS runs uploads over HTTPS (server.tls) and reads every object
// back from the backend. Subtests run one after another: some read
// process-wide counters and RSS.
func TestE2ETLS(t *testing.T) {
	b := startBackend(t, mainBucket, authBucket)
	g := startGatewayWith(t, b, gwOptions{tls: true, args: []string{"-header-timeout", tlsHeaderTimeout.String()}},
		route{name: "uploads", pathPrefix: "/uploads", bucket: mainBucket},
		route{name: "sig", pathPrefix: "/sig", bucket: authBucket, keyPrefix: "sig/", extra: "" +
			"    auth:\n      enabled: true\n      sigv4:\n" +
			"        region: us-east-1\n        max_clock_skew_seconds: 300\n" +
			"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n"},
	)
	if g.scheme != "https" {
		t.Fatalf("unexpected gateway scheme; got %q; want https", g.scheme)
	}

	t.Run("PutObjectSizes", func(t *testing.T) { testTLSSizes(t, g, b) })
	t.Run("KeepAlive", func(t *testing.T) { testTLSKeepAlive(t, g, b) })
	t.Run("PipelinedAfterDetach", func(t *testing.T) { testTLSPipelined(t, g, b) })
	t.Run("TLS12", func(t *testing.T) { testTLS12(t, g, b) })
	t.Run("HeadStall", func(t *testing.T) { testTLSHeadStall(t, g, b) })
	t.Run("SDKSigV4", func(t *testing.T) { testTLSSDK(t, g, b) })
	t.Run("PlainHTTPOnTLSPort", func(t *testing.T) { testTLSPlainHTTP(t, g, b) })
	t.Run("HandshakeStall", func(t *testing.T) { testTLSHandshakeStall(t, g, b) })
	t.Run("Counters", func(t *testing.T) { testTLSCounters(t, g, b) })
	t.Run("CertReload", func(t *testing.T) { testTLSCertReload(t, g, b) })
	t.Run("Memory", func(t *testing.T) { testTLSMemory(t, g, b) })
}

func testTLSSizes(t *testing.T, g *gateway, b *backend) {
	i := 0
	for _, size := range []int64{0, kib, 300 * kib, 5 * mib} {
		for _, expect := range []bool{false, true} {
			mode := shaMode(i % 3)
			i++
			t.Run(fmt.Sprintf("size=%d,expect=%v,sha=%s", size, expect, mode), func(t *testing.T) {
				seed := nextSeed()
				key := fmt.Sprintf("tls/sizes/%d-%v-%s.bin", size, expect, mode)
				r := g.mustPut(t, "/uploads/"+key, seed, size, putOpts{expect: expect, sha: mode})
				if r.header.Get("ETag") == "" {
					t.Errorf("missing ETag in the PUT response: %s", r)
				}
				b.checkObject(t, mainBucket, key, seed, size)
			})
		}
	}
}

// testTLSKeepAlive sends in-loop and detached uploads on one TLS connection,
// with and without 100-continue, and checks that it took one handshake.
func testTLSKeepAlive(t *testing.T, g *gateway, b *backend) {
	h0, _ := g.metric(t, `mizuchi_tls_handshakes_total`)
	c := g.dialRaw(t)
	sizes := []int64{kib, 300 * kib, 5 * mib, 0, kib, 5 * mib, 300 * kib, kib}
	type up struct {
		key  string
		seed uint64
		size int64
	}
	var ups []up
	for i, size := range sizes {
		u := up{key: fmt.Sprintf("tls/keepalive/%02d.bin", i), seed: nextSeed(), size: size}
		expect := i%2 == 1
		extra := ""
		if expect {
			extra = "Expect: 100-continue\r\n"
		}
		if err := c.writePutHead("/uploads/"+u.key, u.size, extra); err != nil {
			t.Fatalf("request %d: cannot write the head: %v", i, err)
		}
		if expect && size > 0 {
			r, err := c.readResponse(http.MethodPut)
			if err != nil || r.status != http.StatusContinue {
				t.Fatalf("request %d (%d bytes): want 100 Continue; got %v, %v", i, size, r, err)
			}
		}
		if _, err := io.CopyBuffer(c, newHashedGen(u.seed, u.size), make([]byte, 64<<10)); err != nil {
			t.Fatalf("request %d: cannot write the body: %v", i, err)
		}
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("request %d (%d bytes): cannot read the response on the same connection: %v", i, u.size, err)
		}
		if r.status != http.StatusOK {
			t.Fatalf("request %d (%d bytes): unexpected result: %s", i, u.size, r)
		}
		ups = append(ups, u)
	}
	if h1, _ := g.metric(t, `mizuchi_tls_handshakes_total`); h1-h0 != 1 {
		t.Fatalf("unexpected handshakes for %d requests on one connection; got %v; want 1", len(sizes), h1-h0)
	}
	for _, u := range ups {
		b.checkObject(t, mainBucket, u.key, u.seed, u.size)
	}
}

// tlsS3Client is an aws-sdk-go-v2 client for the gateway over HTTPS. It gets
// its own http.Client trusting only the test CA: AWS_CA_BUNDLE (set on this
// machine) is never consulted.
func tlsS3Client(g *gateway, rt http.RoundTripper, opt func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           backendRegion,
		BaseEndpoint:     aws.String(g.endpoint()),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(clientAK, clientSK, ""),
		HTTPClient:       &http.Client{Transport: rt},
		RetryMaxAttempts: 1,
	}, func(o *s3.Options) {
		if opt != nil {
			opt(o)
		}
	})
}

func testTLSSDK(t *testing.T, g *gateway, b *backend) {
	f := func(name string, stream bool, opt func(*s3.Options), wantMode string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			rec := &payloadModes{rt: &http.Transport{Proxy: nil, TLSClientConfig: g.tlsConfig()}}
			c := tlsS3Client(g, rec, opt)
			for _, n := range []int64{0, 3 * kib, 300 * kib, 5 * mib} {
				seed := nextSeed()
				key := fmt.Sprintf("tls/sdk/%s/%d.bin", name, n)
				var body io.Reader = bytes.NewReader(genBytes(seed, n))
				if stream {
					body = newGen(seed, n) // not seekable
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				_, err := c.PutObject(ctx, &s3.PutObjectInput{
					Bucket: aws.String("sig"), Key: aws.String(key),
					Body: body, ContentLength: aws.Int64(n),
				})
				cancel()
				if err != nil {
					t.Fatalf("PutObject %q (%d bytes) over HTTPS: %v", key, n, err)
				}
				b.checkObject(t, authBucket, "sig/"+key, seed, n)
			}
			modes := rec.seen()
			t.Logf("payload modes sent: %q", modes)
			found := false
			for _, m := range modes {
				found = found || strings.HasPrefix(m, wantMode)
			}
			if !found {
				t.Fatalf("the SDK never sent x-amz-content-sha256 %s; sent %q", wantMode, modes)
			}
		})
	}
	// Over HTTPS, with checksums on, the SDK sends an unsigned aws-chunked
	// body with a CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER, with a
	// Content-Length, no Transfer-Encoding: chunked), seekable or not; with
	// checksums only when required, UNSIGNED-PAYLOAD.
	supported := func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	}
	f("checksums-when-supported", false, supported, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	f("checksums-when-supported-stream", true, supported, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	f("checksums-when-required", false, func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	}, "UNSIGNED-PAYLOAD")
}

// payloadModes records the x-amz-content-sha256 modes (and
// Transfer-Encoding) a client sends.
type payloadModes struct {
	rt    http.RoundTripper
	mu    sync.Mutex
	modes map[string]bool
}

func (p *payloadModes) RoundTrip(r *http.Request) (*http.Response, error) {
	m := r.Header.Get("X-Amz-Content-Sha256")
	if len(m) == 64 && !strings.Contains(m, "-") {
		m = "hex"
	}
	if tr := r.Header.Get("X-Amz-Trailer"); tr != "" {
		m += " (x-amz-trailer: " + tr + ")"
	}
	if len(r.TransferEncoding) > 0 {
		m += " (Transfer-Encoding: " + strings.Join(r.TransferEncoding, ",") + ")"
	}
	p.mu.Lock()
	if p.modes == nil {
		p.modes = map[string]bool{}
	}
	p.modes[m] = true
	p.mu.Unlock()
	return p.rt.RoundTrip(r)
}

func (p *payloadModes) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for m := range p.modes {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// testTLSPlainHTTP sends plain HTTP to the TLS port: the client gets a 400
// in plain text and a closed connection, and the gateway keeps serving.
func testTLSPlainHTTP(t *testing.T, g *gateway, b *backend) {
	c, err := net.DialTimeout("tcp", g.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc := &rawConn{Conn: c, br: bufio.NewReaderSize(c, 64<<10)}
	rc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := rc.writePut("/uploads/tls/plain.bin", nextSeed(), kib); err != nil {
		t.Fatalf("cannot write a plain request: %v", err)
	}
	r, err := rc.readResponse(http.MethodPut)
	if err != nil {
		t.Fatalf("cannot read the answer to plain HTTP on the TLS port: %v", err)
	}
	if code := checkS3Error(t, "plain HTTP on the TLS port", r, false); r.status != http.StatusBadRequest || code != "BadRequest" {
		t.Fatalf("unexpected answer to plain HTTP; got %s; want 400 BadRequest", r)
	}
	rc.expectClosed(t)
	b.checkAbsent(t, mainBucket, "tls/plain.bin")

	seed := nextSeed()
	g.mustPut(t, "/uploads/tls/after-plain.bin", seed, 300*kib, putOpts{})
	b.checkObject(t, mainBucket, "tls/after-plain.bin", seed, 300*kib)
}

// testTLSHandshakeStall starts a handshake and stops: the gateway drops the
// connection after the header timeout, and a stalled client that never
// sends anything the same way.
func testTLSHandshakeStall(t *testing.T, g *gateway, b *backend) {
	f0, _ := g.metric(t, `mizuchi_tls_handshake_failures_total`)
	f := func(name string, first []byte) {
		t.Helper()
		c, err := net.DialTimeout("tcp", g.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := c.Write(first); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(start.Add(tlsHeaderTimeout + 8*time.Second))
		_, err = io.Copy(io.Discard, c)
		took := time.Since(start)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: connection still open after %s; want it dropped after the %s header timeout", name, took, tlsHeaderTimeout)
		}
		if took < tlsHeaderTimeout-200*time.Millisecond {
			t.Fatalf("%s: connection dropped after %s; want about the %s header timeout", name, took, tlsHeaderTimeout)
		}
		t.Logf("%s: dropped after %s", name, took.Round(time.Millisecond))
	}
	// A TLS record header announcing a 512-byte ClientHello, then silence.
	f("partial ClientHello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03})
	f("nothing", nil)
	// The front counts a failure after the handshake gave up, which is
	// after the client saw the drop: wait for it.
	for deadline := time.Now().Add(10 * time.Second); ; {
		f1, _ := g.metric(t, `mizuchi_tls_handshake_failures_total`)
		if f1-f0 >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mizuchi_tls_handshake_failures_total grew by %v; want >= 2", f1-f0)
		}
		time.Sleep(20 * time.Millisecond)
	}
	seed := nextSeed()
	g.mustPut(t, "/uploads/tls/after-stall.bin", seed, kib, putOpts{})
	b.checkObject(t, mainBucket, "tls/after-stall.bin", seed, kib)
}

// testTLSPipelined writes a large PUT (its body detached from the loop and
// read through crypto/tls by a worker) and two small ones in one go: the
// records of the small ones that crypto/tls read ahead with the body must
// be served once the connection is back on its loop.
func testTLSPipelined(t *testing.T, g *gateway, b *backend) {
	c := g.dialRaw(t)
	sizes := []int64{2*mib + 5, 2 * kib, 3 * kib}
	seeds := make([]uint64, len(sizes))
	var req []byte
	for i, size := range sizes {
		seeds[i] = nextSeed()
		req = fmt.Appendf(req, "PUT /uploads/tls/pipelined-%d.bin HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", i, g.addr, size)
		req = append(req, genBytes(seeds[i], size)...)
	}
	errc := make(chan error, 1)
	go func() { _, err := c.Write(req); errc <- err }()
	for i := range sizes {
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("cannot read response %d: %v", i, err)
		}
		if r.status != http.StatusOK {
			t.Fatalf("pipelined request %d: unexpected result: %s", i, r)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("cannot write the pipelined requests: %v", err)
	}
	for i, size := range sizes {
		b.checkObject(t, mainBucket, fmt.Sprintf("tls/pipelined-%d.bin", i), seeds[i], size)
	}
}

// testTLS12: a TLS 1.2 client uploads a small body (relayed on the loop)
// and a large one (detached) on one connection.
func testTLS12(t *testing.T, g *gateway, b *backend) {
	cfg := g.tlsConfig().Clone()
	cfg.MaxVersion = tls.VersionTLS12
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", g.addr, cfg)
	if err != nil {
		t.Fatalf("TLS 1.2 handshake: %v", err)
	}
	t.Cleanup(func() { tc.Close() })
	if v := tc.ConnectionState().Version; v != tls.VersionTLS12 {
		t.Fatalf("negotiated %x; want TLS 1.2", v)
	}
	tc.SetDeadline(time.Now().Add(2 * time.Minute))
	c := &rawConn{Conn: tc, br: bufio.NewReaderSize(tc, 64<<10)}
	for i, size := range []int64{3 * kib, 3*mib + 7} {
		seed := nextSeed()
		req := fmt.Appendf(nil, "PUT /uploads/tls/tls12-%d.bin HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", i, g.addr, size)
		req = append(req, genBytes(seed, size)...)
		if _, err := c.Write(req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		r, err := c.readResponse(http.MethodPut)
		if err != nil || r.status != http.StatusOK {
			t.Fatalf("request %d over TLS 1.2: %v, %v", i, r, err)
		}
		b.checkObject(t, mainBucket, fmt.Sprintf("tls/tls12-%d.bin", i), seed, size)
	}
}

// testTLSHeadStall: after the handshake, half a head and then silence. The
// connection, served by an event loop, is closed after the header timeout
// like a plain one (with a sealed 408-class S3 error or none), and the
// gateway serves the next client.
func testTLSHeadStall(t *testing.T, g *gateway, b *backend) {
	c := g.dialRaw(t)
	start := time.Now()
	if _, err := c.Write([]byte("PUT /uploads/tls/stalled.bin HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(start.Add(tlsHeaderTimeout + 8*time.Second))
	_, err := io.Copy(io.Discard, c)
	took := time.Since(start)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %s; want it closed after the %s header timeout", took, tlsHeaderTimeout)
	}
	if took < tlsHeaderTimeout-200*time.Millisecond {
		t.Fatalf("connection closed after %s; want about the %s header timeout", took, tlsHeaderTimeout)
	}
	seed := nextSeed()
	g.mustPut(t, "/uploads/tls/after-head-stall.bin", seed, kib, putOpts{})
	b.checkObject(t, mainBucket, "tls/after-head-stall.bin", seed, kib)
}

// testTLSCounters checks that TLS bytes are counted, and that a large body
// is labelled as copied through user space (decrypted), never as spliced.
func testTLSCounters(t *testing.T, g *gateway, b *backend) {
	const in = `mizuchi_tls_bytes_total{dir="in"}`
	const out = `mizuchi_tls_bytes_total{dir="out"}`
	const splice = `mizuchi_body_bytes_total{path="splice"}`
	const copied = `mizuchi_body_bytes_total{path="copy"}`
	i0, _ := g.metric(t, in)
	o0, _ := g.metric(t, out)
	s0, _ := g.metric(t, splice)
	c0, _ := g.metric(t, copied)
	seed := nextSeed()
	g.mustPut(t, "/uploads/tls/counters.bin", seed, 8*mib, putOpts{})
	i1, found := g.metric(t, in)
	if !found {
		t.Fatalf("metric %s not exported", in)
	}
	o1, _ := g.metric(t, out)
	s1, _ := g.metric(t, splice)
	c1, _ := g.metric(t, copied)
	if i1-i0 < 8*mib {
		t.Fatalf("%s grew too little after an 8 MiB PUT; got +%.0f; want >= %d", in, i1-i0, 8*mib)
	}
	if o1-o0 < 100 {
		t.Fatalf("%s grew too little after a PUT; got +%.0f; want a response", out, o1-o0)
	}
	if c1-c0 < 8*mib {
		t.Fatalf("%s grew too little after an 8 MiB PUT over TLS; got +%.0f", copied, c1-c0)
	}
	if s1 != s0 {
		t.Fatalf("%s grew by %.0f after a PUT over TLS; a TLS body cannot be spliced", splice, s1-s0)
	}
	b.checkObject(t, mainBucket, "tls/counters.bin", seed, 8*mib)
}

// testTLSCertReload reissues the certificate and sends SIGHUP: the next
// handshake serves the new one.
func testTLSCertReload(t *testing.T, g *gateway, b *backend) {
	cn := func() string {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", g.addr, g.tlsConfig())
		if err != nil {
			t.Fatalf("cannot handshake: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	before := cn()
	want := "mizuchi e2e reloaded " + strconv.FormatInt(time.Now().UnixNano(), 10)
	g.certs.reissue(t, want, time.Now().UnixNano())
	if err := g.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	got := before
	for got != want && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got = cn()
	}
	if got != want {
		t.Fatalf("certificate not reloaded on SIGHUP; got CN %q; want %q", got, want)
	}
	seed := nextSeed()
	g.mustPut(t, "/uploads/tls/after-reload.bin", seed, kib, putOpts{})
	b.checkObject(t, mainBucket, "tls/after-reload.bin", seed, kib)
}

// testTLSMemory uploads 256 MiB over TLS and checks the gateway's peak RSS.
func testTLSMemory(t *testing.T, g *gateway, b *backend) {
	const size = 256 * mib
	const limit = 200 * mib
	before, peakRSS := sampleRSS(t, g.pid())
	seed := nextSeed()
	start := time.Now()
	r := g.put(t, "/uploads/tls/memory.bin", seed, size, putOpts{expect: true, sha: shaUnsigned})
	elapsed := time.Since(start)
	peak := peakRSS()
	t.Logf("gateway VmRSS: before %.1f MiB, peak %.1f MiB during a %d MiB upload over TLS (%s, %.0f MiB/s)",
		float64(before)/mib, float64(peak)/mib, size/mib, elapsed.Round(time.Millisecond), float64(size)/mib/elapsed.Seconds())
	if r.status != http.StatusOK {
		t.Fatalf("unexpected PUT result: %s", r)
	}
	if peak >= limit && rssChecked(t) {
		t.Fatalf("gateway peak RSS too high; got %.1f MiB; want < %d MiB", float64(peak)/mib, limit/mib)
	}
	b.checkObject(t, mainBucket, "tls/memory.bin", seed, size)
	b.remove(t, mainBucket, "tls/memory.bin")
}

// TestE2ETLSThroughput measures 64 MiB uploads over HTTP and over HTTPS for
// the README: MB/s and the gateway's own CPU time per GiB (what TLS costs
// the gateway). The backend is bench/sink (stores nothing, checks nothing),
// so the gateway and the test client are the bottleneck. Two gateways run
// side by side and uploads alternate between them, so load from other
// processes hits both alike. A measurement, not a check: run it with
// MIZUCHI_TLS_BENCH=1 (MIZUCHI_TLS_BENCH_RUNS uploads each, default 8).
func TestE2ETLSThroughput(t *testing.T) {
	if os.Getenv("MIZUCHI_TLS_BENCH") == "" {
		t.Skip("set MIZUCHI_TLS_BENCH=1 to measure HTTP vs HTTPS upload throughput")
	}
	const size = 64 * mib
	runs := 8
	if n, err := strconv.Atoi(os.Getenv("MIZUCHI_TLS_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	b := startSink(t)
	rt := route{name: "uploads", pathPrefix: "/uploads", bucket: mainBucket}
	type side struct {
		g          *gateway
		best, sum  time.Duration
		cpu0, cpu1 time.Duration
	}
	sides := []*side{{g: startGatewayWith(t, b, gwOptions{}, rt)}, {g: startGatewayWith(t, b, gwOptions{tls: true}, rt)}}
	for _, sd := range sides {
		sd.g.mustPut(t, "/uploads/tput/warmup.bin", 7, mib, putOpts{})
		sd.cpu0 = procCPU(t, sd.g.pid())
	}
	for i := 0; i < runs; i++ {
		for _, sd := range sides {
			key := fmt.Sprintf("tput/%s-%d.bin", sd.g.scheme, i)
			start := time.Now()
			if r := sd.g.putReader(t, "/uploads/"+key, newGen(7, size), size, putOpts{sha: shaUnsigned}, 7); r.status != http.StatusOK {
				t.Fatalf("unexpected PUT result: %s", r)
			}
			d := time.Since(start)
			sd.sum += d
			if sd.best == 0 || d < sd.best {
				sd.best = d
			}
		}
	}
	for _, sd := range sides {
		sd.cpu1 = procCPU(t, sd.g.pid())
		t.Logf("%-5s 64 MiB PUT: best %.0f MB/s, mean %.0f MB/s over %d runs; gateway CPU %.2f s per GiB",
			sd.g.scheme, size/1e6/sd.best.Seconds(), float64(size*runs)/1e6/sd.sum.Seconds(), runs,
			(sd.cpu1-sd.cpu0).Seconds()/(float64(size*runs)/gib))
	}
}

// startSink builds and starts bench/sink as a backend that stores nothing.
func startSink(t testing.TB) *backend {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sink")
	if out, err := exec.Command("go", "build", "-o", bin, "../../bench/sink").CombinedOutput(); err != nil {
		t.Fatalf("cannot build bench/sink: %v\n%s", err, out)
	}
	p := startProc(t, "sink", bin, "-listen", "127.0.0.1:0")
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(p.stdout.String(), "\n"); ok {
			addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
			return &backend{addr: addr, endpoint: "http://" + addr, ak: "AKSINK", sk: "sink-secret", proc: p}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("bench/sink did not start: %s", p.stderr.String())
	return nil
}

// procCPU returns the CPU time of all threads of pid, from the scheduler's
// nanosecond accounting (/proc/PID/task/*/schedstat), which is steadier than
// the tick-sampled utime and stime on a busy VM.
func procCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, task := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
		if err != nil {
			continue // the thread exited
		}
		if f := strings.Fields(string(data)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}
