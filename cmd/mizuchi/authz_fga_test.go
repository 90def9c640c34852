package main

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/internal/authztest"
)

// TestE2EAuthzOpenFGA authorizes uploads with a real OpenFGA server: a
// store, model and tuples written by the test through the SDK; the
// request's context reaching a condition; object templates; cached checks
// counted on the server; fail modes with the server stopped.
func TestE2EAuthzOpenFGA(t *testing.T) {
	api, metricsURL, stopFGA := authztest.StartOpenFGAMetrics(t)
	store, model := authztest.NewStore(t, api, "", authztest.ExampleModel,
		authztest.Tuple("user:alice", "writer", "bucket:fga", "", nil),
		authztest.Tuple("user:bob", "writer", "bucket:fga", "under_limit", map[string]any{"max_length": 1024}),
		authztest.Tuple("user:alice", "writer", "folder:fgaf/alice/docs", "", nil),
		authztest.Tuple("user:alice", "writer", "bucket:fgaopen", "", nil),
	)
	checks := func() int {
		return int(promValue(t, metricsURL,
			`grpc_server_started_total{grpc_method="Check",grpc_service="openfga.v1.OpenFGAService",grpc_type="unary"}`))
	}
	b := startBackend(t, azBucket)
	fgaRoute := func(name, authzExtra, fgaExtra string) route {
		return route{name: name, pathPrefix: "/" + name, bucket: azBucket, keyPrefix: name + "/", extra: azAuth() +
			"    authz:\n      enabled: true\n      type: openfga\n" + authzExtra +
			"      openfga:\n        api_url: " + api + "\n        store_id: " + store + "\n" +
			"        authorization_model_id: " + model + "\n        timeout_ms: 5000\n" + fgaExtra}
	}
	g := startGateway(t, b,
		fgaRoute("fga", "", "        cache_ttl_seconds: 300\n"),
		// Folders from the key instead of the bucket; nothing cached.
		fgaRoute("fgaf", "", "        object: \"folder:{bucket}/{prefix}\"\n        cache_ttl_seconds: 0\n        cache_deny_ttl_seconds: 0\n"),
		fgaRoute("fgaopen", "      fail_mode: open\n", "        cache_ttl_seconds: 0\n"),
	)

	put := func(path string, n int64, ak, sk string) putResult {
		t.Helper()
		return g.signedPut(t, path, genBytes(nextSeed(), n), ak, sk, nil)
	}
	t.Run("Allowed", func(t *testing.T) {
		seed := nextSeed()
		if r := g.signedPut(t, "/fga/alice/a.bin", genBytes(seed, kib), azAliceAK, azAliceSK, nil); r.status != 200 {
			t.Fatalf("alice: %s", r)
		}
		b.checkObject(t, azBucket, "fga/alice/a.bin", seed, kib)
		// bob's tuple carries a condition on the request's content_length.
		seed = nextSeed()
		if r := g.signedPut(t, "/fga/bob/small.bin", genBytes(seed, kib), azBobAK, azBobSK, nil); r.status != 200 {
			t.Fatalf("bob, 1 KiB: %s", r)
		}
		b.checkObject(t, azBucket, "fga/bob/small.bin", seed, kib)
		// A JWT's subject is the OpenFGA user.
		tok := sign(t, jwt.SigningMethodHS256, "", []byte(jwtSecret), claims("alice", nil))
		seed = nextSeed()
		r := g.do(t, http.MethodPut, "/fga/alice/jwt.bin", genBytes(seed, kib), http.Header{"Authorization": {"Bearer " + tok}})
		if r.status != 200 {
			t.Fatalf("alice by JWT: %s", r)
		}
		b.checkObject(t, azBucket, "fga/alice/jwt.bin", seed, kib)
		// The folder template: alice writes folder:fgaf/alice/docs.
		seed = nextSeed()
		if r := g.signedPut(t, "/fgaf/alice/docs/a.bin", genBytes(seed, kib), azAliceAK, azAliceSK, nil); r.status != 200 {
			t.Fatalf("alice in her folder: %s", r)
		}
		b.checkObject(t, azBucket, "fgaf/alice/docs/a.bin", seed, kib)
	})
	t.Run("Denied", func(t *testing.T) {
		f := func(name, path string, n int64, ak, sk string) {
			t.Helper()
			r := put(path, n, ak, sk)
			if code := checkS3Error(t, name, r, false); r.status != 403 || code != "AccessDenied" {
				t.Fatalf("%s: got %s; want 403 AccessDenied", name, r)
			}
			b.checkAbsent(t, azBucket, path[1:])
		}
		f("no tuple", "/fga/eve/x.bin", kib, azEveAK, azEveSK)
		f("condition on content_length", "/fga/bob/big.bin", 2*kib, azBobAK, azBobSK)
		f("condition, spliced size", "/fga/bob/huge.bin", 2*mib, azBobAK, azBobSK)
		f("folder template, other folder", "/fgaf/alice/other/x.bin", kib, azAliceAK, azAliceSK)
	})
	t.Run("BeforeBody", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, "http://"+g.addr+"/fga/eve/early.bin", nil)
		req.ContentLength = 64 * mib
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: azEveAK, SecretAccessKey: azEveSK},
			req, "UNSIGNED-PAYLOAD", "s3", backendRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		c := g.dialRaw(t)
		defer c.Close()
		writeSignedHead(t, c, req, 64*mib, true)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("no response before the body: %v", err)
		}
		if code := checkS3Error(t, "before body", r, false); r.status != 403 || code != "AccessDenied" {
			t.Fatalf("got %s; want 403 AccessDenied before the body", r)
		}
		b.checkAbsent(t, azBucket, "fga/eve/early.bin")
	})
	t.Run("Multipart", func(t *testing.T) {
		ctx := context.Background()
		c := clientS3(g, azAliceAK, azAliceSK, nil)
		key := aws.String("alice/mp.bin")
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("fga"), Key: key})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		body := genBytes(nextSeed(), 6*mib)
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("fga"), Key: key, UploadId: cr.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("fga"), Key: key, UploadId: cr.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
			t.Fatalf("complete: %v", err)
		}
		if got, n := b.objectSHA(t, azBucket, "fga/alice/mp.bin"); got != sha256Hex(body) || n != int64(len(body)) {
			t.Fatalf("completed object differs")
		}
		// eve may not even start one.
		ce := clientS3(g, azEveAK, azEveSK, nil)
		if _, err := ce.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("fga"), Key: aws.String("eve/mp.bin")}); err == nil {
			t.Fatalf("eve created a multipart upload")
		}
	})
	t.Run("Cache", func(t *testing.T) {
		body := genBytes(nextSeed(), kib)
		before := checks()
		for i := 0; i < 3; i++ {
			if r := g.signedPut(t, "/fga/alice/cached.bin", body, azAliceAK, azAliceSK, nil); r.status != 200 {
				t.Fatalf("upload %d: %s", i, r)
			}
		}
		if n := checks() - before; n != 1 {
			t.Fatalf("OpenFGA answered %d checks for 3 identical uploads; want 1", n)
		}
	})
	t.Run("ServerStopped", func(t *testing.T) {
		stopFGA()
		r := put("/fga/alice/down.bin", kib, azAliceAK, azAliceSK)
		if code := checkS3Error(t, "closed", r, false); r.status != 503 || code != "ServiceUnavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("fail_mode closed with OpenFGA down: got %s; want 503 with Retry-After", r)
		}
		b.checkAbsent(t, azBucket, "fga/alice/down.bin")
		seed := nextSeed()
		if r := g.signedPut(t, "/fgaopen/alice/up.bin", genBytes(seed, kib), azAliceAK, azAliceSK, nil); r.status != 200 {
			t.Fatalf("fail_mode open with OpenFGA down: %s", r)
		}
		b.checkObject(t, azBucket, "fgaopen/alice/up.bin", seed, kib)
	})
}
