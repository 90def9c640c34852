package main

// The client matrix: real S3 clients × {http, https} × {small PutObject,
// multipart upload of three parts} against the real binary in front of
// versitygw, on a route with SigV4 authentication, every object read back
// from the backend and compared.
//
// Each client is one function that uploads j.file to j.bucket/j.key (by
// PutObject or by multipart upload, as j.multipart says) and returns an error
// carrying what the client printed. CLI clients run with a private HOME and
// config files, a timeout, and in their own process group.
//
// MIZUCHI_CLIENT_TRACE=1 puts a recording TCP relay (clienttrace_test.go)
// between plain-HTTP clients and the gateway and logs every request head the
// client sent (payload hash mode, framing, checksums) with the answer.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	matrixBucket = "clients-bucket"
	matrixRoute  = "clients"      // the bucket name clients use: path prefix /clients (minio-go wants ≥ 3 characters)
	matrixHead   = "clients-head" // the same bucket with allow_head: true
	matrixAK     = "AKMATRIXE2E"
	matrixSK     = "matrix-secret-e2e"

	matrixPartSize  = 5 * mib                       // S3's smallest part (all but the last)
	matrixSmall     = mib + 17                      // PutObject; above the splice threshold
	matrixMultipart = 2*matrixPartSize + 2*mib + 13 // three parts: 5 MiB, 5 MiB, 2 MiB+13
	matrixTimeout   = 3 * time.Minute               // one client run
)

// matrixHTTPS turns the https column on (the gateway with TLS on its S3
// listener, a throwaway CA the clients are given).
const matrixHTTPS = true

// startMatrixGateway starts the gateway for one column of the matrix and
// returns it with the PEM file of its CA ("" for http).
func startMatrixGateway(t *testing.T, b *backend, scheme string, routes ...route) (*gateway, string) {
	if scheme == "http" {
		return startGateway(t, b, routes...), ""
	}
	if !matrixHTTPS {
		t.Skip("HTTPS pending")
	}
	g := startGatewayWith(t, b, gwOptions{tls: true}, routes...)
	return g, g.caFile
}

// clientJob is one upload for a client function.
type clientJob struct {
	scheme    string // "http" or "https"
	endpoint  string // scheme://host:port of the gateway (or of the trace relay)
	host      string // host:port of endpoint
	caFile    string // PEM of the gateway's CA for https; "" for http
	bucket    string // as clients see it: the route
	key       string
	file      string // the body, a generated file
	size      int64
	multipart bool
	dir       string // private HOME and config directory of this run
	failure   string // first line of the client's error, for the summary
}

func (j *clientJob) op() string {
	if j.multipart {
		return "multipart"
	}
	return "put"
}

// matrixClient is one client of the matrix.
type matrixClient struct {
	name string
	// find returns a reason to skip when the client is missing here.
	find func() (skip string)
	// installed: `make test` installs it (scripts/install-clients.sh), so
	// in CI a missing client is a failure, not a skip.
	installed bool
	route     string // default matrixRoute
	upload    func(ctx context.Context, t *testing.T, j *clientJob) error
}

var matrixClients = []matrixClient{
	{name: "sdk-go-v2", find: always, upload: func(ctx context.Context, t *testing.T, j *clientJob) error { return uploadSDK(ctx, t, j, false) }},
	{name: "sdk-go-v2-unsigned", find: always, upload: func(ctx context.Context, t *testing.T, j *clientJob) error { return uploadSDK(ctx, t, j, true) }},
	{name: "minio-go", find: always, upload: uploadMinio},
	{name: "boto3-pyenv", find: findPyenvBoto3, upload: func(ctx context.Context, t *testing.T, j *clientJob) error {
		return uploadBoto3(ctx, t, j, pyenvPy.exe)
	}},
	{name: "awscli-v1-pyenv", find: findPyenvAWSCLI, upload: func(ctx context.Context, t *testing.T, j *clientJob) error {
		return uploadAWSCLI(ctx, t, j, pyenvPy.exe, "-m", "awscli")
	}},
	{name: "boto3-debian", installed: true, find: findDebianBoto3, upload: func(ctx context.Context, t *testing.T, j *clientJob) error {
		return uploadBoto3(ctx, t, j, debianPython)
	}},
	{name: "awscli-v2-debian", installed: true, find: findFile(debianAWS), upload: func(ctx context.Context, t *testing.T, j *clientJob) error {
		return uploadAWSCLI(ctx, t, j, debianAWS)
	}},
	{name: "s3cmd", installed: true, find: findOnPath("s3cmd"), upload: uploadS3cmd},
	{name: "rclone", installed: true, find: findOnPath("rclone"), upload: func(ctx context.Context, t *testing.T, j *clientJob) error {
		return uploadRclone(ctx, t, j, "--s3-no-check-bucket", "--no-check-dest", "--s3-no-head")
	}},
	{name: "rclone-allow-head", installed: true, route: matrixHead, find: findOnPath("rclone"), upload: func(ctx context.Context, t *testing.T, j *clientJob) error {
		return uploadRclone(ctx, t, j, "--s3-no-check-bucket")
	}},
	{name: "curl", find: findCurl, upload: uploadCurl},
}

