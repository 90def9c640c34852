package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of server.limits: each starts a gateway with one limit
// set (flags, or the file and a reload) and checks the refusal, that the
// limit frees up again, and that refused uploads store nothing.

const limBucket = "limits-bucket"

// limSigV4 is a SigV4 route with three identities (alice, bob, carol).
var limSigV4 = route{name: "sig", pathPrefix: "/sig", bucket: limBucket, keyPrefix: "sig/", extra: "" +
	"    auth:\n      enabled: true\n      sigv4:\n" +
	"        region: us-east-1\n        max_clock_skew_seconds: 300\n" +
	"        credentials:\n" +
	"          - {access_key: " + aliceAK + ", secret_key: " + aliceSK + ", subject: alice}\n" +
	"          - {access_key: " + limBobAK + ", secret_key: " + limBobSK + ", subject: bob}\n" +
	"          - {access_key: " + limCarolAK + ", secret_key: " + limCarolSK + ", subject: carol}\n"}

const (
	limBobAK   = "AKBOBLIMITS"
	limBobSK   = "bob-secret-limits"
	limCarolAK = "AKCAROLLIMITS"
	limCarolSK = "carol-secret-limits"
)

var limAnon = route{name: "lim", pathPrefix: "/lim", bucket: limBucket, keyPrefix: "anon/"}

func TestE2ELimits(t *testing.T) {
	b := startBackend(t, limBucket)
	t.Run("PerIP", func(t *testing.T) { testLimitPerIP(t, b) })
	t.Run("PerIPTLS", func(t *testing.T) { testLimitPerIPTLS(t, b) })
	t.Run("PerIPProxy", func(t *testing.T) { testLimitPerIPProxy(t, b) })
	t.Run("MinBodyRate", func(t *testing.T) { testLimitBodyRate(t, b) })
	t.Run("Inflight", func(t *testing.T) { testLimitInflight(t, b) })
	t.Run("Rate", func(t *testing.T) { testLimitRate(t, b) })
}

// checkSlowDown fails unless r is 503 SlowDown with a Retry-After of at
// least one second; it returns the Retry-After.
func checkSlowDown(t testing.TB, what string, r putResult) int {
	t.Helper()
	if code := checkS3Error(t, what, r, false); r.status != 503 || code != "SlowDown" {
		t.Fatalf("%s: got %s; want 503 SlowDown", what, r)
	}
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Fatalf("%s: Retry-After %q; want a number of seconds >= 1", what, r.header.Get("Retry-After"))
	}
	return ra
}

// noRaceReport fails if the gateway (built with GOFLAGS=-race) reported a
// data race.
func noRaceReport(t testing.TB, g *gateway) {
	t.Helper()
	if strings.Contains(g.proc.stderr.String(), "WARNING: DATA RACE") {
		t.Fatalf("the gateway reported a data race:\n%s", g.proc.stderr.String())
	}
}

// readWithin reads one response on c, waiting at most d.
func readWithin(t testing.TB, c *rawConn, d time.Duration) putResult {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	r, err := c.readResponse(http.MethodPut)
	if err != nil {
		t.Fatalf("no response within %s: %v", d, err)
	}
	return r
}

