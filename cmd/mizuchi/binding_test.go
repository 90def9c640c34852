package main

// Uploads bound to their uploader (issue 12): sealed multipart upload ids,
// per-identity key templates, upload limits and key rules, end to end
// against versitygw.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/golang-jwt/jwt/v5"
)

const (
	bindBucket = "bind-bucket"
	bobAK      = "AKBOBE2E"
	bobSK      = "bob-secret-e2e"
	// other secrets of the fleet test (testUploadIDSecret is "old")
	bindSecretNew   = "e2e-upload-id-secret-NEW-0123456789abcdef0123"
	bindSecretOther = "e2e-upload-id-secret-OTHER-0123456789abcdef01"
)

// sigv4Users is a route's auth section with alice and bob.
const sigv4Users = "    auth:\n      enabled: true\n      sigv4:\n" +
	"        credentials:\n" +
	"          - {access_key: " + aliceAK + ", secret_key: " + aliceSK + ", subject: alice}\n" +
	"          - {access_key: " + bobAK + ", secret_key: " + bobSK + ", subject: bob}\n"

// TestE2EBinding: upload ids work only for their uploader, route and key;
// key templates give each identity its own namespace; limits and key rules
// are enforced from the head.
func TestE2EBinding(t *testing.T) {
	b := startBackend(t, bindBucket)
	g := startGateway(t, b,
		route{name: "own", pathPrefix: "/own", bucket: bindBucket, keyPrefix: "own/", extra: sigv4Users},
		route{name: "tmpl", pathPrefix: "/tmpl", bucket: bindBucket, keyPrefix: "t/", extra: sigv4Users +
			"    upload: {key_template: \"{subject}/{key}\"}\n"},
		route{name: "tenant", pathPrefix: "/tenant", bucket: bindBucket, keyPrefix: "j/", extra: "" +
			"    auth:\n      enabled: true\n      jwt:\n        algorithm: HS256\n        secret: " + jwtSecret + "\n" +
			"        issuer: " + jwtIssuer + "\n        audience: " + jwtAudience + "\n" +
			"    upload: {key_template: \"{claims.tenant}/{key}\"}\n"},
		route{name: "short", pathPrefix: "/short", bucket: bindBucket, keyPrefix: "short/", extra: "" +
			"    upload: {max_upload_age_seconds: 2}\n"},
		route{name: "lim", pathPrefix: "/lim", bucket: bindBucket, keyPrefix: "lim/", extra: "" +
			"    upload: {max_object_size: 1MiB, max_part_size: 5MiB, allowed_content_types: [\"image/*\", application/pdf]}\n"},
		route{name: "keys", pathPrefix: "/keys", bucket: bindBucket, keyPrefix: "keys/"},
		route{name: "dated", pathPrefix: "/dated", bucket: bindBucket, keyPrefix: "d/", extra: "" +
			"    upload: {key_template: \"{route}/{date}/{key}\", multipart_threshold: 5MiB, part_size: 5MiB}\n"},
	)
	t.Run("OtherUploader", func(t *testing.T) { testBindOtherUploader(t, g, b) })
	t.Run("Expired", func(t *testing.T) { testBindExpired(t, g, b) })
	t.Run("KeyTemplate", func(t *testing.T) { testBindKeyTemplate(t, g, b) })
	t.Run("ClaimsTemplate", func(t *testing.T) { testBindClaimsTemplate(t, g, b) })
	t.Run("Limits", func(t *testing.T) { testBindLimits(t, g, b) })
	t.Run("ChunkedCutoff", func(t *testing.T) { testBindChunkedCutoff(t, g, b) })
	t.Run("Keys", func(t *testing.T) { testBindKeys(t, g, b) })
	t.Run("AutoMultipartTemplate", func(t *testing.T) { testBindAutoMultipart(t, g, b) })
}

