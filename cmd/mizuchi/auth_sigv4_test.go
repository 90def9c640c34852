package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// Client credentials the gateway issues in these tests (never the backend's).
const (
	authBucket = "auth-bucket"
	clientAK   = "AKCLIENTE2E1"
	clientSK   = "client-secret-e2e-1"
	aliceAK    = "AKALICEE2E"
	aliceSK    = "alice-secret-e2e"
	otherAK    = "AKOTHERE2E"
	otherSK    = "other-secret-e2e"
)

const streamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

// TestE2ESigV4 runs real SigV4 clients against routes that require SigV4
// and reads every object back from the backend.
func TestE2ESigV4(t *testing.T) {
	b := startBackend(t, authBucket)
	g := startGateway(t, b,
		route{name: "sig", pathPrefix: "/sig", bucket: authBucket, keyPrefix: "sig/", extra: "" +
			"    auth:\n      enabled: true\n      sigv4:\n" +
			"        region: us-east-1\n        max_clock_skew_seconds: 300\n" +
			"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n" +
			"        credentials:\n          - {access_key: " + aliceAK + ", secret_key: " + aliceSK + ", subject: alice}\n"},
		route{name: "other", pathPrefix: "/other", bucket: authBucket, keyPrefix: "other/", extra: "" +
			"    auth:\n      enabled: true\n      sigv4:\n" +
			"        access_key: " + otherAK + "\n        secret_key: " + otherSK + "\n"},
	)

	t.Run("SDKDefault", func(t *testing.T) { testSDKUpload(t, g, b, false) })
	t.Run("SDKUnsigned", func(t *testing.T) { testSDKUpload(t, g, b, true) })
	t.Run("MinioStreaming", func(t *testing.T) { testMinioStreaming(t, g, b) })
	t.Run("ChunkedSigned", func(t *testing.T) { testChunkedSigned(t, g, b) })
	t.Run("ChunkTampered", func(t *testing.T) { testChunkTampered(t, g, b) })
	t.Run("PresignedCurl", func(t *testing.T) { testPresignedCurl(t, g, b) })
	t.Run("UnsignedTrailerChunked", func(t *testing.T) { testUnsignedTrailerChunked(t, g, b) })
	t.Run("Rejected", func(t *testing.T) { testSigV4Rejected(t, g, b) })
	t.Run("RejectedBeforeBody", func(t *testing.T) { testSigV4RejectedBeforeBody(t, g, b) })
	t.Run("SlowBody", func(t *testing.T) { testSigV4SlowBody(t, g, b) })
}

// testSigV4SlowBody: a small body that arrives in pieces is waited for in
// the loop's buffer; the head is verified once, not on every read event
// (the success counter moves by one per request), and a tampered head is
// still refused.
func testSigV4SlowBody(t *testing.T, g *gateway, b *backend) {
	body := bytes.Repeat([]byte("slow body 0123456789abcdef\n"), 200<<10/27)
	send := func(req *http.Request) putResult {
		t.Helper()
		c := g.dialRaw(t)
		writeSignedHead(t, c, req, int64(len(body)), false)
		for off := 0; off < len(body); off += 16 << 10 {
			time.Sleep(15 * time.Millisecond) // one read event per piece
			if _, err := c.Write(body[off:min(off+16<<10, len(body))]); err != nil {
				break // refused from the head: the gateway closed after answering
			}
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("no response: %v", err)
		}
		return r
	}
	ok0, _ := g.metric(t, `mizuchi_auth_success_total{method="sigv4"}`)
	r := send(sdkSigned(t, g, "/sig/slow/a.bin", body, clientAK, clientSK, backendRegion, time.Now()))
	if r.status != 200 {
		t.Fatalf("slow signed PUT: %s", r)
	}
	if ok, _ := g.metric(t, `mizuchi_auth_success_total{method="sigv4"}`); ok != ok0+1 {
		t.Fatalf("sigv4 successes for one request sent in %d pieces; got %v; want 1", (len(body)+16<<10-1)/(16<<10), ok-ok0)
	}
	got, n := b.objectSHA(t, authBucket, "sig/slow/a.bin")
	if n != int64(len(body)) || got != sha256Hex(body) {
		t.Fatalf("stored object; got %d bytes %s; want %d bytes %s", n, got, len(body), sha256Hex(body))
	}
	r = send(sdkSigned(t, g, "/sig/slow/b.bin", body, clientAK, "wrong", backendRegion, time.Now()))
	if got := checkS3Error(t, "slow, wrong secret", r, false); got != "SignatureDoesNotMatch" {
		t.Fatalf("slow PUT with a wrong secret; got %s; want SignatureDoesNotMatch", got)
	}
	b.checkAbsent(t, authBucket, "sig/slow/b.bin")
}