// metricAtLeast polls a counter until it reaches want.
func metricAtLeast(t testing.TB, g *gateway, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, _ := g.metric(t, name)
		if v >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s; got %v; want at least %v", name, v, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testLimitPerIP sets max_connections_per_ip: 3 in the file with a
// reload (the gateway started without it) and checks the cap.
func testLimitPerIP(t *testing.T, b *backend) {
	g := startGateway(t, b, limAnon)
	defer noRaceReport(t, g)
	data, err := os.ReadFile(g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), "server:\n", "server:\n  limits:\n    max_connections_per_ip: 3\n", 1)
	if err := os.WriteFile(g.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.sighup(t, "configuration reloaded")
	perIPCap(t, g, b, 3, "plain")
}

// testLimitPerIPTLS: behind the TLS listener the peer of the TLS
// connection is the one counted (the event loop sees a socketpair).
func testLimitPerIPTLS(t *testing.T, b *backend) {
	g := startGatewayWith(t, b, gwOptions{tls: true, args: []string{"-max-connections-per-ip", "1"}}, limAnon)
	defer noRaceReport(t, g)
	perIPCap(t, g, b, 1, "tls")
}

// testLimitPerIPProxy: with PROXY protocol the client the header names is
// counted, not the balancer's socket (every connection here comes from
// 127.0.0.1).
func testLimitPerIPProxy(t *testing.T, b *backend) {
	g := startGatewayWith(t, b, gwOptions{args: []string{"-proxy-protocol-trusted", "127.0.0.1/32", "-max-connections-per-ip", "1"}}, limAnon)
	defer noRaceReport(t, g)
	const one, other = "192.0.2.10", "192.0.2.11"
	held := dialTCP(t, g.addr)
	r, err := ppPut(t, held, proxyV1(one), "/lim/pp/held.bin", nextSeed(), 4*kib, "")
	if err != nil || r.status != 200 {
		t.Fatalf("first connection from %s: %v %s", one, err, r)
	}
	r, err = ppPut(t, dialTCP(t, g.addr), proxyV1(one), "/lim/pp/refused.bin", nextSeed(), 4*kib, "")
	if err != nil {
		t.Fatalf("second connection from %s: %v", one, err)
	}
	checkSlowDown(t, "second connection from "+one, r)
	b.checkAbsent(t, limBucket, "anon/pp/refused.bin")
	r, err = ppPut(t, dialTCP(t, g.addr), proxyV2(other), "/lim/pp/other.bin", nextSeed(), 4*kib, "")
	if err != nil || r.status != 200 {
		t.Fatalf("a connection from %s while %s is at its cap: %v %s", other, one, err, r)
	}
	held.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err = ppPut(t, dialTCP(t, g.addr), proxyV1(one), "/lim/pp/after.bin", nextSeed(), 4*kib, "")
		if err == nil && r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still refused after its connection closed: %v %s", one, err, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// perIPCap checks a cap of n connections per IP on g: n connections are
// served, one more gets 503 SlowDown and is closed, and once one of the n
// closes a new connection is served.
func perIPCap(t *testing.T, g *gateway, b *backend, n int, tag string) {
	refused0, _ := g.metric(t, `mizuchi_limit_refusals_total{limit="per_ip"}`)

	put := func(c *rawConn, key string) putResult {
		t.Helper()
		seed := nextSeed()
		if err := c.writePut("/lim/"+key, seed, 4*kib); err != nil {
			t.Fatalf("cannot send PUT %s: %v", key, err)
		}
		return readWithin(t, c, 30*time.Second)
	}
	var held []*rawConn
	for i := 0; i < n; i++ {
		c := g.dialRaw(t)
		if r := put(c, tag+"/ip/held-"+strconv.Itoa(i)); r.status != 200 {
			t.Fatalf("connection %d of %d: %s", i+1, n, r)
		}
		held = append(held, c)
	}
	c := g.dialRaw(t)
	r := readWithin(t, c, 10*time.Second) // answered before any request
	if ra := checkSlowDown(t, "one connection over the cap", r); ra != 1 {
		t.Fatalf("one connection over the cap: Retry-After %d; want 1", ra)
	}
	c.expectClosed(t)
	metricAtLeast(t, g, `mizuchi_limit_refusals_total{limit="per_ip"}`, refused0+1)

	// The held connections still work.
	if r := put(held[n-1], tag+"/ip/again"); r.status != 200 {
		t.Fatalf("held connection after the refusal: %s", r)
	}

	// One closes; a new connection is served once the gateway saw it go.
	held[0].Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := g.dialRaw(t)
		if err := c.writePut("/lim/"+tag+"/ip/after", nextSeed(), 4*kib); err != nil && time.Now().After(deadline) {
			t.Fatalf("cannot send PUT: %v", err)
		}
		r, err := func() (putResult, error) {
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			return c.readResponse(http.MethodPut)
		}()
		c.Close()
		if err == nil && r.status == 200 {
			break
		}
		if err == nil {
			checkSlowDown(t, "new connection while the old one closes", r)
		}
		if time.Now().After(deadline) {
			t.Fatalf("a new connection is still refused after one of the %d closed (%v, %s)", n, err, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !b.exists(t, limBucket, "anon/"+tag+"/ip/after") {
		t.Fatalf("the upload on the new connection was not stored")
	}
}

// testLimitBodyRate: bodies slower than min_body_bytes_per_second over the
// window are cut with 400 RequestTimeout well before the 60s stall timeout,
// on the loop (small body), on the splice path and in an auto-multipart
// upload, and nothing is stored; an upload faster than the limit that
// spans several windows is stored.
func testLimitBodyRate(t *testing.T, b *backend) {
	amp := route{name: "amp", pathPrefix: "/amp", bucket: limBucket, keyPrefix: "amp/",
		extra: "    upload: {multipart_threshold: 8MiB, part_size: 5MiB, concurrent_parts: 2}\n"}
	g := startGatewayWith(t, b, gwOptions{args: []string{"-min-body-bytes-per-second", "64KiB", "-min-body-rate-window", "2s"}}, limAnon, amp)
	defer noRaceReport(t, g)

	// Above the limit, over about four windows: 192 KiB every 250 ms.
	seed := nextSeed()
	const steady = 6 * mib
	c := g.dialRaw(t)
	if err := c.writePutHead("/lim/rate/steady.bin", steady, ""); err != nil {
		t.Fatal(err)
	}
	gen := newHashedGen(seed, steady)
	for sent := int64(0); sent < steady; sent += 192 * kib {
		if _, err := io.CopyN(c, gen, min(192*kib, steady-sent)); err != nil {
			t.Fatalf("steady upload cut after %d bytes: %v", sent, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if r := readWithin(t, c, 60*time.Second); r.status != 200 {
		t.Fatalf("steady upload above the minimum rate: %s", r)
	}
	b.checkObject(t, limBucket, "anon/rate/steady.bin", seed, steady)

	slow := func(name, path string, size, first int64, key string) {
		t.Helper()
		cut0, _ := g.metric(t, `mizuchi_limit_refusals_total{limit="min_body_rate"}`)
		c := g.dialRaw(t)
		if err := c.writePutHead(path, size, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(c, newGen(nextSeed(), first), first); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		r := readWithin(t, c, 40*time.Second) // the stall timeout is 60s
		if code := checkS3Error(t, name, r, false); r.status != 400 || code != "RequestTimeout" {
			t.Fatalf("%s: got %s; want 400 RequestTimeout", name, r)
		}
		if !strings.Contains(string(r.body), "Your socket connection to the server was not read from or written to within the timeout period.") {
			t.Fatalf("%s: unexpected message: %s", name, r.body)
		}
		if d := time.Since(t0); d > 30*time.Second {
			t.Fatalf("%s: cut after %s; want about one 2s window", name, d)
		}
		metricAtLeast(t, g, `mizuchi_limit_refusals_total{limit="min_body_rate"}`, cut0+1)
		b.checkAbsent(t, limBucket, key)
	}
	slow("small body in the loop", "/lim/rate/small.bin", 200*kib, 8*kib, "anon/rate/small.bin")
	slow("large body spliced", "/lim/rate/large.bin", 8*mib, 256*kib, "anon/rate/large.bin")
	slow("auto-multipart", "/amp/rate/amp.bin", 20*mib, 6*mib, "amp/rate/amp.bin")
	deadline := time.Now().Add(30 * time.Second)
	for b.pendingUploads(t, limBucket) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a multipart upload is still pending on the backend after the slow body was cut")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// holdPut sends a PUT head with Expect: 100-continue and waits for the
// 100 Continue: the upload is admitted and in flight until finishPut.
func holdPut(t testing.TB, g *gateway, req *http.Request, size int64) *rawConn {
	t.Helper()
	c := g.dialRaw(t)
	writeSignedHead(t, c, req, size, true)
	if r := readWithin(t, c, 30*time.Second); r.status != 100 {
		t.Fatalf("PUT %s: got %s; want 100 Continue", req.URL.Path, r)
	}
	return c
}

// finishPut sends the body of a held PUT and reads the answer.
func finishPut(t testing.TB, c *rawConn, body []byte) putResult {
	t.Helper()
	if _, err := c.Write(body); err != nil {
		t.Fatalf("cannot send the body: %v", err)
	}
	return readWithin(t, c, 60*time.Second)
}

// refusedPut sends a PUT head with Expect: 100-continue and expects 503
// SlowDown before any 100 Continue.
func refusedPut(t testing.TB, g *gateway, what string, req *http.Request, size int64) {
	t.Helper()
	c := g.dialRaw(t)
	writeSignedHead(t, c, req, size, true)
	if ra := checkSlowDown(t, what, readWithin(t, c, 30*time.Second)); ra != 1 {
		t.Fatalf("%s: Retry-After %d; want 1", what, ra)
	}
	c.expectClosed(t)
}

// anonPut is an unsigned PUT of body to path (for the anonymous route).
func anonPut(t testing.TB, g *gateway, path string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
	return req
}

// testLimitInflight holds uploads in flight with Expect: 100-continue heads
// (admitted once 100 Continue comes) and checks the process cap (3) and
// the per-identity cap (1): refusals are 503 SlowDown with Retry-After: 1
// before 100 Continue, other identities are unaffected, and a place frees
// up when an upload finishes.
func testLimitInflight(t *testing.T, b *backend) {
	g := startGatewayWith(t, b, gwOptions{args: []string{"-max-inflight-uploads", "3", "-max-inflight-uploads-per-identity", "1"}},
		limSigV4, limAnon)
	defer noRaceReport(t, g)
	proc0, _ := g.metric(t, `mizuchi_limit_refusals_total{limit="inflight"}`)
	id0, _ := g.metric(t, `mizuchi_limit_refusals_total{limit="inflight_identity"}`)
	now := time.Now()
	big, small := genBytes(nextSeed(), 1*mib), genBytes(nextSeed(), 1*kib)
	signed := func(path string, body []byte, ak, sk string) *http.Request {
		return sdkSigned(t, g, path, body, ak, sk, backendRegion, now)
	}

	alice := holdPut(t, g, signed("/sig/inflight/alice.bin", big, aliceAK, aliceSK), int64(len(big))) // detached
	refusedPut(t, g, "alice's second upload", signed("/sig/inflight/alice2.bin", small, aliceAK, aliceSK), int64(len(small)))
	bob := holdPut(t, g, signed("/sig/inflight/bob.bin", small, limBobAK, limBobSK), int64(len(small))) // waits in the loop
	anon := holdPut(t, g, anonPut(t, g, "/lim/inflight/anon.bin", big), int64(len(big)))
	refusedPut(t, g, "carol over the process cap", signed("/sig/inflight/carol.bin", small, limCarolAK, limCarolSK), int64(len(small)))
	refusedPut(t, g, "anonymous over the process cap", anonPut(t, g, "/lim/inflight/anon2.bin", small), int64(len(small)))
	metricAtLeast(t, g, `mizuchi_limit_refusals_total{limit="inflight"}`, proc0+2)
	metricAtLeast(t, g, `mizuchi_limit_refusals_total{limit="inflight_identity"}`, id0+1)

	if r := finishPut(t, alice, big); r.status != 200 {
		t.Fatalf("alice's held upload: %s", r)
	}
	// Alice's place frees up once her exchange ends (just after the answer).
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := g.dialRaw(t)
		writeSignedHead(t, c, signed("/sig/inflight/carol.bin", small, limCarolAK, limCarolSK), int64(len(small)), true)
		r := readWithin(t, c, 30*time.Second)
		if r.status == 100 {
			if r := finishPut(t, c, small); r.status != 200 {
				t.Fatalf("carol after a place freed up: %s", r)
			}
			break
		}
		checkSlowDown(t, "carol while alice's upload ends", r)
		if time.Now().After(deadline) {
			t.Fatalf("carol is still refused after alice's upload finished")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, hr := range map[string]struct {
		c    *rawConn
		body []byte
	}{"bob": {bob, small}, "anonymous": {anon, big}} {
		if r := finishPut(t, hr.c, hr.body); r.status != 200 {
			t.Fatalf("%s's held upload: %s", name, r)
		}
	}
	got, n := b.objectSHA(t, limBucket, "sig/inflight/alice.bin")
	if n != int64(len(big)) || got != sha256Hex(big) {
		t.Fatalf("alice's object on the backend; got %d bytes", n)
	}
	for _, k := range []string{"sig/inflight/bob.bin", "sig/inflight/carol.bin", "anon/inflight/anon.bin"} {
		if !b.exists(t, limBucket, k) {
			t.Fatalf("%s was not stored", k)
		}
	}
	b.checkAbsent(t, limBucket, "sig/inflight/alice2.bin")
	b.checkAbsent(t, limBucket, "anon/inflight/anon2.bin")
	// Every place was given back: three uploads can be held again (the
	// last place returns just after its answer).
	var again []*rawConn
	deadline = time.Now().Add(20 * time.Second)
	for len(again) < 3 {
		c := g.dialRaw(t)
		writeSignedHead(t, c, anonPut(t, g, "/lim/inflight/again-"+strconv.Itoa(len(again)), small), int64(len(small)), true)
		r := readWithin(t, c, 30*time.Second)
		if r.status == 100 {
			again = append(again, c)
			continue
		}
		checkSlowDown(t, "an upload after the others ended", r)
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 3 uploads can be held after the others ended: a place leaked", len(again))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, c := range again {
		if r := finishPut(t, c, small); r.status != 200 {
			t.Fatalf("upload %d held after the others ended: %s", i, r)
		}
	}
}

// testLimitRate: with 0.1 requests per second and a burst of 3 per
// identity, alice's fourth request at once gets 503 SlowDown with a
// Retry-After of about 10s and stores nothing; bob is unaffected.
func testLimitRate(t *testing.T, b *backend) {
	g := startGatewayWith(t, b, gwOptions{args: []string{"-requests-per-second-per-identity", "0.1", "-burst-per-identity", "3"}}, limSigV4)
	defer noRaceReport(t, g)
	rate0, _ := g.metric(t, `mizuchi_limit_refusals_total{limit="rate"}`)
	body := genBytes(nextSeed(), 2*kib)
	send := func(key, ak, sk string) putResult {
		t.Helper()
		req := sdkSigned(t, g, "/sig/rate/"+key, body, ak, sk, backendRegion, time.Now())
		resp, err := g.client.Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return putResult{status: resp.StatusCode, header: resp.Header, body: data}
	}
	for i := 0; i < 3; i++ {
		if r := send("alice-"+strconv.Itoa(i), aliceAK, aliceSK); r.status != 200 {
			t.Fatalf("alice's request %d of the burst: %s", i+1, r)
		}
	}
	if ra := checkSlowDown(t, "alice past the burst", send("alice-over", aliceAK, aliceSK)); ra > 11 {
		t.Fatalf("alice past the burst: Retry-After %d; want at most 11 (one token every 10s)", ra)
	}
	b.checkAbsent(t, limBucket, "sig/rate/alice-over")
	metricAtLeast(t, g, `mizuchi_limit_refusals_total{limit="rate"}`, rate0+1)
	for i := 0; i < 3; i++ {
		if r := send("bob-"+strconv.Itoa(i), limBobAK, limBobSK); r.status != 200 {
			t.Fatalf("bob's request %d while alice is limited: %s", i+1, r)
		}
	}
}