// testBindAutoMultipart: the internal multipart upload of a large or
// chunked PutObject (backend ids, never sealed) writes the stored key.
func testBindAutoMultipart(t *testing.T, g *gateway, b *backend) {
	day := func() string { return time.Now().UTC().Format("2006-01-02") }
	check := func(key string, seed uint64, n int64, before string) {
		t.Helper()
		stored := "d/dated/" + before + "/" + key
		if after := day(); after != before && !b.exists(t, bindBucket, stored) {
			stored = "d/dated/" + after + "/" + key // midnight passed meanwhile
		}
		b.checkObject(t, bindBucket, stored, seed, n)
		b.checkAbsent(t, bindBucket, "d/"+key)
	}
	seed, d := nextSeed(), day()
	if r := chunkedPut(t, g, "/dated/chunked.bin", seed, 7*mib, ""); r.status != 200 {
		t.Fatalf("chunked PUT on a template route: %s", r)
	}
	check("chunked.bin", seed, 7*mib, d)
	seed, d = nextSeed(), day()
	g.mustPut(t, "/dated/big.bin", seed, 6*mib, putOpts{expect: true})
	check("big.bin", seed, 6*mib, d)
	seed, d = nextSeed(), day()
	g.mustPut(t, "/dated/small.bin", seed, kib, putOpts{})
	check("small.bin", seed, kib, d)
	if got := b.pendingUploads(t, bindBucket); got != 0 {
		t.Fatalf("pending uploads after the auto-multipart uploads: %d; want 0", got)
	}
}

func mpClient(g *gateway, ak, sk string) *s3.Client {
	return clientS3(g, ak, sk, func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
}

// backendUploadIDs lists the backend's pending upload ids of bucket/key.
func (b *backend) backendUploadIDs(t testing.TB, bucket, key string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := b.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatalf("ListMultipartUploads on the backend: %v", err)
	}
	var ids []string
	for _, u := range out.Uploads {
		if aws.ToString(u.Key) == key {
			ids = append(ids, aws.ToString(u.UploadId))
		}
	}
	return ids
}

// backendParts returns the part numbers the backend holds for an upload.
func (b *backend) backendParts(t testing.TB, bucket, key, id string) []int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := b.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)})
	if err != nil {
		t.Fatalf("ListParts on the backend: %v", err)
	}
	var nums []int32
	for _, p := range out.Parts {
		nums = append(nums, aws.ToInt32(p.PartNumber))
	}
	return nums
}

// wantAPIError fails unless err is an S3 error with code.
func wantAPIError(t testing.TB, what string, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("%s: got %v; want %s", what, err, code)
	}
}

// mpOps runs UploadPart, ListParts, CompleteMultipartUpload and
// AbortMultipartUpload with id on bucket/key and expects code from each.
func mpOps(t testing.TB, c *s3.Client, bucket, key, id, code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A small part: it arrives with its head, which is refused (a larger
	// body would be cut off unread, as for every refusal from the head).
	body := genBytes(nextSeed(), kib)
	_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		PartNumber: aws.Int32(2), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	wantAPIError(t, "UploadPart", err, code)
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)})
	wantAPIError(t, "ListParts", err, code)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00"`)}}}})
	wantAPIError(t, "CompleteMultipartUpload", err, code)
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)})
	wantAPIError(t, "AbortMultipartUpload", err, code)
}

// uploadPart uploads one part and returns it for the completion.
func uploadPart(t testing.TB, c *s3.Client, bucket, key, id string, num int32, body []byte) types.CompletedPart {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		PartNumber: aws.Int32(num), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		t.Fatalf("UploadPart %d: %v", num, err)
	}
	return types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(num)}
}

func createUpload(t testing.TB, c *s3.Client, bucket, key string) *s3.CreateMultipartUploadOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("CreateMultipartUpload %s/%s: %v", bucket, key, err)
	}
	return out
}

