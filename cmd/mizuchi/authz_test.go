package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/internal/authztest"
)

// Identities of the authorization tests.
const (
	azBucket  = "authz-bucket"
	azAliceAK = "AKALICEZ"
	azAliceSK = "alice-secret-authz"
	azBobAK   = "AKBOBZ"
	azBobSK   = "bob-secret-authz"
	azEveAK   = "AKEVEZ" // a valid key the policy does not know
	azEveSK   = "eve-secret-authz"
)

// azAuth is the auth section of every authorization test route: SigV4
// (alice, bob, eve) and HS256 JWTs.
func azAuth() string {
	return "    auth:\n      enabled: true\n      sigv4:\n" +
		"        credentials:\n" +
		"          - {access_key: " + azAliceAK + ", secret_key: " + azAliceSK + ", subject: alice}\n" +
		"          - {access_key: " + azBobAK + ", secret_key: " + azBobSK + ", subject: bob}\n" +
		"          - {access_key: " + azEveAK + ", secret_key: " + azEveSK + ", subject: eve}\n" +
		"      jwt:\n        algorithm: HS256\n        secret: " + jwtSecret + "\n"
}

func azPolicyFile(t testing.TB) string {
	p, err := filepath.Abs(filepath.Join("testdata", "authz.rego"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestE2EAuthzOPA runs the same policy embedded and on a real OPA server:
// allowed uploads land on the backend, denied ones are refused before the
// body and leave nothing; every input field the policy keys on arrives;
// decisions are cached; a stopped or stalled server fails closed or open.
func TestE2EAuthzOPA(t *testing.T) {
	policyFile := azPolicyFile(t)
	opaURL, stopOPA := authztest.StartOPA(t, policyFile)
	stall := authztest.Stall(t)
	b := startBackend(t, azBucket)
	opaRoute := func(name, authz string) route {
		return route{name: name, pathPrefix: "/" + name, bucket: azBucket, keyPrefix: name + "/", extra: azAuth() +
			"    authz:\n      enabled: true\n" + authz}
	}
	g := startGateway(t, b,
		opaRoute("emb", "      type: opa\n      opa:\n        policy_file: "+policyFile+"\n        query: data.mizuchi.decision\n"),
		opaRoute("srv", "      type: opa_server\n      opa:\n        url: "+opaURL+"\n        policy_path: mizuchi/decision\n"+
			"        timeout_ms: 5000\n        cache_ttl_seconds: 300\n        cache_deny_ttl_seconds: 300\n"),
		opaRoute("srvopen", "      type: opa_server\n      fail_mode: open\n      opa:\n        url: "+opaURL+"\n        policy_path: mizuchi/decision\n"+
			"        timeout_ms: 5000\n        cache_ttl_seconds: 0\n"),
		opaRoute("srvttl", "      type: opa_server\n      opa:\n        url: "+opaURL+"\n        policy_path: mizuchi/decision\n"+
			"        timeout_ms: 5000\n        cache_ttl_seconds: 1\n"),
		opaRoute("stall", "      type: opa_server\n      opa:\n        url: "+stall+"\n        policy_path: mizuchi/decision\n        timeout_ms: 300\n"),
	)
	for _, name := range []string{"emb", "srv"} {
		t.Run(name, func(t *testing.T) {
			t.Run("Fields", func(t *testing.T) { testAuthzFields(t, g, b, name) })
			t.Run("BeforeBody", func(t *testing.T) { testAuthzBeforeBody(t, g, b, name) })
			t.Run("Multipart", func(t *testing.T) { testAuthzMultipart(t, g, b, name) })
		})
	}
	t.Run("Cache", func(t *testing.T) {
		before := opaDecisions(t, opaURL)
		seed := nextSeed()
		req := func() putResult {
			return g.signedPut(t, "/srv/alice/cached.bin", genBytes(seed, kib), azAliceAK, azAliceSK, nil)
		}
		if r := req(); r.status != 200 {
			t.Fatalf("first upload: %s", r)
		}
		if n := opaDecisions(t, opaURL) - before; n != 1 {
			t.Fatalf("OPA server answered %d decisions for one upload; want 1", n)
		}
		if r := req(); r.status != 200 {
			t.Fatalf("second upload: %s", r)
		}
		if n := opaDecisions(t, opaURL) - before; n != 1 {
			t.Fatalf("OPA server answered %d decisions for two identical uploads; want 1 (cached)", n)
		}
		b.checkObject(t, azBucket, "srv/alice/cached.bin", seed, kib)
		if v, _ := g.metric(t, `mizuchi_authz_cache_hits_total{route="srv",engine="opa_server"}`); v < 1 {
			t.Fatalf("no cache hit counted")
		}
	})
	t.Run("CacheExpiry", func(t *testing.T) {
		// cache_ttl_seconds: 1. The first request is a call; identical
		// requests within the second are not; once the entry expired,
		// the next identical request makes exactly one more call.
		body := genBytes(nextSeed(), kib)
		req := func() {
			t.Helper()
			if r := g.signedPut(t, "/srvttl/alice/ttl.bin", body, azAliceAK, azAliceSK, nil); r.status != 200 {
				t.Fatalf("upload: %s", r)
			}
		}
		before := opaDecisions(t, opaURL)
		start := time.Now()
		req()
		req()
		if n := opaDecisions(t, opaURL) - before; n != 1 && time.Since(start) < time.Second {
			t.Fatalf("%d calls for two identical uploads within the TTL; want 1", n)
		}
		deadline := time.Now().Add(30 * time.Second)
		for opaDecisions(t, opaURL)-before < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("no new call 30s after a 1s TTL")
			}
			time.Sleep(100 * time.Millisecond)
			req()
		}
		if time.Since(start) < time.Second {
			t.Fatalf("a second call within the 1s TTL")
		}
	})
	t.Run("Stalled", func(t *testing.T) {
		start := time.Now()
		r := g.signedPut(t, "/stall/alice/s.bin", []byte("x"), azAliceAK, azAliceSK, nil)
		if code := checkS3Error(t, "stalled server", r, false); r.status != 503 || code != "ServiceUnavailable" {
			t.Fatalf("stalled server: got %s; want 503 ServiceUnavailable", r)
		}
		if r.header.Get("Retry-After") == "" {
			t.Fatalf("503 without Retry-After: %s", r)
		}
		// 300 ms timeout; a busy machine may add scheduling delay, never
		// the seconds a waiting request would take.
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("stalled server answered after %v; timeout is 300ms", d)
		}
		b.checkAbsent(t, azBucket, "stall/alice/s.bin")
	})
	t.Run("ServerStopped", func(t *testing.T) {
		stopOPA()
		r := g.signedPut(t, "/srv/alice/down.bin", []byte("down"), azAliceAK, azAliceSK, nil)
		if code := checkS3Error(t, "closed", r, false); r.status != 503 || code != "ServiceUnavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("fail_mode closed with the server down: got %s; want 503 ServiceUnavailable with Retry-After", r)
		}
		b.checkAbsent(t, azBucket, "srv/alice/down.bin")
		seed := nextSeed()
		if r := g.signedPut(t, "/srvopen/alice/up.bin", genBytes(seed, kib), azAliceAK, azAliceSK, nil); r.status != 200 {
			t.Fatalf("fail_mode open with the server down: %s", r)
		}
		b.checkObject(t, azBucket, "srvopen/alice/up.bin", seed, kib)
		if v, _ := g.metric(t, `mizuchi_authz_fail_open_total{route="srvopen",engine="opa_server"}`); v < 1 {
			t.Fatalf("fail-open decision not counted")
		}
	})
}

