package main

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30

	mainBucket = "backend-bucket"
	bucketA    = "bucket-a"
	bucketAB   = "bucket-ab"
)

// seeds gives every upload in the suite its own content.
var seeds atomic.Uint64

func nextSeed() uint64 { return seeds.Add(1)*7919 + uint64(time.Now().UnixNano()) }

// TestE2E runs the end-to-end suite against one backend and one gateway.
// Subtests run one after another: several of them read process-wide
// counters and RSS.
func TestE2E(t *testing.T) {
	b := startBackend(t, mainBucket, bucketA, bucketAB)
	g := startGateway(t, b,
		route{name: "uploads", pathPrefix: "/uploads", bucket: mainBucket},
		route{name: "prefixed", pathPrefix: "/prefixed", bucket: mainBucket, keyPrefix: "pfx/"},
		route{name: "alpha", pathPrefix: "/a", bucket: bucketA},
		route{name: "alphabeta", pathPrefix: "/a/b", bucket: bucketAB},
	)

	t.Run("PutObjectSizes", func(t *testing.T) { testPutObjectSizes(t, g, b) })
	t.Run("KeepAlive", func(t *testing.T) { testKeepAlive(t, g, b) })
	t.Run("Pipelining", func(t *testing.T) { testPipelining(t, g, b) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, g, b) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, g, b) })
	t.Run("IntegritySHA256", func(t *testing.T) { testIntegritySHA256(t, g, b) })
	t.Run("IntegrityMD5", func(t *testing.T) { testIntegrityMD5(t, g, b) })
	t.Run("RejectedOperations", func(t *testing.T) { testRejectedOperations(t, g, b) })
	t.Run("Malformed", func(t *testing.T) { testMalformed(t, g, b) })
	t.Run("HeadTooLarge", func(t *testing.T) { testHeadTooLarge(t, g, b) })
	t.Run("ClientDisconnect", func(t *testing.T) { testClientDisconnect(t, g, b) })
	t.Run("SpliceCopyCounters", func(t *testing.T) { testSpliceCopyCounters(t, g, b) })
	t.Run("Memory", func(t *testing.T) { testMemory(t, g, b) })
	t.Run("KeyPrefix", func(t *testing.T) { testKeyPrefix(t, g, b) })
	t.Run("LongestPrefix", func(t *testing.T) { testLongestPrefix(t, g, b) })
	t.Run("AWSCLI", func(t *testing.T) { testAWSCLI(t, g, b) })
}

func testPutObjectSizes(t *testing.T, g *gateway, b *backend) {
	sizes := []int64{0, kib, mib, 64 * mib, gib}
	i := 0
	for _, size := range sizes {
		for _, expect := range []bool{false, true} {
			mode := shaMode(i % 3)
			i++
			name := fmt.Sprintf("size=%d,expect=%v,sha=%s", size, expect, mode)
			t.Run(name, func(t *testing.T) {
				if size >= gib && testing.Short() {
					t.Skip("1 GiB upload skipped in -short mode")
				}
				seed := nextSeed()
				key := fmt.Sprintf("sizes/%d-%v-%s.bin", size, expect, mode)
				start := time.Now()
				r := g.mustPut(t, "/uploads/"+key, seed, size, putOpts{expect: expect, sha: mode})
				if size >= 64*mib {
					t.Logf("PUT %d bytes took %s", size, time.Since(start))
				}
				if r.header.Get("ETag") == "" {
					t.Errorf("missing ETag in the PUT response: %s", r)
				}
				b.checkObject(t, mainBucket, key, seed, size)
				if size >= 64*mib {
					b.remove(t, mainBucket, key)
				}
			})
		}
	}
}

