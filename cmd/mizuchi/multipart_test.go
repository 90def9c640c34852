package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

const mpBucket = "mp-bucket"

// TestE2EMultipart drives the multipart family through the gateway with
// aws-sdk-go-v2 and checks the replies name the client's bucket and key,
// never the backend's, and that the assembled object is on the backend.
func TestE2EMultipart(t *testing.T) {
	b := startBackend(t, mpBucket)
	g := startGateway(t, b,
		route{name: "parts", pathPrefix: "/parts", bucket: mpBucket, keyPrefix: "pfx/", extra: "    allow_head: true\n" +
			"    cors: {allowed_origins: [\"http://app.test\"], allowed_headers: [content-type, x-amz-meta-color], max_age_seconds: 600}\n"},
		route{name: "nohead", pathPrefix: "/nohead", bucket: mpBucket},
	)
	c := clientS3(g, "AKANY", "any-secret", func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})

	t.Run("Complete", func(t *testing.T) { testMultipartComplete(t, c, b) })
	t.Run("Abort", func(t *testing.T) { testMultipartAbort(t, c, b) })
	t.Run("HeadObject", func(t *testing.T) { testHeadObject(t, g, c, b) })
	t.Run("BadRequests", func(t *testing.T) { testMultipartBad(t, g, c) })
	t.Run("MinioAnonymousRoute", func(t *testing.T) { testMinioAnonymous(t, g, b) })
	t.Run("CORS", func(t *testing.T) { testCORS(t, g, c, b) })
}

// testCORS plays a browser: preflight, then a part upload whose ETag the
// page must be able to read, then refusals for other origins.
func testCORS(t *testing.T, g *gateway, c *s3.Client, b *backend) {
	preflight := func(origin, method, headers string) putResult {
		t.Helper()
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
		if headers != "" {
			h.Set("Access-Control-Request-Headers", headers)
		}
		return g.do(t, http.MethodOptions, "/parts/browser.bin?partNumber=1&uploadId=x", nil, h)
	}
	r := preflight("http://app.test", "PUT", "Content-Type, X-Amz-Meta-Color")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "http://app.test" ||
		r.header.Get("Access-Control-Allow-Methods") != "PUT" || r.header.Get("Access-Control-Max-Age") != "600" ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("preflight from an allowed origin: %s %v", r, r.header)
	}
	for _, bad := range [][3]string{
		{"http://evil.test", "PUT", ""},
		{"http://app.test", "PATCH", ""},
		{"http://app.test", "PUT", "x-amz-meta-other"},
	} {
		r := preflight(bad[0], bad[1], bad[2])
		if code := checkS3Error(t, "refused preflight", r, false); r.status != 403 || code != "AccessForbidden" || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight %v: %s; want 403 AccessForbidden without CORS headers", bad, r)
		}
	}
	if r := g.do(t, http.MethodOptions, "/nohead/x.bin", nil, http.Header{"Origin": {"http://app.test"}, "Access-Control-Request-Method": {"PUT"}}); r.status != 403 {
		t.Fatalf("preflight on a route without cors: %s", r)
	}

	// The actual part upload, as a browser with a presigned URL would send it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("parts"), Key: aws.String("browser.bin")})
	if err != nil {
		t.Fatal(err)
	}
	seed := nextSeed()
	path := "/parts/browser.bin?partNumber=1&uploadId=" + url.QueryEscape(aws.ToString(create.UploadId))
	r = g.put(t, path, seed, 64*kib, putOpts{header: http.Header{"Origin": {"http://app.test"}}})
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "http://app.test" || r.header.Get("ETag") == "" ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("part upload from the page: %s %v", r, r.header)
	}
	// Errors carry the headers too, so the page can read them; other
	// origins get none.
	r = g.put(t, "/parts/browser.bin?partNumber=1&uploadId=nosuch", seed, kib, putOpts{header: http.Header{"Origin": {"http://app.test"}}})
	if r.status != 404 || r.header.Get("Access-Control-Allow-Origin") != "http://app.test" {
		t.Fatalf("failed part upload from the page: %s %v", r, r.header)
	}
	r = g.put(t, path, seed, kib, putOpts{header: http.Header{"Origin": {"http://evil.test"}}})
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("response to another origin carries CORS headers: %v", r.header)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("parts"), Key: aws.String("browser.bin"), UploadId: create.UploadId}); err != nil {
		t.Fatal(err)
	}
}