// testAuthzFields: one denial per input field the policy keys on, for SigV4
// and JWT clients, each refused with the policy's reason and nothing
// stored; and the allowed uploads next to them.
func testAuthzFields(t *testing.T, g *gateway, b *backend, rt string) {
	hs := func(sub string, mod func(jwt.MapClaims)) http.Header {
		tok := sign(t, jwt.SigningMethodHS256, "", []byte(jwtSecret), claims(sub, mod))
		return http.Header{"Authorization": {"Bearer " + tok}}
	}
	tenant := func(v string) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c["tenant"] = v } }
	type sender func(key string, body []byte, hdr http.Header) putResult
	sig := func(ak, sk string) sender {
		return func(key string, body []byte, hdr http.Header) putResult {
			return g.signedPut(t, "/"+rt+"/"+key, body, ak, sk, hdr)
		}
	}
	bearer := func(h http.Header) sender {
		return func(key string, body []byte, hdr http.Header) putResult {
			all := h.Clone()
			for k, v := range hdr {
				all[k] = v
			}
			return g.do(t, http.MethodPut, "/"+rt+"/"+key, body, all)
		}
	}
	alice, eve := sig(azAliceAK, azAliceSK), sig(azEveAK, azEveSK)
	jwtAlice := bearer(hs("alice", tenant("t1")))
	ok := func(name string, send sender, key string, n int, hdr http.Header) {
		t.Helper()
		seed := nextSeed()
		if r := send(key, genBytes(seed, int64(n)), hdr); r.status != 200 {
			t.Fatalf("%s: allowed upload failed: %s", name, r)
		}
		b.checkObject(t, azBucket, rt+"/"+key, seed, int64(n))
	}
	denied := func(name string, send sender, key string, n int, hdr http.Header, reason string) {
		t.Helper()
		r := send(key, genBytes(nextSeed(), int64(n)), hdr)
		if code := checkS3Error(t, name, r, false); r.status != 403 || code != "AccessDenied" {
			t.Fatalf("%s: got %s; want 403 AccessDenied", name, r)
		}
		if !strings.Contains(string(r.body), reason) {
			t.Fatalf("%s: the error does not carry the policy's reason %q: %s", name, reason, r.body)
		}
		b.checkAbsent(t, azBucket, rt+"/"+key)
	}
	ct := func(v string) http.Header { return http.Header{"Content-Type": {v}} }

	ok("sigv4", alice, "alice/f/ok.bin", kib, ct("application/pdf"))
	ok("jwt", jwtAlice, "alice/f/jwt.bin", kib, nil)
	ok("sigv4 meta", alice, "alice/f/meta.bin", kib, http.Header{"X-Amz-Meta-Block": {"no"}})

	for _, c := range []struct {
		name string
		send sender
	}{{"sigv4", alice}, {"jwt", jwtAlice}} {
		denied(c.name+" key", c.send, "bob/f/x.bin", kib, nil, "key outside your folder")
		denied(c.name+" content_length", c.send, "alice/f/big.bin", mib+1, nil, "object too large")
		denied(c.name+" content_type", c.send, "alice/f/ct.bin", kib, ct("application/x-forbidden"), "content type not allowed")
		denied(c.name+" headers", c.send, "alice/f/hdr.bin", kib, http.Header{"X-Amz-Meta-Block": {"yes"}}, "blocked by metadata")
	}
	denied("jwt claims", bearer(hs("alice", tenant("t2"))), "alice/f/t2.bin", kib, nil, "wrong tenant")
	denied("jwt no claim", bearer(hs("alice", nil)), "alice/f/none.bin", kib, nil, "wrong tenant")
	denied("sigv4 access_key", eve, "eve/f/x.bin", kib, nil, "unknown access key")

	// A policy-visible header sent twice could show the policy one value
	// and the backend another: refused before the policy is asked.
	r := alice("alice/f/twice.bin", genBytes(nextSeed(), kib), http.Header{"X-Amz-Meta-Block": {"yes", "no"}})
	if code := checkS3Error(t, "repeated header", r, false); r.status != 400 || code != "InvalidArgument" {
		t.Fatalf("repeated x-amz-meta-block: got %s; want 400 InvalidArgument", r)
	}
	b.checkAbsent(t, azBucket, rt+"/alice/f/twice.bin")
}