func testKeepAlive(t *testing.T, g *gateway, b *backend) {
	c := g.dialRaw(t)
	sizes := []int64{kib, mib, 4 * mib, kib, kib, 4 * mib, mib, kib, 4 * mib, kib}
	type up struct {
		key  string
		seed uint64
		size int64
	}
	var ups []up
	for i := 0; i < 20; i++ {
		u := up{key: fmt.Sprintf("keepalive/%02d.bin", i), seed: nextSeed(), size: sizes[i%len(sizes)]}
		if err := c.writePut("/uploads/"+u.key, u.seed, u.size); err != nil {
			t.Fatalf("request %d (%d bytes): cannot write: %v", i, u.size, err)
		}
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("request %d (%d bytes): cannot read the response on the same connection: %v", i, u.size, err)
		}
		if r.status != http.StatusOK {
			t.Fatalf("request %d (%d bytes): unexpected result: %s", i, u.size, r)
		}
		if strings.EqualFold(r.header.Get("Connection"), "close") {
			t.Fatalf("request %d: gateway asked to close a keep-alive connection", i)
		}
		ups = append(ups, u)
	}
	for _, u := range ups {
		b.checkObject(t, mainBucket, u.key, u.seed, u.size)
	}
}

func testPipelining(t *testing.T, g *gateway, b *backend) {
	c := g.dialRaw(t)
	seed1, seed2 := nextSeed(), nextSeed()
	// Write both requests in one go, before reading anything.
	var req []byte
	for i, s := range []uint64{seed1, seed2} {
		body := genBytes(s, 2*kib)
		req = fmt.Appendf(req, "PUT /uploads/pipelined/%d.bin HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", i, g.addr, len(body))
		req = append(req, body...)
	}
	if _, err := c.Write(req); err != nil {
		t.Fatalf("cannot write pipelined requests: %v", err)
	}
	for i := 0; i < 2; i++ {
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("cannot read response %d: %v", i, err)
		}
		if r.status != http.StatusOK {
			t.Fatalf("pipelined request %d: unexpected result: %s", i, r)
		}
	}
	b.checkObject(t, mainBucket, "pipelined/0.bin", seed1, 2*kib)
	b.checkObject(t, mainBucket, "pipelined/1.bin", seed2, 2*kib)
}

func testConcurrent(t *testing.T, g *gateway, b *backend) {
	const n = 32
	type up struct {
		key  string
		seed uint64
		size int64
		res  putResult
		err  error
	}
	ups := make([]up, n)
	var wg sync.WaitGroup
	for i := range ups {
		size := int64(4 * kib)
		if i%2 == 1 {
			size = 8 * mib
		}
		ups[i] = up{key: fmt.Sprintf("concurrent/%02d.bin", i), seed: nextSeed(), size: size}
		genSHA(ups[i].seed, size) // warm the cache before the race starts
		wg.Add(1)
		go func(u *up) {
			defer wg.Done()
			// t.Fatal must not be called off the test goroutine: use a
			// plain request here.
			req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+"/uploads/"+u.key, newHashedGen(u.seed, u.size))
			if err != nil {
				u.err = err
				return
			}
			req.ContentLength = u.size
			req.Header.Set("X-Amz-Content-Sha256", genSHA(u.seed, u.size))
			resp, err := g.client.Do(req)
			if err != nil {
				u.err = err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			u.res = putResult{status: resp.StatusCode, header: resp.Header, body: body}
			u.err = err
		}(&ups[i])
	}
	wg.Wait()
	for _, u := range ups {
		if u.err != nil {
			t.Errorf("PUT %s (%d bytes): %v", u.key, u.size, u.err)
			continue
		}
		if u.res.status != http.StatusOK {
			t.Errorf("PUT %s (%d bytes): unexpected result: %s", u.key, u.size, u.res)
			continue
		}
		b.checkObject(t, mainBucket, u.key, u.seed, u.size)
	}
}

func testKeys(t *testing.T, g *gateway, b *backend) {
	keys := []string{
		"keys/with spaces/file name.txt",
		"keys/ключ/日本語.txt",
		"keys/plus+sign+.bin",
		"keys/percent%20literal%.bin",
		"keys/deep/nested/dir/structure/obj",
		"keys/tilde~name",
		"keys/equals=sign=.bin",
		"keys/mixed (1) & [2] ,;:@$!'*.bin",
	}
	for i, key := range keys {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			seed := nextSeed()
			r := g.put(t, "/uploads/"+s3EscapePath(key), seed, kib, putOpts{sha: shaMode(i % 3)})
			if r.status != http.StatusOK {
				t.Fatalf("PUT of key %q: unexpected result: %s", key, r)
			}
			b.checkObject(t, mainBucket, key, seed, kib)
		})
	}
}