func completeUpload(t testing.TB, c *s3.Client, bucket, key, id string, parts []types.CompletedPart) *s3.CompleteMultipartUploadOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload %s/%s: %v", bucket, key, err)
	}
	return out
}

// testBindOtherUploader: alice, with her own valid signature, cannot touch
// bob's upload with bob's id; nor can tampered, truncated or raw backend
// ids, or bob's id on another key. Bob's upload is untouched and completes.
func testBindOtherUploader(t *testing.T, g *gateway, b *backend) {
	alice, bob := mpClient(g, aliceAK, aliceSK), mpClient(g, bobAK, bobSK)
	const key = "shared/report.bin"
	create := createUpload(t, bob, "own", key)
	id := aws.ToString(create.UploadId)
	backendIDs := b.backendUploadIDs(t, bindBucket, "own/"+key)
	if len(backendIDs) != 1 {
		t.Fatalf("backend uploads of %q: %v; want one", key, backendIDs)
	}
	backendID := backendIDs[0]
	if id == backendID || strings.Contains(id, backendID) {
		t.Fatalf("the client got the backend's upload id %q", backendID)
	}
	body1 := genBytes(nextSeed(), 5*mib)
	parts := []types.CompletedPart{uploadPart(t, bob, "own", key, id, 1, body1)}

	mpOps(t, alice, "own", key, id, "NoSuchUpload")
	tampered := []byte(id)
	tampered[len(tampered)/2] ^= 0x01
	for name, bad := range map[string]string{
		"tampered": string(tampered), "truncated": id[:len(id)-4], "extended": id + "AAAA",
		"backend id": backendID, "empty-ish": "x",
	} {
		t.Run(name, func(t *testing.T) { mpOps(t, bob, "own", key, bad, "NoSuchUpload") })
	}
	// Bob's own id on another key of his, or on another route.
	mpOps(t, bob, "own", key+".other", id, "NoSuchUpload")
	mpOps(t, bob, "tmpl", key, id, "NoSuchUpload")

	// The backend is unchanged: still pending, still one part.
	if ids := b.backendUploadIDs(t, bindBucket, "own/"+key); len(ids) != 1 || ids[0] != backendID {
		t.Fatalf("backend uploads after the refusals: %v; want [%s]", ids, backendID)
	}
	if nums := b.backendParts(t, bindBucket, "own/"+key, backendID); len(nums) != 1 || nums[0] != 1 {
		t.Fatalf("backend parts after the refusals: %v; want [1]", nums)
	}

	// ListParts answers with the client's own (sealed) id.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lp, err := bob.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("own"), Key: aws.String(key), UploadId: aws.String(id)})
	if err != nil || aws.ToString(lp.UploadId) != id || aws.ToString(lp.Key) != key || len(lp.Parts) != 1 {
		t.Fatalf("bob's ListParts: %v; upload id %q key %q parts %d; want %q %q 1", err, aws.ToString(lp.UploadId), aws.ToString(lp.Key), len(lp.Parts), id, key)
	}
	body2 := genBytes(nextSeed(), 100*kib)
	parts = append(parts, uploadPart(t, bob, "own", key, id, 2, body2))
	completeUpload(t, bob, "own", key, id, parts)
	got, n := b.objectSHA(t, bindBucket, "own/"+key)
	if want := sha256Hex(append(body1, body2...)); got != want || n != int64(len(body1)+len(body2)) {
		t.Fatalf("bob's object: sha %s size %d; want %s %d", got, n, want, len(body1)+len(body2))
	}
	// The completed upload is gone on the backend: the gateway passes the
	// backend's NoSuchUpload on.
	_, err = bob.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("own"), Key: aws.String(key), UploadId: aws.String(id)})
	wantAPIError(t, "ListParts after the completion", err, "NoSuchUpload")
}