// testAuthzBeforeBody: a denial answers a head sent with Expect:
// 100-continue; the body is never asked for.
func testAuthzBeforeBody(t *testing.T, g *gateway, b *backend, rt string) {
	for _, n := range []int64{kib, 64 * mib} {
		key := rt + "/bob/early-" + strconv.FormatInt(n, 10) + ".bin"
		req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+"/"+key, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = n
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: azAliceAK, SecretAccessKey: azAliceSK},
			req, "UNSIGNED-PAYLOAD", "s3", backendRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		c := g.dialRaw(t)
		writeSignedHead(t, c, req, n, true)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("%d bytes: no response before the body: %v", n, err)
		}
		if code := checkS3Error(t, "before body", r, false); r.status != 403 || code != "AccessDenied" {
			t.Fatalf("%d bytes: got %s; want 403 AccessDenied (and no 100 Continue)", n, r)
		}
		c.Close()
		b.checkAbsent(t, azBucket, key)
	}
}

// testAuthzMultipart: CreateMultipartUpload, UploadPart and
// CompleteMultipartUpload are each authorized; a denied one leaves the
// backend unchanged.
func testAuthzMultipart(t *testing.T, g *gateway, b *backend, rt string) {
	ctx := context.Background()
	c := clientS3(g, azAliceAK, azAliceSK, nil)
	bucket := aws.String(rt)
	wantDenied := func(what string, err error, reason string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || !strings.Contains(ae.ErrorMessage(), reason) {
			t.Fatalf("%s: got %v; want AccessDenied with %q", what, err, reason)
		}
	}
	_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("bob/mp.bin")})
	wantDenied("create outside folder", err, "key outside your folder")
	if n := b.pendingUploads(t, azBucket); n != 0 {
		t.Fatalf("a denied CreateMultipartUpload left %d uploads on the backend", n)
	}

	upload := func(key string, parts int) (*string, []s3types.CompletedPart, [][]byte) {
		t.Helper()
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatalf("create %s: %v", key, err)
		}
		var done []s3types.CompletedPart
		var bodies [][]byte
		for i := 1; i <= parts; i++ {
			body := genBytes(nextSeed(), 5*mib)
			up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String(key), UploadId: cr.UploadId,
				PartNumber: aws.Int32(int32(i)), Body: bytes.NewReader(body)})
			if err != nil {
				t.Fatalf("part %d of %s: %v", i, key, err)
			}
			done = append(done, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i))})
			bodies = append(bodies, body)
		}
		return cr.UploadId, done, bodies
	}

	id, parts, bodies := upload("alice/mp/ok.bin", 2)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("alice/mp/ok.bin"), UploadId: id,
		PartNumber: aws.Int32(3), Body: bytes.NewReader(genBytes(nextSeed(), 5*mib))})
	wantDenied("part 3", err, "too many parts")
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("alice/mp/ok.bin"),
		UploadId: id, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	sum := append(append([]byte(nil), bodies[0]...), bodies[1]...)
	if got, n := b.objectSHA(t, azBucket, rt+"/alice/mp/ok.bin"); got != sha256Hex(sum) || n != int64(len(sum)) {
		t.Fatalf("completed object differs: %d bytes", n)
	}

	id, parts, _ = upload("alice/mp/nocomplete.bin", 1)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("alice/mp/nocomplete.bin"),
		UploadId: id, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	wantDenied("complete", err, "completion refused")
	b.checkAbsent(t, azBucket, rt+"/alice/mp/nocomplete.bin")
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String("alice/mp/nocomplete.bin"), UploadId: id}); err != nil {
		t.Fatalf("abort: %v", err)
	}
}