// TestE2EClients runs the client matrix. Subtests are named
// scheme/client/op, e.g. TestE2EClients/http/rclone/multipart.
func TestE2EClients(t *testing.T) {
	b := startBackend(t, matrixBucket)
	auth := "    auth:\n      enabled: true\n      sigv4:\n        region: " + backendRegion + "\n" +
		"        access_key: " + matrixAK + "\n        secret_key: " + matrixSK + "\n"
	routes := []route{
		{name: matrixRoute, pathPrefix: "/" + matrixRoute, bucket: matrixBucket, extra: auth},
		{name: matrixHead, pathPrefix: "/" + matrixHead, bucket: matrixBucket, extra: auth + "    allow_head: true\n"},
	}
	var summary []string
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			g, ca := startMatrixGateway(t, b, scheme, routes...)
			endpoint := scheme + "://" + g.addr
			var tp *traceProxy
			if scheme == "http" && os.Getenv("MIZUCHI_CLIENT_TRACE") != "" {
				tp = startTraceProxy(t, g.addr)
				endpoint = "http://" + tp.addr()
			}
			for _, c := range matrixClients {
				t.Run(c.name, func(t *testing.T) {
					for _, multipart := range []bool{false, true} {
						j := &clientJob{scheme: scheme, endpoint: endpoint, caFile: ca, bucket: matrixRoute, multipart: multipart}
						if c.route != "" {
							j.bucket = c.route
						}
						j.host = strings.TrimPrefix(endpoint, scheme+"://")
						t.Run(j.op(), func(t *testing.T) {
							defer func() { summary = append(summary, matrixOutcome(t, c.name, j)) }()
							runMatrixEntry(t, b, c, j, tp)
						})
					}
				})
			}
		})
	}
	t.Logf("client matrix:\n%s", strings.Join(summary, "\n"))
}

// matrixOutcome is one line of the summary (t.Failed and t.Skipped are
// final when the subtest function returns).
func matrixOutcome(t *testing.T, client string, j *clientJob) string {
	res := "PASS"
	switch {
	case t.Skipped():
		res = "SKIP"
	case t.Failed():
		res = "FAIL  " + j.failure
	}
	return fmt.Sprintf("  %-5s %-18s %-9s %s", j.scheme, client, j.op(), res)
}

func runMatrixEntry(t *testing.T, b *backend, c matrixClient, j *clientJob, tp *traceProxy) {
	if skip := c.find(); skip != "" {
		if c.installed && os.Getenv("CI") != "" {
			t.Fatalf("%s missing in CI (make test installs it with scripts/install-clients.sh): %s", c.name, skip)
		}
		t.Skip(skip)
	}
	j.dir = t.TempDir()
	j.size = matrixSmall
	if j.multipart {
		j.size = matrixMultipart
	}
	seed := nextSeed()
	j.key = fmt.Sprintf("%s/%s/%s.bin", j.scheme, c.name, j.op())
	j.file = filepath.Join(t.TempDir(), "body.bin")
	writeGenFile(t, j.file, seed, j.size)

	ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
	defer cancel()
	start := time.Now()
	err := c.upload(ctx, t, j)
	if tp != nil {
		for _, line := range tp.take() {
			t.Logf("sent: %s", line)
		}
	}
	if err != nil {
		j.failure, _, _ = strings.Cut(strings.TrimSpace(err.Error()), "\n")
		t.Fatalf("%s %s of %d bytes over %s failed after %s: %v", c.name, j.op(), j.size, j.scheme,
			time.Since(start).Round(time.Millisecond), err)
	}
	b.checkObject(t, matrixBucket, j.key, seed, j.size)
	etag := b.etag(t, matrixBucket, j.key)
	parts := 0
	if _, n, ok := strings.Cut(strings.Trim(etag, `"`), "-"); ok {
		fmt.Sscan(n, &parts)
	}
	if j.multipart && parts < 3 {
		t.Fatalf("backend ETag %s; want a multipart upload of at least 3 parts", etag)
	}
	if !j.multipart && parts != 0 {
		t.Fatalf("backend ETag %s; want a single PutObject", etag)
	}
}