// testBindExpired: an id older than max_upload_age_seconds is refused,
// while the backend still holds the upload.
func testBindExpired(t *testing.T, g *gateway, b *backend) {
	c := mpClient(g, "AKANY", "any-secret")
	const key = "expiring.bin"
	id := aws.ToString(createUpload(t, c, "short", key).UploadId)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("short"), Key: aws.String(key), UploadId: aws.String(id)}); err != nil {
		t.Fatalf("ListParts right after the creation: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("short"), Key: aws.String(key), UploadId: aws.String(id)})
		if err != nil {
			wantAPIError(t, "ListParts of an expired id", err, "NoSuchUpload")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload id of a 2 s route still works after 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	mpOps(t, c, "short", key, id, "NoSuchUpload")
	ids := b.backendUploadIDs(t, bindBucket, "short/"+key)
	if len(ids) != 1 {
		t.Fatalf("backend uploads of the expired id: %v; want it still pending", ids)
	}
	if _, err := b.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bindBucket), Key: aws.String("short/" + key), UploadId: aws.String(ids[0])}); err != nil {
		t.Fatalf("cannot abort on the backend: %v", err)
	}
}

// testBindKeyTemplate: with "{subject}/{key}" alice and bob upload the same
// key into their own namespaces; replies name the client's key.
func testBindKeyTemplate(t *testing.T, g *gateway, b *backend) {
	alice, bob := mpClient(g, aliceAK, aliceSK), mpClient(g, bobAK, bobSK)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const key = "same/name.bin"
	seeds := map[string]uint64{"alice": nextSeed(), "bob": nextSeed()}
	for who, c := range map[string]*s3.Client{"alice": alice, "bob": bob} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tmpl"), Key: aws.String(key),
			Body: bytes.NewReader(genBytes(seeds[who], 3*kib)), ContentLength: aws.Int64(3 * kib)}); err != nil {
			t.Fatalf("%s's PutObject: %v", who, err)
		}
	}
	b.checkObject(t, bindBucket, "t/alice/"+key, seeds["alice"], 3*kib)
	b.checkObject(t, bindBucket, "t/bob/"+key, seeds["bob"], 3*kib)
	b.checkAbsent(t, bindBucket, "t/"+key)

	// Multipart: every reply names the client's key.
	const mpKey = "mp/big.bin"
	create := createUpload(t, alice, "tmpl", mpKey)
	id := aws.ToString(create.UploadId)
	if aws.ToString(create.Key) != mpKey || aws.ToString(create.Bucket) != "tmpl" {
		t.Fatalf("CreateMultipartUpload names bucket %q key %q; want tmpl %q", aws.ToString(create.Bucket), aws.ToString(create.Key), mpKey)
	}
	if ids := b.backendUploadIDs(t, bindBucket, "t/alice/"+mpKey); len(ids) != 1 {
		t.Fatalf("backend uploads of t/alice/%s: %v; want one", mpKey, ids)
	}
	body1, body2 := genBytes(nextSeed(), 5*mib), genBytes(nextSeed(), 10*kib)
	parts := []types.CompletedPart{uploadPart(t, alice, "tmpl", mpKey, id, 1, body1), uploadPart(t, alice, "tmpl", mpKey, id, 2, body2)}
	// Bob names the same client key, but his stored key is another.
	mpOps(t, bob, "tmpl", mpKey, id, "NoSuchUpload")
	lp, err := alice.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("tmpl"), Key: aws.String(mpKey), UploadId: aws.String(id)})
	if err != nil || aws.ToString(lp.Key) != mpKey || aws.ToString(lp.UploadId) != id || len(lp.Parts) != 2 {
		t.Fatalf("ListParts: %v; key %q upload id %q parts %d", err, aws.ToString(lp.Key), aws.ToString(lp.UploadId), len(lp.Parts))
	}
	comp := completeUpload(t, alice, "tmpl", mpKey, id, parts)
	if aws.ToString(comp.Key) != mpKey || aws.ToString(comp.Bucket) != "tmpl" {
		t.Fatalf("CompleteMultipartUpload names bucket %q key %q", aws.ToString(comp.Bucket), aws.ToString(comp.Key))
	}
	if loc := aws.ToString(comp.Location); !strings.HasSuffix(loc, "/tmpl/"+mpKey) || strings.Contains(loc, "alice") || strings.Contains(loc, bindBucket) {
		t.Fatalf("CompleteMultipartUpload Location %q; want the client's URL", loc)
	}
	got, n := b.objectSHA(t, bindBucket, "t/alice/"+mpKey)
	if want := sha256Hex(append(body1, body2...)); got != want || n != int64(len(body1)+len(body2)) {
		t.Fatalf("alice's multipart object: sha %s size %d", got, n)
	}
	b.checkAbsent(t, bindBucket, "t/"+mpKey)
}