// clientS3 is an aws-sdk-go-v2 client pointed at the gateway.
func clientS3(g *gateway, ak, sk string, opt func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           backendRegion,
		BaseEndpoint:     aws.String("http://" + g.addr),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient:       &http.Client{Transport: &http.Transport{Proxy: nil}},
		RetryMaxAttempts: 1,
	}, func(o *s3.Options) {
		if opt != nil {
			opt(o)
		}
	})
}

func testSDKUpload(t *testing.T, g *gateway, b *backend, unsigned bool) {
	var opt func(*s3.Options)
	if unsigned {
		opt = func(o *s3.Options) {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}
	}
	c := clientS3(g, aliceAK, aliceSK, opt)
	for _, n := range []int64{0, 3 * kib, 300 * kib, 5 * mib} {
		seed := nextSeed()
		key := fmt.Sprintf("sdk/%v/%d é+~=!(x).bin", unsigned, n)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("sig"), Key: aws.String(key),
			Body: bytes.NewReader(genBytes(seed, n)), ContentLength: aws.Int64(n),
			Metadata: map[string]string{"owner": "e2e"},
		})
		cancel()
		if err != nil {
			t.Fatalf("PutObject %q (%d bytes, unsigned=%v): %v", key, n, unsigned, err)
		}
		b.checkObject(t, authBucket, "sig/"+key, seed, n)
	}
}