func testIntegritySHA256(t *testing.T, g *gateway, b *backend) {
	for _, expect := range []bool{false, true} {
		for _, size := range []int64{kib, 2 * mib} { // copy path and splice path
			t.Run(fmt.Sprintf("size=%d,expect=%v", size, expect), func(t *testing.T) {
				key := fmt.Sprintf("integrity/sha-%d-%v.bin", size, expect)
				sent, claimed := nextSeed(), nextSeed()
				hdr := http.Header{"X-Amz-Content-Sha256": {genSHA(claimed, size)}}
				r := g.put(t, "/uploads/"+key, sent, size, putOpts{expect: expect, header: hdr})
				code := checkS3Error(t, "PUT with a wrong x-amz-content-sha256", r, false)
				if r.status >= 500 {
					t.Fatalf("unexpected status; got %s; want 4xx", r)
				}
				if code != "XAmzContentSHA256Mismatch" && code != "BadDigest" {
					t.Fatalf("unexpected error code; got %q; want XAmzContentSHA256Mismatch or BadDigest (%s)", code, r)
				}
				b.checkAbsent(t, mainBucket, key)
			})
		}
	}
}

func testIntegrityMD5(t *testing.T, g *gateway, b *backend) {
	for _, size := range []int64{kib, 2 * mib} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			key := fmt.Sprintf("integrity/md5-%d.bin", size)
			sent, claimed := nextSeed(), nextSeed()
			h := md5.New()
			io.Copy(h, newGen(claimed, size))
			hdr := http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(h.Sum(nil))}}
			r := g.put(t, "/uploads/"+key, sent, size, putOpts{header: hdr})
			code := checkS3Error(t, "PUT with a wrong Content-MD5", r, false)
			if r.status >= 500 {
				t.Fatalf("unexpected status; got %s; want 4xx", r)
			}
			if code != "BadDigest" && code != "InvalidDigest" {
				t.Fatalf("unexpected error code; got %q; want BadDigest (%s)", code, r)
			}
			b.checkAbsent(t, mainBucket, key)

			// The right digest passes.
			h = md5.New()
			io.Copy(h, newGen(sent, size))
			hdr = http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(h.Sum(nil))}}
			g.mustPut(t, "/uploads/"+key, sent, size, putOpts{header: hdr})
			b.checkObject(t, mainBucket, key, sent, size)
		})
	}
}

func testRejectedOperations(t *testing.T, g *gateway, b *backend) {
	const key = "rejected/victim.bin"
	seed := nextSeed()
	g.mustPut(t, "/uploads/"+key, seed, 4*kib, putOpts{})
	b.checkObject(t, mainBucket, key, seed, 4*kib)

	f := func(method, path string) {
		t.Helper()
		r := g.do(t, method, path, nil, nil)
		code := checkS3Error(t, method+" "+path, r, method == http.MethodHead)
		if r.status == http.StatusOK || r.status == http.StatusNoContent {
			t.Fatalf("%s %s was proxied: %s", method, path, r)
		}
		if method != http.MethodHead && code == "" {
			t.Fatalf("%s %s: empty <Code>: %s", method, path, r)
		}
		if strings.Contains(string(r.body), seedPrefix(seed)) {
			t.Fatalf("%s %s: object content leaked", method, path)
		}
	}
	f(http.MethodGet, "/uploads/"+key)
	f(http.MethodHead, "/uploads/"+key)
	f(http.MethodDelete, "/uploads/"+key)
	f(http.MethodGet, "/uploads")
	f(http.MethodGet, "/uploads/")
	f(http.MethodGet, "/uploads?list-type=2")
	f(http.MethodGet, "/nosuchroute/x")
	f(http.MethodPut, "/nosuchroute/x")
	f(http.MethodPost, "/uploads/"+key+"?delete")
	f(http.MethodDelete, "/uploads/"+key+"?tagging")

	// PUT with x-amz-copy-source (CopyObject) must not copy anything.
	r := g.do(t, http.MethodPut, "/uploads/rejected/copy.bin", nil,
		http.Header{"X-Amz-Copy-Source": {"/" + mainBucket + "/" + key}})
	checkS3Error(t, "CopyObject", r, false)
	b.checkAbsent(t, mainBucket, "rejected/copy.bin")

	b.checkObject(t, mainBucket, key, seed, 4*kib)
	b.checkAbsent(t, mainBucket, "x")
	b.checkAbsent(t, mainBucket, "nosuchroute/x")
}