// testBindClaimsTemplate: "{claims.tenant}/{key}" stores under the token's
// tenant; a token without the claim is refused with 403.
func testBindClaimsTemplate(t *testing.T, g *gateway, b *backend) {
	bearer := func(c jwt.MapClaims) putOpts {
		return putOpts{header: http.Header{"Authorization": {"Bearer " + sign(t, jwt.SigningMethodHS256, "", []byte(jwtSecret), c)}}}
	}
	seed := nextSeed()
	g.mustPut(t, "/tenant/docs/a.txt", seed, 2*kib, bearer(claims("carol", func(c jwt.MapClaims) { c["tenant"] = "acme" })))
	b.checkObject(t, bindBucket, "j/acme/docs/a.txt", seed, 2*kib)
	b.checkAbsent(t, bindBucket, "j/docs/a.txt")
	for name, mod := range map[string]func(jwt.MapClaims){
		"no tenant":       nil,
		"tenant with '/'": func(c jwt.MapClaims) { c["tenant"] = "acme/../evil" },
		"tenant object":   func(c jwt.MapClaims) { c["tenant"] = map[string]any{"id": "acme"} },
		"empty tenant":    func(c jwt.MapClaims) { c["tenant"] = "" },
	} {
		r := g.put(t, "/tenant/docs/b.txt", nextSeed(), 2*kib, bearer(claims("carol", mod)))
		if code := checkS3Error(t, name, r, false); r.status != 403 || code != "AccessDenied" {
			t.Fatalf("token with %s: %s; want 403 AccessDenied", name, r)
		}
	}
	b.checkAbsent(t, bindBucket, "j/docs/b.txt")
}