// testMinioAnonymous: minio-go signs its chunks even on a route without
// authentication; the gateway decodes them (signatures unchecked, and
// counted as such) and minio-go's multipart upload works too.
func testMinioAnonymous(t *testing.T, g *gateway, b *backend) {
	mc, err := minio.New(g.addr, &minio.Options{
		Creds:        miniocreds.NewStaticV4("AKANY", "any-secret", ""),
		Region:       backendRegion,
		BucketLookup: minio.BucketLookupPath,
		Transport:    &http.Transport{Proxy: nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := g.metric(t, `mizuchi_aws_chunked_unverified_total`)
	for _, n := range []int64{10 * kib, 2 * mib, 17 * mib} {
		seed := nextSeed()
		key := "minio-anon/" + strings.Repeat("x", int(n%7)) + ".bin"
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		_, err := mc.PutObject(ctx, "nohead", key, newGen(seed, n), n, minio.PutObjectOptions{PartSize: 5 * mib})
		cancel()
		if err != nil {
			t.Fatalf("minio PutObject of %d bytes on an anonymous route: %v", n, err)
		}
		b.checkObject(t, mpBucket, key, seed, n)
	}
	if after, _ := g.metric(t, `mizuchi_aws_chunked_unverified_total`); after < before+2 {
		t.Fatalf("mizuchi_aws_chunked_unverified_total went from %v to %v; want the uploads counted as unverified", before, after)
	}
}

func testMultipartComplete(t *testing.T, c *s3.Client, b *backend) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const key = "dir/big file+1.bin"
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String("parts"), Key: aws.String(key), ContentType: aws.String("application/x-test"),
		Metadata: map[string]string{"origin": "multipart-e2e"},
	})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	if aws.ToString(create.Bucket) != "parts" || aws.ToString(create.Key) != key || aws.ToString(create.UploadId) == "" {
		t.Fatalf("CreateMultipartUpload reply names bucket %q key %q upload %q; want the client's", aws.ToString(create.Bucket), aws.ToString(create.Key), aws.ToString(create.UploadId))
	}
	// Parts: 5 MiB (detached, spliced), 5 MiB, and a small last one (in-loop).
	sizes := []int64{5 * mib, 5 * mib, 100 * kib}
	whole := sha256.New()
	var total int64
	var done []types.CompletedPart
	for i, n := range sizes {
		body := genBytes(nextSeed(), n)
		whole.Write(body)
		total += n
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("parts"), Key: aws.String(key), UploadId: create.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body), ContentLength: aws.Int64(n),
		})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		if aws.ToString(up.ETag) == "" {
			t.Fatalf("UploadPart %d: no ETag", i+1)
		}
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}

	// ListParts, two pages.
	var listed []types.Part
	var marker *string
	for page := 0; page < 3; page++ {
		lp, err := c.ListParts(ctx, &s3.ListPartsInput{
			Bucket: aws.String("parts"), Key: aws.String(key), UploadId: create.UploadId,
			MaxParts: aws.Int32(2), PartNumberMarker: marker,
		})
		if err != nil {
			t.Fatalf("ListParts: %v", err)
		}
		if aws.ToString(lp.Bucket) != "parts" || aws.ToString(lp.Key) != key {
			t.Fatalf("ListParts names bucket %q key %q; want parts %q", aws.ToString(lp.Bucket), aws.ToString(lp.Key), key)
		}
		if lp.Owner != nil || lp.Initiator != nil {
			t.Fatalf("ListParts leaks the backend owner %+v / initiator %+v", lp.Owner, lp.Initiator)
		}
		listed = append(listed, lp.Parts...)
		if !aws.ToBool(lp.IsTruncated) {
			break
		}
		marker = lp.NextPartNumberMarker
	}
	if len(listed) != len(sizes) {
		t.Fatalf("ListParts returned %d parts over its pages; want %d", len(listed), len(sizes))
	}
	for i, p := range listed {
		if aws.ToInt64(p.Size) != sizes[i] || aws.ToString(p.ETag) != aws.ToString(done[i].ETag) {
			t.Fatalf("part %d: size %d etag %s; want %d %s", i+1, aws.ToInt64(p.Size), aws.ToString(p.ETag), sizes[i], aws.ToString(done[i].ETag))
		}
	}

	comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("parts"), Key: aws.String(key), UploadId: create.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if aws.ToString(comp.Bucket) != "parts" || aws.ToString(comp.Key) != key || aws.ToString(comp.ETag) == "" {
		t.Fatalf("CompleteMultipartUpload names bucket %q key %q etag %q", aws.ToString(comp.Bucket), aws.ToString(comp.Key), aws.ToString(comp.ETag))
	}
	if loc := aws.ToString(comp.Location); strings.Contains(loc, mpBucket) || strings.Contains(loc, "pfx/") {
		t.Fatalf("CompleteMultipartUpload Location %q names the backend", loc)
	}
	got, n := b.objectSHA(t, mpBucket, "pfx/"+key)
	if want := hex.EncodeToString(whole.Sum(nil)); got != want || n != total {
		t.Fatalf("assembled object: sha %s size %d; want %s %d", got, n, want, total)
	}
	b.remove(t, mpBucket, "pfx/"+key)
}