// etag returns the backend's ETag of bucket/key (a multipart upload of n
// parts ends in "-n").
func (b *backend) etag(t testing.TB, bucket, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("cannot head %s/%q on the backend: %v", bucket, key, err)
	}
	return aws.ToString(out.ETag)
}

func writeGenFile(t *testing.T, path string, seed uint64, n int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyBuffer(f, newHashedGen(seed, n), make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Go clients.

func tlsTransport(t *testing.T, j *clientJob) *http.Transport {
	tr := &http.Transport{Proxy: nil}
	if j.caFile == "" {
		return tr
	}
	pem, err := os.ReadFile(j.caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", j.caFile)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return tr
}

// uploadSDK uploads with aws-sdk-go-v2: with its default checksums, or with
// checksums only when required and an unsigned payload. Multipart is what
// feature/s3/manager's Uploader does, written out: CreateMultipartUpload
// (with ChecksumAlgorithm CRC32 when checksums are on), UploadPart in
// 5 MiB parts, CompleteMultipartUpload (Abort on failure).
func uploadSDK(ctx context.Context, t *testing.T, j *clientJob, unsigned bool) error {
	c := s3.New(s3.Options{
		Region:           backendRegion,
		BaseEndpoint:     aws.String(j.endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(matrixAK, matrixSK, ""),
		HTTPClient:       &http.Client{Transport: tlsTransport(t, j)},
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig resolves to (s3.New alone leaves
		// them unset, which sends no checksum with PutObject).
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}, func(o *s3.Options) {
		if unsigned {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}
	})
	f, err := os.Open(j.file)
	if err != nil {
		return err
	}
	defer f.Close()
	bucket, key := aws.String(j.bucket), aws.String(j.key)
	if !j.multipart {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: f, ContentLength: aws.Int64(j.size)})
		return err
	}
	in := &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key}
	if !unsigned {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	cr, err := c.CreateMultipartUpload(ctx, in)
	if err != nil {
		return fmt.Errorf("CreateMultipartUpload: %w", err)
	}
	abort := func(err error) error {
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, aerr := c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: cr.UploadId}); aerr != nil {
			err = errors.Join(err, fmt.Errorf("AbortMultipartUpload: %w", aerr))
		}
		return err
	}
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < j.size; n, off = n+1, off+matrixPartSize {
		size := min(matrixPartSize, j.size-off)
		up := &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: cr.UploadId, PartNumber: aws.Int32(n),
			Body: io.NewSectionReader(f, off, size), ContentLength: aws.Int64(size)}
		if !unsigned {
			up.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
		}
		out, err := c.UploadPart(ctx, up)
		if err != nil {
			return abort(fmt.Errorf("UploadPart %d: %w", n, err))
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n), ChecksumCRC32: out.ChecksumCRC32})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return abort(fmt.Errorf("CompleteMultipartUpload: %w", err))
	}
	return nil
}

// uploadMinio uploads with minio-go's FPutObject: one PUT (signed streaming
// chunks over http) or, above PartSize, a multipart upload.
func uploadMinio(ctx context.Context, t *testing.T, j *clientJob) error {
	mc, err := minio.New(j.host, &minio.Options{
		Creds:        miniocreds.NewStaticV4(matrixAK, matrixSK, ""),
		Secure:       j.scheme == "https",
		Region:       backendRegion,
		BucketLookup: minio.BucketLookupPath,
		Transport:    tlsTransport(t, j),
		MaxRetries:   1,
	})
	if err != nil {
		return err
	}
	_, err = mc.FPutObject(ctx, j.bucket, j.key, j.file, minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		PartSize:         matrixPartSize,
		DisableMultipart: !j.multipart,
	})
	return err
}
