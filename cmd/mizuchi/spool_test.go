package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	spoolBucket = "spool-bucket"
	spoolMax    = 12 * mib
)

// TestE2ESpool: UploadPart bodies sent with Transfer-Encoding: chunked
// (their length unknown) are spooled to disk and sent to the backend with
// a Content-Length; the payload hash the client signed reaches the backend
// unchanged; parts above the spool budget are refused and leave nothing
// behind (no spool file, no part).
func TestE2ESpool(t *testing.T) {
	b := startBackend(t, spoolBucket)
	dir := t.TempDir()
	g := startGatewayWith(t, b, gwOptions{serverYAML: fmt.Sprintf("  spool:\n    dir: %q\n    max_bytes: %d\n", dir, spoolMax)},
		route{name: "sp", pathPrefix: "/sp", bucket: spoolBucket, keyPrefix: "", extra: "" +
			"    auth:\n      enabled: true\n      sigv4:\n" +
			"        region: us-east-1\n" +
			"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n"})
	c := mpClient(g, clientAK, clientSK)

	t.Run("Complete", func(t *testing.T) { testSpoolComplete(t, g, b, c, dir) })
	t.Run("WrongHash", func(t *testing.T) { testSpoolWrongHash(t, g, b, c, dir) })
	t.Run("TooLarge", func(t *testing.T) { testSpoolTooLarge(t, g, b, c, dir) })
	t.Run("BudgetSpent", func(t *testing.T) { testSpoolBudget(t, g, b, c, dir) })
}

// chunkedPart starts a signed UploadPart with Transfer-Encoding: chunked,
// its x-amz-content-sha256 set to hash (UNSIGNED-PAYLOAD or hex), and
// writes the first n bytes of the generator seed as chunks (without the
// last chunk). finish writes the last chunk and reads the response.
func chunkedPart(t testing.TB, g *gateway, key, id string, num int, hash string, seed uint64, n int64) (c *rawConn, finish func() putResult) {
	t.Helper()
	path := fmt.Sprintf("/sp/%s?partNumber=%d&uploadId=%s", key, num, url.QueryEscape(id))
	req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: clientAK, SecretAccessKey: clientSK}, req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("PUT " + req.URL.RequestURI() + " HTTP/1.1\r\nHost: " + g.addr + "\r\n")
	for k, vs := range req.Header {
		sb.WriteString(k + ": " + vs[0] + "\r\n")
	}
	sb.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	c = g.dialRaw(t)
	if _, err := io.WriteString(c, sb.String()); err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(c, 256<<10)
	buf := make([]byte, 1<<20+17)
	src := newGen(seed, n)
	var werr error
	for werr == nil {
		k, err := io.ReadFull(src, buf)
		if k > 0 {
			fmt.Fprintf(bw, "%x\r\n", k)
			bw.Write(buf[:k])
			bw.WriteString("\r\n")
		}
		if err != nil {
			break
		}
		werr = bw.Flush()
	}
	if werr == nil {
		werr = bw.Flush()
	}
	return c, func() putResult {
		t.Helper()
		if werr == nil {
			_, werr = io.WriteString(c, "0\r\n\r\n")
		}
		r, err := c.readResponse(http.MethodPut)
		if err != nil {
			t.Fatalf("no response to a chunked UploadPart (write err %v): %v", werr, err)
		}
		return r
	}
}