// pendingUploads lists multipart uploads on the backend directly.
func (b *backend) pendingUploads(t testing.TB, bucket string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := b.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads on the backend: %v", err)
	}
	return len(out.Uploads)
}

func testMultipartAbort(t *testing.T, c *s3.Client, b *backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := b.pendingUploads(t, mpBucket)
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("parts"), Key: aws.String("aborted.bin")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String("parts"), Key: aws.String("aborted.bin"), UploadId: create.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(genBytes(nextSeed(), 300*kib)), ContentLength: aws.Int64(300 * kib),
	}); err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if got := b.pendingUploads(t, mpBucket); got != before+1 {
		t.Fatalf("backend has %d pending uploads; want %d", got, before+1)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("parts"), Key: aws.String("aborted.bin"), UploadId: create.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	if got := b.pendingUploads(t, mpBucket); got != before {
		t.Fatalf("backend has %d pending uploads after abort; want %d", got, before)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("parts"), Key: aws.String("aborted.bin"), UploadId: create.UploadId})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchUpload" {
		t.Fatalf("ListParts after abort: %v; want NoSuchUpload", err)
	}
	b.checkAbsent(t, mpBucket, "pfx/aborted.bin")
}

func testHeadObject(t *testing.T, g *gateway, c *s3.Client, b *backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seed := nextSeed()
	put := g.mustPut(t, "/parts/head.bin", seed, 3*kib, putOpts{header: http.Header{"X-Amz-Meta-Color": {"blue"}}})
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("parts"), Key: aws.String("head.bin")})
	if err != nil {
		t.Fatalf("HeadObject on an allow_head route: %v", err)
	}
	if aws.ToInt64(h.ContentLength) != 3*kib || aws.ToString(h.ETag) != put.header.Get("ETag") || h.Metadata["color"] != "blue" {
		t.Fatalf("HeadObject: length %d etag %s meta %v; want %d %s blue", aws.ToInt64(h.ContentLength), aws.ToString(h.ETag), h.Metadata, 3*kib, put.header.Get("ETag"))
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("parts"), Key: aws.String("missing.bin")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotFound" {
		t.Fatalf("HeadObject of a missing key: %v; want NotFound", err)
	}
	g.mustPut(t, "/nohead/head.bin", seed, kib, putOpts{})
	r := g.do(t, http.MethodHead, "/nohead/head.bin", nil, nil)
	if r.status != http.StatusForbidden {
		t.Fatalf("HeadObject without allow_head: %s; want 403", r)
	}
	// GET stays refused on an allow_head route.
	r = g.do(t, http.MethodGet, "/parts/head.bin", nil, nil)
	if code := checkS3Error(t, "GET on allow_head route", r, false); code != "AccessDenied" {
		t.Fatalf("GET on an allow_head route: %s", r)
	}
}