// testBindLimits: max_object_size, max_part_size and allowed_content_types
// are checked from the head, before 100 Continue.
func testBindLimits(t *testing.T, g *gateway, b *backend) {
	png := http.Header{"Content-Type": {"image/png"}}
	seed := nextSeed()
	g.mustPut(t, "/lim/fits.png", seed, mib, putOpts{header: png})
	b.checkObject(t, bindBucket, "lim/fits.png", seed, mib)

	r := g.put(t, "/lim/big.png", nextSeed(), mib+1, putOpts{header: png, expect: true})
	if code := checkS3Error(t, "PUT above max_object_size", r, false); r.status != 400 || code != "EntityTooLarge" ||
		!strings.Contains(string(r.body), "maximum allowed size: 1048576 bytes") || !strings.Contains(string(r.body), "<MaxSizeAllowed>1048576</MaxSizeAllowed>") {
		t.Fatalf("PUT above max_object_size: %s; want 400 EntityTooLarge naming the limit", r)
	}
	b.checkAbsent(t, bindBucket, "lim/big.png")
	// Refused from the head: no 100 Continue, no body read.
	c := g.dialRaw(t)
	if err := c.writePutHead("/lim/big2.png", 64*mib, "Expect: 100-continue\r\nContent-Type: image/png\r\n"); err != nil {
		t.Fatal(err)
	}
	if r, err := c.readResponse(http.MethodPut); err != nil || r.status != 400 {
		t.Fatalf("PUT head above max_object_size with Expect: %v %v; want 400 before 100 Continue", r, err)
	}

	for _, ct := range []string{"text/plain", "", "imagex/png"} {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		r := g.put(t, "/lim/doc.txt", nextSeed(), kib, putOpts{header: h})
		if code := checkS3Error(t, "PUT of "+ct, r, false); r.status != 400 || code != "InvalidArgument" ||
			!strings.Contains(string(r.body), "image/*, application/pdf") {
			t.Fatalf("PUT with Content-Type %q: %s; want 400 InvalidArgument naming the allowed types", ct, r)
		}
	}
	b.checkAbsent(t, bindBucket, "lim/doc.txt")
	g.mustPut(t, "/lim/doc.pdf", nextSeed(), kib, putOpts{header: http.Header{"Content-Type": {"application/pdf; charset=binary"}}})

	// CreateMultipartUpload checks the content type; UploadPart the part size.
	r = g.do(t, http.MethodPost, "/lim/mp.txt?uploads", nil, http.Header{"Content-Type": {"text/plain"}})
	if code := checkS3Error(t, "CreateMultipartUpload of text/plain", r, false); r.status != 400 || code != "InvalidArgument" {
		t.Fatalf("CreateMultipartUpload of text/plain: %s; want 400 InvalidArgument", r)
	}
	cl := mpClient(g, "AKANY", "any-secret")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	create, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lim"), Key: aws.String("mp.png"), ContentType: aws.String("image/png")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload of image/png: %v", err)
	}
	id := aws.ToString(create.UploadId)
	partPath := "/lim/mp.png?partNumber=1&uploadId=" + url.QueryEscape(id)
	r = g.put(t, partPath, nextSeed(), 5*mib+1, putOpts{expect: true})
	if code := checkS3Error(t, "UploadPart above max_part_size", r, false); r.status != 400 || code != "EntityTooLarge" ||
		!strings.Contains(string(r.body), "5242880 bytes") {
		t.Fatalf("UploadPart above max_part_size: %s; want 400 EntityTooLarge", r)
	}
	if ids := b.backendUploadIDs(t, bindBucket, "lim/mp.png"); len(ids) != 1 || len(b.backendParts(t, bindBucket, "lim/mp.png", ids[0])) != 0 {
		t.Fatalf("backend upload after a refused part: %v; want one without parts", ids)
	}
	part := uploadPart(t, cl, "lim", "mp.png", id, 1, genBytes(nextSeed(), 5*mib))
	completeUpload(t, cl, "lim", "mp.png", id, []types.CompletedPart{part})
	if !b.exists(t, bindBucket, "lim/mp.png") {
		t.Fatalf("the multipart upload within the limits was not stored")
	}
}

// testBindChunkedCutoff: a chunked PutObject of unknown length is cut off
// with 400 EntityTooLarge once its bytes pass max_object_size; its
// internal multipart upload is aborted and nothing is stored.
func testBindChunkedCutoff(t *testing.T, g *gateway, b *backend) {
	before := b.pendingUploads(t, bindBucket)
	r := chunkedPut(t, g, "/lim/chunked-big.png", nextSeed(), 3*mib, "Content-Type: image/png\r\n")
	if code := checkS3Error(t, "chunked PUT above max_object_size", r, false); r.status != 400 || code != "EntityTooLarge" ||
		!strings.Contains(string(r.body), "1048576 bytes") {
		t.Fatalf("chunked PUT above max_object_size: %s; want 400 EntityTooLarge", r)
	}
	b.checkAbsent(t, bindBucket, "lim/chunked-big.png")
	if got := b.pendingUploads(t, bindBucket); got != before {
		t.Fatalf("pending uploads after the cutoff: %d; want %d", got, before)
	}
	// Just above the limit by one byte, too; at the limit it is stored.
	r = chunkedPut(t, g, "/lim/chunked-edge.png", nextSeed(), mib+1, "Content-Type: image/png\r\n")
	if r.status != 400 {
		t.Fatalf("chunked PUT one byte above max_object_size: %s; want 400", r)
	}
	b.checkAbsent(t, bindBucket, "lim/chunked-edge.png")
	seed := nextSeed()
	if r := chunkedPut(t, g, "/lim/chunked-fits.png", seed, mib, "Content-Type: image/png\r\n"); r.status != 200 {
		t.Fatalf("chunked PUT at max_object_size: %s; want 200", r)
	}
	b.checkObject(t, bindBucket, "lim/chunked-fits.png", seed, mib)
	if got := b.pendingUploads(t, bindBucket); got != before {
		t.Fatalf("pending uploads after the chunked uploads: %d; want %d", got, before)
	}
}