// seedPrefix is a marker no error body should contain: the first bytes of
// the object, hex-less but distinctive enough.
func seedPrefix(seed uint64) string { return string(genBytes(seed, 16)) }

func testMalformed(t *testing.T, g *gateway, b *backend) {
	f := func(name, req string) {
		t.Run(name, func(t *testing.T) {
			c := g.dialRaw(t)
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatalf("cannot write: %v", err)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			r, err := c.readResponse(http.MethodPut)
			if err != nil {
				t.Fatalf("cannot read the response: %v", err)
			}
			if r.status != http.StatusBadRequest {
				t.Fatalf("unexpected status; got %s; want 400", r)
			}
			c.expectClosed(t)
		})
	}
	host := "Host: " + g.addr + "\r\n"
	f("ContentLengthNotNumber", "PUT /uploads/malformed/a HTTP/1.1\r\n"+host+"Content-Length: abc\r\n\r\nhello")
	f("ContentLengthAndChunked", "PUT /uploads/malformed/b HTTP/1.1\r\n"+host+
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	f("DuplicateContentLength", "PUT /uploads/malformed/c HTTP/1.1\r\n"+host+
		"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
	f("NegativeContentLength", "PUT /uploads/malformed/d HTTP/1.1\r\n"+host+"Content-Length: -5\r\n\r\n")
	f("BadRequestLine", "PUT  /uploads/malformed/e HTTP/1.1 extra\r\n"+host+"Content-Length: 0\r\n\r\n")
	f("SpaceBeforeColon", "PUT /uploads/malformed/f HTTP/1.1\r\n"+host+"Content-Length : 5\r\n\r\nhello")
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		b.checkAbsent(t, mainBucket, "malformed/"+k)
	}
}

func testHeadTooLarge(t *testing.T, g *gateway, b *backend) {
	c := g.dialRaw(t)
	// 1 MiB of headers, far over any sane head limit; write it from a
	// goroutine because the gateway may stop reading early.
	werr := make(chan error, 1)
	go func() {
		head := "PUT /uploads/toolarge/x HTTP/1.1\r\nHost: " + g.addr + "\r\nContent-Length: 5\r\n"
		if _, err := io.WriteString(c, head); err != nil {
			werr <- err
			return
		}
		pad := "X-Pad: " + strings.Repeat("p", 8*kib-10) + "\r\n"
		for i := 0; i < 128; i++ {
			if _, err := io.WriteString(c, pad); err != nil {
				werr <- err
				return
			}
		}
		_, err := io.WriteString(c, "\r\nhello")
		werr <- err
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	r, err := c.readResponse(http.MethodPut)
	if err != nil {
		t.Fatalf("cannot read the response: %v", err)
	}
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("unexpected status; got %s; want 431", r)
	}
	b.checkAbsent(t, mainBucket, "toolarge/x")
}

func testClientDisconnect(t *testing.T, g *gateway, b *backend) {
	for _, sent := range []int64{10 * mib, 100 * kib} {
		t.Run(fmt.Sprintf("sent=%d", sent), func(t *testing.T) {
			key := fmt.Sprintf("disconnect/%d.bin", sent)
			c := g.dialRaw(t)
			if err := c.writePutHead("/uploads/"+key, 64*mib, ""); err != nil {
				t.Fatalf("cannot write head: %v", err)
			}
			if _, err := io.Copy(c, newGen(nextSeed(), sent)); err != nil {
				t.Fatalf("cannot write body: %v", err)
			}
			c.Close()
			// The object must never appear.
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				b.checkAbsent(t, mainBucket, key)
				time.Sleep(200 * time.Millisecond)
			}
			// And the gateway still serves.
			seed := nextSeed()
			g.mustPut(t, "/uploads/"+key+".after", seed, 2*mib, putOpts{})
			b.checkObject(t, mainBucket, key+".after", seed, 2*mib)
			b.checkAbsent(t, mainBucket, key)
		})
	}
}