func testMinioStreaming(t *testing.T, g *gateway, b *backend) {
	mc, err := minio.New(g.addr, &minio.Options{
		Creds:        miniocreds.NewStaticV4(clientAK, clientSK, ""),
		Region:       backendRegion,
		BucketLookup: minio.BucketLookupPath,
		Transport:    &http.Transport{Proxy: nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := g.metric(t, `mizuchi_aws_chunked_total`)
	for _, n := range []int64{1, 100 * kib, 3*mib + 17} {
		seed := nextSeed()
		key := fmt.Sprintf("minio/%d.bin", n)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		_, err := mc.PutObject(ctx, "sig", key, newGen(seed, n), n, minio.PutObjectOptions{ContentType: "application/octet-stream"})
		cancel()
		if err != nil {
			t.Fatalf("minio PutObject %q (%d bytes): %v", key, n, err)
		}
		b.checkObject(t, authBucket, "sig/"+key, seed, n)
	}
	// minio-go over plain HTTP signs every chunk: the decoder must have run.
	if after, _ := g.metric(t, `mizuchi_aws_chunked_total`); after < before+3 {
		t.Fatalf("mizuchi_aws_chunked_total went from %v to %v; want 3 signed aws-chunked uploads", before, after)
	}
}

// signedChunked builds a PUT with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body
// signed by aws-sdk-go-v2 (the seed by v4.Signer, the chunks by
// v4.StreamSigner): an encoder independent of the gateway's decoder.
// tamper, when >= 0, flips the payload byte at that offset after signing.
func signedChunked(t testing.TB, g *gateway, path string, payload []byte, chunk int, tamper int, at time.Time) *http.Request {
	t.Helper()
	nchunks := (len(payload) + chunk - 1) / chunk
	encLen := 0
	for i := 0; i < nchunks; i++ {
		n := min(chunk, len(payload)-i*chunk)
		encLen += len(strconv.FormatInt(int64(n), 16)) + len(";chunk-signature=") + 64 + 2 + n + 2
	}
	encLen += 1 + len(";chunk-signature=") + 64 + 4

	req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(encLen)
	req.Header.Set("X-Amz-Content-Sha256", streamingPayload)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(payload)))
	req.Header.Set("Content-Length", strconv.Itoa(encLen))
	creds := aws.Credentials{AccessKeyID: clientAK, SecretAccessKey: clientSK}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), creds, req, streamingPayload, "s3", backendRegion, at); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	seed, err := hex.DecodeString(auth[strings.LastIndex(auth, "=")+1:])
	if err != nil {
		t.Fatalf("cannot read the seed signature: %v", err)
	}
	ss := v4.NewStreamSigner(creds, "s3", backendRegion, seed)
	var body bytes.Buffer
	for off := 0; ; {
		n := min(chunk, len(payload)-off)
		data := payload[off : off+n]
		sig, err := ss.GetSignature(context.Background(), nil, data, at)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%x\r\n", n, sig)
		body.Write(data)
		body.WriteString("\r\n")
		if n == 0 {
			break // the final, empty chunk
		}
		off += n
	}
	enc := body.Bytes()
	if len(enc) != encLen {
		t.Fatalf("encoded length %d; computed %d", len(enc), encLen)
	}
	if tamper >= 0 {
		// Find the payload byte in the encoding and flip it.
		pos, seen := 0, 0
		for seen <= tamper {
			nl := bytes.Index(enc[pos:], []byte("\r\n"))
			size, _ := strconv.ParseInt(string(enc[pos : pos+nl][:bytes.IndexByte(enc[pos:pos+nl], ';')]), 16, 64)
			start := pos + nl + 2
			if tamper < seen+int(size) {
				enc[start+tamper-seen] ^= 0x20
				break
			}
			seen += int(size)
			pos = start + int(size) + 2
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(enc))
	req.GetBody = nil
	return req
}

func testChunkedSigned(t *testing.T, g *gateway, b *backend) {
	f := func(n, chunk int) {
		t.Helper()
		seed := nextSeed()
		key := fmt.Sprintf("chunked/%d-%d.bin", n, chunk)
		req := signedChunked(t, g, "/sig/"+key, genBytes(seed, int64(n)), chunk, -1, time.Now())
		resp, err := g.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("signed aws-chunked PUT of %d bytes (%d-byte chunks): status %d: %s", n, chunk, resp.StatusCode, body)
		}
		b.checkObject(t, authBucket, "sig/"+key, seed, int64(n))
	}
	f(0, 8*kib)
	f(10, 8*kib)
	f(64*kib, 8*kib)
	f(2*mib+5, 64*kib) // detached path
}

func testChunkTampered(t *testing.T, g *gateway, b *backend) {
	f := func(n, chunk, tamper int) {
		t.Helper()
		seed := nextSeed()
		key := fmt.Sprintf("tampered/%d-%d.bin", n, tamper)
		req := signedChunked(t, g, "/sig/"+key, genBytes(seed, int64(n)), chunk, tamper, time.Now())
		resp, err := g.client.Do(req)
		if err != nil {
			// The gateway may close before the client finished sending.
			t.Logf("tampered PUT ended with %v", err)
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := putResult{status: resp.StatusCode, header: resp.Header, body: body}
			if code := checkS3Error(t, "tampered chunk", r, false); code != "SignatureDoesNotMatch" {
				t.Fatalf("unexpected code for a tampered chunk; got %s; want SignatureDoesNotMatch (%s)", code, r)
			}
		}
		b.checkAbsent(t, authBucket, "sig/"+key)
	}
	f(64*kib, 8*kib, 20*kib)       // buffered path, middle chunk
	f(64*kib, 8*kib, 64*kib-1)     // buffered path, last byte
	f(2*mib, 64*kib, mib)          // detached path, middle
	f(2*mib, 64*kib, 2*mib-1)      // detached path, very last byte
	f(2*mib+100, 64*kib, 2*mib+50) // detached path, short final chunk
}