func testMultipartBad(t *testing.T, g *gateway, c *s3.Client) {
	f := func(method, path string, body []byte, wantStatus int, wantCode string) {
		t.Helper()
		r := g.do(t, method, path, body, nil)
		if code := checkS3Error(t, method+" "+path, r, false); r.status != wantStatus || code != wantCode {
			t.Fatalf("%s %s: got %s; want %d %s", method, path, r, wantStatus, wantCode)
		}
	}
	f(http.MethodPut, "/parts/x.bin?partNumber=1&uploadId=nosuchupload", []byte("data"), 404, "NoSuchUpload")
	f(http.MethodPost, "/parts/x.bin?uploadId=nosuchupload", []byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"00"</ETag></Part></CompleteMultipartUpload>`), 404, "NoSuchUpload")
	// A malformed completion of a real upload reaches the backend (upload
	// ids are sealed: an unknown one never does).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("parts"), Key: aws.String("x.bin")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	f(http.MethodPost, "/parts/x.bin?uploadId="+url.QueryEscape(aws.ToString(create.UploadId)), []byte("<CompleteMultipartUpload></CompleteMultipartUpload>"), 400, "MalformedXML")
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("parts"), Key: aws.String("x.bin"), UploadId: create.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	f(http.MethodPut, "/parts/x.bin?partNumber=1", []byte("data"), 400, "InvalidArgument")
	f(http.MethodGet, "/parts?uploads", nil, 403, "AccessDenied")
	f(http.MethodDelete, "/parts/x.bin", nil, 403, "AccessDenied")
	f(http.MethodPost, "/parts/x.bin?uploads", []byte("unexpected"), 400, "InvalidRequest")
	f(http.MethodPut, "/parts/x.bin?partNumber=1&uploadId=u&tagging", []byte("d"), 501, "NotImplemented")
}

// If-None-Match: * reaches the backend inside the upstream signature: a
// second upload of the same key is refused and the first object stays.
func TestE2EIfNoneMatch(t *testing.T) {
	b := startBackend(t, mpBucket)
	g := startGateway(t, b, route{name: "inm", pathPrefix: "/inm", bucket: mpBucket})
	seed := nextSeed()
	noOverwrite := putOpts{header: http.Header{"If-None-Match": {"*"}}}
	g.mustPut(t, "/inm/once.bin", seed, 2*kib, noOverwrite)
	r := g.put(t, "/inm/once.bin", nextSeed(), 2*kib, noOverwrite)
	if code := checkS3Error(t, "second upload with If-None-Match: *", r, false); r.status != 412 || code != "PreconditionFailed" {
		t.Fatalf("second upload with If-None-Match: *: %s; want 412 PreconditionFailed", r)
	}
	b.checkObject(t, mpBucket, "once.bin", seed, 2*kib)
	// A header value cannot smuggle a second header into the upstream head.
	c := g.dialRaw(t)
	if err := c.writePutHead("/inm/smuggle.bin", 3, "x-amz-meta-a: b\rx-amz-acl: public-read\r\n"); err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "abc")
	r, err := c.readResponse(http.MethodPut)
	if err != nil || r.status != 400 {
		t.Fatalf("a header value with a bare CR: %v %v; want 400", r, err)
	}
	b.checkAbsent(t, mpBucket, "smuggle.bin")
}

// TestE2EVirtualHost uploads with virtual-hosted-style addressing
// (vh.s3.test), PutObject and multipart, as the SDKs do by default.
func TestE2EVirtualHost(t *testing.T) {
	b := startBackend(t, mpBucket)
	g := startGatewayWith(t, b, gwOptions{vhostDomains: []string{"s3.test"}},
		route{name: "vh", pathPrefix: "/vh", bucket: mpBucket, keyPrefix: "vh/"})
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := s3.New(s3.Options{
		Region:       backendRegion,
		BaseEndpoint: aws.String("http://s3.test:" + portOf(g.addr)),
		UsePathStyle: false,
		Credentials:  credentials.NewStaticCredentialsProvider("AKANY", "any-secret", ""),
		HTTPClient: &http.Client{Transport: &http.Transport{Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, g.addr) // every host name is the gateway
			}}},
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seed := nextSeed()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vh"), Key: aws.String("a/b.bin"),
		Body: bytes.NewReader(genBytes(seed, 300*kib)), ContentLength: aws.Int64(300 * kib)}); err != nil {
		t.Fatalf("virtual-hosted PutObject: %v", err)
	}
	b.checkObject(t, mpBucket, "vh/a/b.bin", seed, 300*kib)

	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("vh"), Key: aws.String("mp.bin")})
	if err != nil || aws.ToString(create.Bucket) != "vh" || aws.ToString(create.Key) != "mp.bin" {
		t.Fatalf("virtual-hosted CreateMultipartUpload: %v %+v", err, create)
	}
	whole := sha256.New()
	var parts []types.CompletedPart
	for i, n := range []int64{5 * mib, 1 * mib} {
		body := genBytes(nextSeed(), n)
		whole.Write(body)
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("vh"), Key: aws.String("mp.bin"), UploadId: create.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body), ContentLength: aws.Int64(n)})
		if err != nil {
			t.Fatalf("virtual-hosted UploadPart: %v", err)
		}
		parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("vh"), Key: aws.String("mp.bin"),
		UploadId: create.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("virtual-hosted CompleteMultipartUpload: %v", err)
	}
	if got, n := b.objectSHA(t, mpBucket, "vh/mp.bin"); got != hex.EncodeToString(whole.Sum(nil)) || n != 6*mib {
		t.Fatalf("virtual-hosted multipart object: sha %s size %d", got, n)
	}
	// An unknown bucket under the domain is not routed.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String("x"), Body: bytes.NewReader([]byte("x"))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
		t.Fatalf("PutObject to an unknown virtual host: %v; want NoSuchBucket", err)
	}
}