func testSpliceCopyCounters(t *testing.T, g *gateway, b *backend) {
	const splice = `mizuchi_body_bytes_total{path="splice"}`
	const cp = `mizuchi_body_bytes_total{path="copy"}`

	s0, _ := g.metric(t, splice)
	seed := nextSeed()
	g.mustPut(t, "/uploads/counters/big.bin", seed, 64*mib, putOpts{})
	s1, found := g.metric(t, splice)
	if !found {
		t.Fatalf("metric %s not exported", splice)
	}
	if s1-s0 < 64*mib-256*kib {
		t.Fatalf("splice counter grew too little after a 64 MiB PUT; got +%.0f; want >= %d", s1-s0, 64*mib-256*kib)
	}
	b.checkObject(t, mainBucket, "counters/big.bin", seed, 64*mib)
	b.remove(t, mainBucket, "counters/big.bin")

	c0, _ := g.metric(t, cp)
	s0, _ = g.metric(t, splice)
	seed = nextSeed()
	g.mustPut(t, "/uploads/counters/small.bin", seed, kib, putOpts{})
	c1, found := g.metric(t, cp)
	if !found {
		t.Fatalf("metric %s not exported", cp)
	}
	s1, _ = g.metric(t, splice)
	if c1-c0 < kib {
		t.Fatalf("copy counter grew too little after a 1 KiB PUT; got +%.0f; want >= %d", c1-c0, kib)
	}
	if s1 != s0 {
		t.Fatalf("splice counter grew after a 1 KiB PUT; got +%.0f; want 0", s1-s0)
	}
	b.checkObject(t, mainBucket, "counters/small.bin", seed, kib)

	v, found := g.metric(t, `mizuchi_requests_total{route="uploads",op="PutObject",status="200"}`)
	if !found || v < 2 {
		t.Fatalf("unexpected mizuchi_requests_total for successful PutObject; got %v (found=%v); want >= 2", v, found)
	}
}

func testMemory(t *testing.T, g *gateway, b *backend) {
	size := int64(gib)
	if testing.Short() {
		size = 256 * mib
	}
	const limit = 200 * mib
	before, peakRSS := sampleRSS(t, g.pid())
	seed := nextSeed()
	start := time.Now()
	r := g.put(t, "/uploads/memory/big.bin", seed, size, putOpts{expect: true, sha: shaUnsigned})
	elapsed := time.Since(start)
	peak := peakRSS()
	t.Logf("gateway VmRSS: before %.1f MiB, peak %.1f MiB during a %d MiB upload (%s, %.0f MiB/s)",
		float64(before)/mib, float64(peak)/mib, size/mib, elapsed.Round(time.Millisecond), float64(size)/mib/elapsed.Seconds())
	if r.status != http.StatusOK {
		t.Fatalf("unexpected PUT result: %s", r)
	}
	if peak >= limit && rssChecked(t) {
		t.Fatalf("gateway peak RSS too high; got %.1f MiB; want < %d MiB", float64(peak)/mib, limit/mib)
	}
	b.checkObject(t, mainBucket, "memory/big.bin", seed, size)
	b.remove(t, mainBucket, "memory/big.bin")
}