// testBindKeys: invalid keys are refused with 400 before the backend is
// contacted; unusual but valid keys are stored as named.
func testBindKeys(t *testing.T, g *gateway, b *backend) {
	upstream := func() float64 {
		return g.metricSum(t, `mizuchi_upstream_request_duration_seconds_count`)
	}
	refused := func() float64 {
		v, _ := g.metric(t, `mizuchi_upload_refused_total{reason="key"}`)
		return v
	}
	signed := func(path string, body []byte) putResult {
		t.Helper()
		req := sdkSigned(t, g, path, body, aliceAK, aliceSK, backendRegion, time.Now())
		req.URL.Opaque = path // exactly as written: no client-side cleaning
		resp, err := g.client.Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", path, err)
		}
		defer resp.Body.Close()
		var rb bytes.Buffer
		rb.ReadFrom(resp.Body)
		return putResult{status: resp.StatusCode, header: resp.Header, body: rb.Bytes()}
	}
	f := func(rawKey string, wantStatus int, wantCode string) {
		t.Helper()
		up0, ref0 := upstream(), refused()
		r := g.put(t, "/keys/"+rawKey, nextSeed(), kib, putOpts{})
		if code := checkS3Error(t, "key "+rawKey, r, false); r.status != wantStatus || code != wantCode {
			t.Fatalf("key %q on the key_prefix route: %s; want %d %s", rawKey, r, wantStatus, wantCode)
		}
		r = signed("/tmpl/"+rawKey, genBytes(nextSeed(), kib))
		if code := checkS3Error(t, "key "+rawKey, r, false); r.status != wantStatus || code != wantCode {
			t.Fatalf("key %q on the template route: %s; want %d %s", rawKey, r, wantStatus, wantCode)
		}
		if up, ref := upstream(), refused(); up != up0 || ref != ref0+2 {
			t.Fatalf("key %q: backend requests %v -> %v, key refusals %v -> %v; want no backend request, 2 refusals", rawKey, up0, up, ref0, ref)
		}
	}
	for _, k := range []string{"a%00b", "a%01b", "a%7Fb", "a%FFb", "a%C0%AFb", "a%C2%85b", "a%EF%BF%BEb",
		"..%2F..%2Fother%2Fx", "a/./b", "a/../b", "..", "a/..", "./a", "a%2F.%2Fb"} {
		f(k, 400, "InvalidArgument")
	}
	f(strings.Repeat("k", 1025), 400, "KeyTooLongError")
	// The stored length counts: "keys/" + 1020 > 1024, "t/alice/" + 1017 > 1024.
	f(strings.Repeat("k", 1020), 400, "KeyTooLongError")
	b.checkAbsent(t, bindBucket, "other/x")

	longKey := strings.Repeat(strings.Repeat("k", 199)+"/", 5) + strings.Repeat("k", 19)
	for _, k := range []struct{ raw, key string }{
		{"a//b.bin", "a//b.bin"},
		{"caf%C3%A9/%E6%97%A5%E6%9C%AC.txt", "caf\u00e9/\u65e5\u672c.txt"},
		{"dots/..a/a../.../x.", "dots/..a/a../.../x."},
		{longKey, longKey}, // "keys/" + 1019 = 1024 bytes stored
	} {
		seed := nextSeed()
		g.mustPut(t, "/keys/"+k.raw, seed, kib, putOpts{})
		b.checkObject(t, bindBucket, "keys/"+k.key, seed, kib)
	}
	body := genBytes(nextSeed(), kib)
	if r := signed("/tmpl/caf%C3%A9//x.bin", body); r.status != 200 {
		t.Fatalf("signed PUT of a valid key on the template route: %s", r)
	}
	if got, _ := b.objectSHA(t, bindBucket, "t/alice/caf\u00e9//x.bin"); got != sha256Hex(body) {
		t.Fatalf("the template route stored another object")
	}
}