func testPresignedCurl(t *testing.T, g *gateway, b *backend) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not on PATH")
	}
	dir := t.TempDir()
	seed := nextSeed()
	const n = 700 * kib
	file := filepath.Join(dir, "body.bin")
	if err := os.WriteFile(file, genBytes(seed, n), 0o600); err != nil {
		t.Fatal(err)
	}
	presign := func(key string, expires time.Duration, at time.Time) string {
		u := "http://" + g.addr + "/sig/" + s3EscapePath(key) + "?X-Amz-Expires=" + strconv.Itoa(int(expires.Seconds()))
		req, err := http.NewRequest(http.MethodPut, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		signed, _, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: clientAK, SecretAccessKey: clientSK},
			req, "UNSIGNED-PAYLOAD", "s3", backendRegion, at)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	run := func(u string) (int, string) {
		cmd := exec.Command(curl, "-sS", "-o", "-", "-w", "\n%{http_code}", "-T", file, u)
		cmd.Env = childEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("curl failed: %v\n%s", err, out)
		}
		s := strings.TrimSpace(string(out))
		i := strings.LastIndexByte(s, '\n')
		code, _ := strconv.Atoi(s[i+1:])
		return code, s[:max(i, 0)]
	}
	if code, out := run(presign("presigned/ok.bin", time.Hour, time.Now())); code != 200 {
		t.Fatalf("presigned PUT: status %d: %s", code, out)
	}
	b.checkObject(t, authBucket, "sig/presigned/ok.bin", seed, n)

	code, out := run(presign("presigned/expired.bin", time.Minute, time.Now().Add(-time.Hour)))
	if code != 403 || !strings.Contains(out, "<Code>AccessDenied</Code>") || !strings.Contains(out, "Request has expired") {
		t.Fatalf("expired presigned PUT: status %d: %s", code, out)
	}
	b.checkAbsent(t, authBucket, "sig/presigned/expired.bin")

	u := presign("presigned/tampered.bin", time.Hour, time.Now())
	u = strings.Replace(u, "tampered.bin", "tampereD.bin", 1)
	if code, out := run(u); code != 403 || !strings.Contains(out, "SignatureDoesNotMatch") {
		t.Fatalf("tampered presigned PUT: status %d: %s", code, out)
	}
	b.checkAbsent(t, authBucket, "sig/presigned/tampereD.bin")

	if code, out := run(presign("presigned/week.bin", 8*24*time.Hour, time.Now())); code != 400 || !strings.Contains(out, "AuthorizationQueryParametersError") {
		t.Fatalf("presigned PUT valid for 8 days: status %d: %s", code, out)
	}
}