func testKeyPrefix(t *testing.T, g *gateway, b *backend) {
	seed := nextSeed()
	g.mustPut(t, "/prefixed/dir/obj.bin", seed, 3*kib, putOpts{sha: shaHex})
	b.checkObject(t, mainBucket, "pfx/dir/obj.bin", seed, 3*kib)
	b.checkAbsent(t, mainBucket, "dir/obj.bin")

	seed = nextSeed()
	g.mustPut(t, "/prefixed/big.bin", seed, 2*mib, putOpts{expect: true})
	b.checkObject(t, mainBucket, "pfx/big.bin", seed, 2*mib)
}

func testLongestPrefix(t *testing.T, g *gateway, b *backend) {
	seed := nextSeed()
	g.mustPut(t, "/a/b/x.bin", seed, kib, putOpts{})
	b.checkObject(t, bucketAB, "x.bin", seed, kib)
	b.checkAbsent(t, bucketA, "b/x.bin")

	seed = nextSeed()
	g.mustPut(t, "/a/y.bin", seed, kib, putOpts{})
	b.checkObject(t, bucketA, "y.bin", seed, kib)
	b.checkAbsent(t, bucketAB, "y.bin")

	// /ab/x does not belong to the /a route.
	r := g.put(t, "/ab/z.bin", nextSeed(), kib, putOpts{})
	checkS3Error(t, "PUT /ab/z.bin", r, false)
	for _, bucket := range []string{bucketA, bucketAB, mainBucket} {
		for _, key := range []string{"b/z.bin", "z.bin", "ab/z.bin"} {
			b.checkAbsent(t, bucket, key)
		}
	}
}

func testAWSCLI(t *testing.T, g *gateway, b *backend) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "cli.bin")
	seed := nextSeed()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, newGen(seed, mib)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(aws, "s3", "cp", file, "s3://uploads/cli/obj.bin", "--endpoint-url", "http://"+g.addr, "--no-progress")
	env := []string{}
	for _, kv := range childEnv() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID=AKIAEXAMPLEE2E",
		"AWS_SECRET_ACCESS_KEY=anything-auth-is-off",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	done := make(chan struct{})
	var out []byte
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("aws s3 cp timed out:\n%s", out)
	}
	if err != nil {
		t.Fatalf("aws s3 cp failed: %v\n%s", err, out)
	}
	b.checkObject(t, mainBucket, "cli/obj.bin", seed, mib)
}

// TestE2EDevMode starts mizuchi without a config: it must start its own
// versitygw, print how to use it and accept an upload.
func TestE2EDevMode(t *testing.T) {
	vgw := versitygwPath(t)
	bin := mizuchiBinary(t)
	devDir := t.TempDir()
	g := &gateway{addr: freeAddr(t), admin: freeAddr(t)}
	g.proc = startProc(t, "mizuchi-dev", bin, "-dev-versitygw", vgw, "-dev-dir", devDir,
		"-listen", g.addr, "-admin-listen", g.admin)
	if err := g.waitReady(t); err != nil {
		t.Fatalf("dev mode did not become ready: %v", err)
	}
	g.client = newHTTPClient()

	want := "--endpoint-url http://" + g.addr
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(g.proc.stdout.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stdout does not show an example with %q:\n%s", want, g.proc.stdout.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := g.proc.stdout.String(); !strings.Contains(out, "aws s3 cp") {
		t.Fatalf("stdout does not show an `aws s3 cp` example:\n%s", out)
	}

	body := []byte("hello from the mizuchi e2e test\n")
	r := g.do(t, http.MethodPut, "/uploads/hello.txt", body, nil)
	if r.status != http.StatusOK {
		t.Fatalf("unexpected PUT result: %s", r)
	}
	var found []string
	err := filepath.WalkDir(devDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(filepath.ToSlash(p), "/uploads/hello.txt") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cannot walk the dev dir: %v", err)
	}
	if len(found) != 1 {
		t.Fatalf("unexpected files named uploads/hello.txt under %s; got %q; want exactly one", devDir, found)
	}
	got, err := os.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(body) {
		t.Fatalf("unexpected content of %s; got %q; want %q", found[0], got, body)
	}
}