func spoolCreate(t testing.TB, c *s3.Client, key string) string {
	t.Helper()
	out, err := c.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String("sp"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	return aws.ToString(out.UploadId)
}

// checkSpoolEmpty fails unless the spool directory holds no file and no
// byte is spooled.
func checkSpoolEmpty(t testing.TB, g *gateway, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("spool dir not empty: %d entries (first %q)", len(ents), ents[0].Name())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, found := g.metric(t, "mizuchi_spool_bytes_in_use")
		if !found {
			t.Fatalf("mizuchi_spool_bytes_in_use missing")
		}
		if v == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("unexpected mizuchi_spool_bytes_in_use; got %v; want 0", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testSpoolComplete(t *testing.T, g *gateway, b *backend, c *s3.Client, dir string) {
	key := "complete.bin"
	id := spoolCreate(t, c, key)
	s1, n1 := nextSeed(), int64(5*mib+3)
	s2, n2 := nextSeed(), int64(1*mib+7)
	// Part 1 signed UNSIGNED-PAYLOAD, part 2 with the hex SHA-256 of its
	// decoded bytes (checked by the backend, which gets it unchanged).
	_, fin := chunkedPart(t, g, key, id, 1, "UNSIGNED-PAYLOAD", s1, n1)
	r1 := fin()
	_, fin = chunkedPart(t, g, key, id, 2, genSHA(s2, n2), s2, n2)
	r2 := fin()
	if r1.status != 200 || r2.status != 200 {
		t.Fatalf("chunked UploadPart: got %s and %s; want 200", r1, r2)
	}
	parts := []types.CompletedPart{
		{PartNumber: aws.Int32(1), ETag: aws.String(r1.header.Get("ETag"))},
		{PartNumber: aws.Int32(2), ETag: aws.String(r2.header.Get("ETag"))},
	}
	if _, err := c.CompleteMultipartUpload(context.Background(), &s3.CompleteMultipartUploadInput{Bucket: aws.String("sp"), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	h := sha256.New()
	h.Write(genBytes(s1, n1))
	h.Write(genBytes(s2, n2))
	gotSHA, gotN := b.objectSHA(t, spoolBucket, key)
	if want := hex.EncodeToString(h.Sum(nil)); gotSHA != want || gotN != n1+n2 {
		t.Fatalf("unexpected object; got %d bytes sha %s; want %d bytes sha %s", gotN, gotSHA, n1+n2, want)
	}
	if v, _ := g.metric(t, "mizuchi_spool_bodies_total"); v < 2 {
		t.Fatalf("unexpected mizuchi_spool_bodies_total; got %v; want at least 2", v)
	}
	checkSpoolEmpty(t, g, dir)
}

func testSpoolWrongHash(t *testing.T, g *gateway, b *backend, c *s3.Client, dir string) {
	key := "wronghash.bin"
	id := spoolCreate(t, c, key)
	// Signed with the hash of other bytes: the backend checks it and refuses.
	_, fin := chunkedPart(t, g, key, id, 1, genSHA(nextSeed(), 1000), nextSeed(), 1000)
	r := fin()
	if code := checkS3Error(t, "wrong payload hash", r, false); r.status != 400 || code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("unexpected reply to a wrong payload hash; got %s; want 400 XAmzContentSHA256Mismatch", r)
	}
	if ids := b.backendUploadIDs(t, spoolBucket, key); len(ids) != 1 || len(b.backendParts(t, spoolBucket, key, ids[0])) != 0 {
		t.Fatalf("unexpected backend state after a refused part: uploads %v", ids)
	}
	checkSpoolEmpty(t, g, dir)
}

func testSpoolTooLarge(t *testing.T, g *gateway, b *backend, c *s3.Client, dir string) {
	key := "toolarge.bin"
	id := spoolCreate(t, c, key)
	before, _ := g.metric(t, "mizuchi_spool_refusals_total")
	_, fin := chunkedPart(t, g, key, id, 1, "UNSIGNED-PAYLOAD", nextSeed(), spoolMax+1)
	r := fin()
	if code := checkS3Error(t, "part above the spool budget", r, false); r.status != 400 || code != "EntityTooLarge" {
		t.Fatalf("unexpected reply to a part above the spool budget; got %s; want 400 EntityTooLarge", r)
	}
	ids := b.backendUploadIDs(t, spoolBucket, key)
	if len(ids) != 1 {
		t.Fatalf("unexpected backend uploads; got %v; want one", ids)
	}
	if parts := b.backendParts(t, spoolBucket, key, ids[0]); len(parts) != 0 {
		t.Fatalf("unexpected parts on the backend after a refused part; got %v; want none", parts)
	}
	if after, _ := g.metric(t, "mizuchi_spool_refusals_total"); after != before+1 {
		t.Fatalf("unexpected mizuchi_spool_refusals_total; got %v; want %v", after, before+1)
	}
	checkSpoolEmpty(t, g, dir)
}

// testSpoolBudget: a part that has spooled the whole budget and is still
// sending makes another part get 503 SlowDown with Retry-After at once;
// the first one then completes.
func testSpoolBudget(t *testing.T, g *gateway, b *backend, c *s3.Client, dir string) {
	key := "budget.bin"
	id := spoolCreate(t, c, key)
	s1 := nextSeed()
	_, fin := chunkedPart(t, g, key, id, 1, "UNSIGNED-PAYLOAD", s1, spoolMax)
	deadline := time.Now().Add(time.Minute)
	for {
		v, _ := g.metric(t, "mizuchi_spool_bytes_in_use")
		if v >= spoolMax {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first part did not spool the budget; in use %v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, fin2 := chunkedPart(t, g, key, id, 2, "UNSIGNED-PAYLOAD", nextSeed(), 100)
	r2 := fin2()
	if code := checkS3Error(t, "part with the budget spent", r2, false); r2.status != 503 || code != "SlowDown" || r2.header.Get("Retry-After") == "" {
		t.Fatalf("unexpected reply with the budget spent; got %s (Retry-After %q); want 503 SlowDown with Retry-After", r2, r2.header.Get("Retry-After"))
	}
	if r1 := fin(); r1.status != 200 {
		t.Fatalf("the part holding the budget: got %s; want 200", r1)
	}
	ids := b.backendUploadIDs(t, spoolBucket, key)
	if len(ids) != 1 {
		t.Fatalf("unexpected backend uploads; got %v", ids)
	}
	parts := b.backendParts(t, spoolBucket, key, ids[0])
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	if len(parts) != 1 || parts[0] != 1 {
		t.Fatalf("unexpected parts on the backend; got %v; want [1]", parts)
	}
	checkSpoolEmpty(t, g, dir)
}