// sdkSigned returns a PUT of body to path signed by the SDK with (ak, sk) at
// the given time and region.
func sdkSigned(t testing.TB, g *gateway, path string, body []byte, ak, sk, region string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req, sum, "s3", region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

func testSigV4Rejected(t *testing.T, g *gateway, b *backend) {
	body := genBytes(nextSeed(), 2*kib)
	f := func(name string, req *http.Request, status int, code string, bodyHas ...string) {
		t.Helper()
		resp, err := g.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := putResult{status: resp.StatusCode, header: resp.Header, body: data}
		if got := checkS3Error(t, name, r, false); got != code || r.status != status {
			t.Fatalf("%s: got %d %s; want %d %s (%s)", name, r.status, got, status, code, r)
		}
		for _, s := range bodyHas {
			if !strings.Contains(string(data), s) {
				t.Fatalf("%s: body lacks %q: %s", name, s, data)
			}
		}
		if strings.Contains(string(data), clientSK) || strings.Contains(string(data), b.sk) {
			t.Fatalf("%s: a secret leaked into the error body", name)
		}
	}
	now := time.Now()
	f("wrong secret", sdkSigned(t, g, "/sig/rej/secret.bin", body, clientAK, "not-the-secret", backendRegion, now),
		403, "SignatureDoesNotMatch", "<CanonicalRequest>PUT\n/sig/rej/secret.bin", "<StringToSign>AWS4-HMAC-SHA256\n")
	f("unknown key", sdkSigned(t, g, "/sig/rej/key.bin", body, "AKNOSUCHKEY", clientSK, backendRegion, now),
		403, "InvalidAccessKeyId")
	f("skewed clock", sdkSigned(t, g, "/sig/rej/skew.bin", body, clientAK, clientSK, backendRegion, now.Add(-20*time.Minute)),
		403, "RequestTimeTooSkewed")
	f("wrong region", sdkSigned(t, g, "/sig/rej/region.bin", body, clientAK, clientSK, "eu-west-1", now),
		400, "AuthorizationHeaderMalformed", "eu-west-1")
	// A valid signature for one route's credentials used on another route.
	f("other route", sdkSigned(t, g, "/other/rej/route.bin", body, clientAK, clientSK, backendRegion, now),
		403, "InvalidAccessKeyId")
	anon, _ := http.NewRequest(http.MethodPut, "http://"+g.addr+"/sig/rej/anon.bin", bytes.NewReader(body))
	f("anonymous", anon, 403, "AccessDenied")
	req := sdkSigned(t, g, "/sig/rej/modified.bin", body, clientAK, clientSK, backendRegion, now)
	req.Header.Set("X-Amz-Date", now.Add(time.Second).UTC().Format("20060102T150405Z"))
	f("modified date", req, 403, "SignatureDoesNotMatch")
	for _, k := range []string{"secret", "key", "skew", "region", "anon", "modified"} {
		b.checkAbsent(t, authBucket, "sig/rej/"+k+".bin")
	}
	b.checkAbsent(t, authBucket, "other/rej/route.bin")
}

// testSigV4RejectedBeforeBody sends heads with Expect: 100-continue and
// never the body: the refusal must come from the head alone.
func testSigV4RejectedBeforeBody(t *testing.T, g *gateway, b *backend) {
	f := func(name string, req *http.Request, code string) {
		t.Helper()
		c := g.dialRaw(t)
		writeSignedHead(t, c, req, 64*mib, true)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("%s: no response before the body: %v", name, err)
		}
		if got := checkS3Error(t, name, r, false); got != code {
			t.Fatalf("%s: got %s; want %s (%s)", name, got, code, r)
		}
	}
	body := []byte("never sent")
	now := time.Now()
	f("wrong secret", sdkSigned(t, g, "/sig/early/a.bin", body, clientAK, "wrong", backendRegion, now), "SignatureDoesNotMatch")
	f("skewed", sdkSigned(t, g, "/sig/early/b.bin", body, clientAK, clientSK, backendRegion, now.Add(time.Hour)), "RequestTimeTooSkewed")
	f("other route", sdkSigned(t, g, "/other/early/c.bin", body, clientAK, clientSK, backendRegion, now), "InvalidAccessKeyId")
	u, _ := url.Parse("http://" + g.addr + "/sig/early/d.bin")
	f("anonymous", &http.Request{Method: http.MethodPut, URL: u, Host: g.addr, Header: http.Header{}}, "AccessDenied")
}

// writeSignedHead writes req's PUT head (its signed headers) on c with the
// given Content-Length, and Expect: 100-continue when expect is set; the
// body is the caller's to send.
func writeSignedHead(t testing.TB, c *rawConn, req *http.Request, contentLength int64, expect bool) {
	t.Helper()
	var hb strings.Builder
	fmt.Fprintf(&hb, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.URL.RequestURI(), req.Host, contentLength)
	if expect {
		hb.WriteString("Expect: 100-continue\r\n")
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&hb, "%s: %s\r\n", k, v)
		}
	}
	hb.WriteString("\r\n")
	if _, err := io.WriteString(c, hb.String()); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// unsignedTrailerTE builds what botocore sends over HTTPS: a SigV4-signed