// TestE2EBindingFleet: gateways sharing the secret serve one upload
// together; a gateway with another secret refuses its id; a gateway that
// rotated to a new secret still accepts ids sealed with the old one.
func TestE2EBindingFleet(t *testing.T) {
	b := startBackend(t, bindBucket)
	rt := route{name: "fleet", pathPrefix: "/fleet", bucket: bindBucket, keyPrefix: "fleet/", extra: sigv4Users}
	g1 := startGateway(t, b, rt) // testUploadIDSecret ("old")
	g2 := startGateway(t, b, rt) // the same
	g3 := startGatewayWith(t, b, gwOptions{uploadIDSecrets: []string{bindSecretOther}}, rt)
	g4 := startGatewayWith(t, b, gwOptions{uploadIDSecrets: []string{bindSecretNew, testUploadIDSecret}}, rt)
	c1, c2 := mpClient(g1, aliceAK, aliceSK), mpClient(g2, aliceAK, aliceSK)
	c3, c4 := mpClient(g3, aliceAK, aliceSK), mpClient(g4, aliceAK, aliceSK)

	const key = "fleet/object.bin"
	id := aws.ToString(createUpload(t, c1, "fleet", key).UploadId)
	body1, body2, body3 := genBytes(nextSeed(), 5*mib), genBytes(nextSeed(), 5*mib), genBytes(nextSeed(), 200*kib)
	parts := []types.CompletedPart{
		uploadPart(t, c1, "fleet", key, id, 1, body1),
		uploadPart(t, c2, "fleet", key, id, 2, body2),
		uploadPart(t, c4, "fleet", key, id, 3, body3), // rotated: opens with the old secret
	}
	mpOps(t, c3, "fleet", key, id, "NoSuchUpload")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lp, err := c4.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("fleet"), Key: aws.String(key), UploadId: aws.String(id)})
	if err != nil || len(lp.Parts) != 3 || aws.ToString(lp.UploadId) != id {
		t.Fatalf("ListParts through the rotated gateway: %v %+v", err, lp)
	}
	completeUpload(t, c2, "fleet", key, id, parts)
	got, n := b.objectSHA(t, bindBucket, "fleet/"+key)
	whole := append(append(append([]byte(nil), body1...), body2...), body3...)
	if got != sha256Hex(whole) || n != int64(len(whole)) {
		t.Fatalf("the fleet's object: sha %s size %d; want %s %d", got, n, sha256Hex(whole), len(whole))
	}

	// An id sealed with the new secret opens only where the new secret is.
	id4 := aws.ToString(createUpload(t, c4, "fleet", "fleet/new.bin").UploadId)
	mpOps(t, c1, "fleet", "fleet/new.bin", id4, "NoSuchUpload")
	if _, err := c4.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("fleet"), Key: aws.String("fleet/new.bin"), UploadId: aws.String(id4)}); err != nil {
		t.Fatalf("abort through the gateway that sealed it: %v", err)
	}
	if got := b.pendingUploads(t, bindBucket); got != 0 {
		t.Fatalf("pending uploads at the end: %d; want 0", got)
	}
}