// signedPut sends a PutObject signed by aws-sdk-go-v2's signer with extra
// headers (signed too).
func (g *gateway) signedPut(t testing.TB, path string, body []byte, ak, sk string, hdr http.Header) putResult {
	t.Helper()
	req := sdkSignedWith(t, g, path, body, ak, sk, hdr)
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return putResult{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
}

// sdkSignedWith is sdkSigned (PUT, signed now) with extra headers, which
// are signed too.
func sdkSignedWith(t testing.TB, g *gateway, path string, body []byte, ak, sk string, hdr http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	sum := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req, sum, "s3", backendRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// opaDecisions is how many decisions the OPA server at url answered (its
// own request counter for the Data API): the server-side count of remote
// calls.
func opaDecisions(t testing.TB, url string) int {
	t.Helper()
	return int(promValue(t, url+"/metrics", `http_request_duration_seconds_count{code="200",handler="v1/data",method="post"}`))
}

// promValue reads one series from a Prometheus text endpoint; 0 when the
// series is absent.
func promValue(t testing.TB, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("cannot read metrics at %s: %v", url, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("bad metric line %q", sc.Text())
			}
			return n
		}
	}
	return 0
}

// TestE2EAuthzReload: policies reload on SIGHUP; a policy that does not
// compile refuses the reload and the old one keeps deciding.
func TestE2EAuthzReload(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.rego")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(policyFile, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("package mizuchi\nimport rego.v1\nallow if startswith(input.key, \"alice/\")\n")
	b := startBackend(t, azBucket)
	g := startGateway(t, b, route{name: "rl", pathPrefix: "/rl", bucket: azBucket, keyPrefix: "rl/", extra: azAuth() +
		"    authz:\n      enabled: true\n      opa:\n        policy_file: " + policyFile + "\n"})
	status := func(key string) int {
		t.Helper()
		return g.signedPut(t, "/rl/"+key, []byte("x"), azAliceAK, azAliceSK, nil).status
	}
	if s1, s2 := status("alice/a"), status("bob/a"); s1 != 200 || s2 != 403 {
		t.Fatalf("first policy: got %d and %d; want 200 and 403", s1, s2)
	}
	hup := func(logLine string) { t.Helper(); g.sighup(t, logLine) }
	write("package mizuchi\nallow if { this is not rego\n")
	hup("reload refused")
	if s1, s2 := status("alice/b"), status("bob/b"); s1 != 200 || s2 != 403 {
		t.Fatalf("after a broken policy: got %d and %d; want the old policy's 200 and 403", s1, s2)
	}
	write("package mizuchi\nimport rego.v1\nallow if startswith(input.key, \"bob/\")\n")
	hup("configuration reloaded")
	if s1, s2 := status("alice/c"), status("bob/c"); s1 != 403 || s2 != 200 {
		t.Fatalf("after a good reload: got %d and %d; want 403 and 200", s1, s2)
	}
	b.checkAbsent(t, azBucket, "rl/bob/a")
	b.checkAbsent(t, azBucket, "rl/bob/b")
	b.checkAbsent(t, azBucket, "rl/alice/c")
}