// PUT with x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER, an
// aws-chunked body with a CRC32 trailer, wrapped in Transfer-Encoding:
// chunked (no Content-Length). badCRC corrupts the trailer checksum.
func unsignedTrailerTE(t testing.TB, g *gateway, path string, payload []byte, badCRC bool) string {
	t.Helper()
	crc := crc32.ChecksumIEEE(payload)
	if badCRC {
		crc++
	}
	sum := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc))
	var enc bytes.Buffer
	for off := 0; off < len(payload); off += 64 * kib {
		n := min(64*kib, len(payload)-off)
		fmt.Fprintf(&enc, "%x\r\n", n)
		enc.Write(payload[off : off+n])
		enc.WriteString("\r\n")
	}
	fmt.Fprintf(&enc, "0\r\nx-amz-checksum-crc32:%s\r\n\r\n", sum)

	req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	req.Header.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(payload)))
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: clientAK, SecretAccessKey: clientSK},
		req, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", backendRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "PUT %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n", req.URL.RequestURI(), req.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&sb, "%s: %s\r\n", k, v)
		}
	}
	sb.WriteString("\r\n")
	// The outer chunked layer cuts the aws-chunked bytes at other places.
	b := enc.Bytes()
	for off := 0; off < len(b); off += 100 * kib {
		n := min(100*kib, len(b)-off)
		fmt.Fprintf(&sb, "%x\r\n", n)
		sb.Write(b[off : off+n])
		sb.WriteString("\r\n")
	}
	sb.WriteString("0\r\n\r\n")
	return sb.String()
}

func testUnsignedTrailerChunked(t *testing.T, g *gateway, b *backend) {
	f := func(n int, badCRC bool) {
		t.Helper()
		seed := nextSeed()
		key := fmt.Sprintf("te/%d-%v.bin", n, badCRC)
		c := g.dialRaw(t)
		if _, err := io.WriteString(c, unsignedTrailerTE(t, g, "/sig/"+key, genBytes(seed, int64(n)), badCRC)); err != nil {
			t.Fatal(err)
		}
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("no response: %v", err)
		}
		if badCRC {
			if code := checkS3Error(t, "bad trailer checksum", r, false); code != "BadDigest" {
				t.Fatalf("bad trailer checksum: %s; want BadDigest", r)
			}
			b.checkAbsent(t, authBucket, "sig/"+key)
			return
		}
		if r.status != 200 || r.header.Get("X-Amz-Checksum-Crc32") == "" {
			t.Fatalf("chunked unsigned-trailer PUT of %d bytes: %s %v", n, r, r.header)
		}
		b.checkObject(t, authBucket, "sig/"+key, seed, int64(n))
		// The checksum reached the backend, which verified and stored it.
		h, err := b.s3.HeadObject(context.Background(), &s3.HeadObjectInput{
			Bucket: aws.String(authBucket), Key: aws.String("sig/" + key), ChecksumMode: s3types.ChecksumModeEnabled,
		})
		want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(genBytes(seed, int64(n)))))
		if err != nil || aws.ToString(h.ChecksumCRC32) != want {
			t.Fatalf("backend checksum of %s: %v %q; want %q", key, err, aws.ToString(h.ChecksumCRC32), want)
		}
		// The connection stays usable.
		if err := c.writePut("/sig/"+key+".next", seed, 10); err != nil {
			t.Fatal(err)
		}
		if r, err := c.readResponse(http.MethodPut); err != nil || r.status != 403 {
			t.Fatalf("next request on the connection: %v %v; want 403 (anonymous)", r, err)
		}
	}
	f(0, false)
	f(1000, false)
	f(3*mib+3, false)
	f(300*kib, true)
	f(3*mib, true)
}
