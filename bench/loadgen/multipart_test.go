package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/s3sink"
)

// checkMultipart checks a run of whole uploads with no error against the sink.
func checkMultipart(t *testing.T, cfg *config, res *result, s *s3sink.Server) {
	t.Helper()
	checkResultBytes(t, res, s, uint64(res.bodyBytes+res.xmlBytes))
	if res.uploads <= 0 {
		t.Fatalf("unexpected upload count; got %d; want > 0", res.uploads)
	}
	if want := res.uploads * int64(cfg.parts+2); res.ok != want {
		t.Fatalf("unexpected request count; got %d; want %d (create, %d parts, complete per upload)", res.ok, want, cfg.parts)
	}
	if want := res.uploads * int64(cfg.parts) * cfg.size; res.bodyBytes != want {
		t.Fatalf("unexpected part bytes; got %d; want %d", res.bodyBytes, want)
	}
	if int64(len(res.uploadLatencies)) != res.uploads {
		t.Fatalf("unexpected upload sample count; got %d; want %d", len(res.uploadLatencies), res.uploads)
	}
	if res.dials != int64(cfg.conns) {
		t.Fatalf("unexpected dials; got %d; want %d (keep-alive)", res.dials, cfg.conns)
	}
}

// TestRun_Multipart: -requests bounds uploads; the sink answers every
// CreateMultipartUpload, UploadPart and CompleteMultipartUpload (it counts
// only requests and body bytes, so those are what is compared).
func TestRun_Multipart(t *testing.T) {
	s := startSink(t)
	cfg := testConfig(t, s)
	cfg.conns = 2
	cfg.parts = 3
	cfg.size = 1 << 10
	cfg.requests = 10
	cfg.duration = 10 * time.Second
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkMultipart(t, cfg, res, s)
	if res.uploads != cfg.requests {
		t.Fatalf("unexpected upload count; got %d; want %d", res.uploads, cfg.requests)
	}
}

// TestRun_MultipartDurationSigV4: a run bounded by -duration ends with whole
// uploads only, also with SigV4 and Expect: 100-continue on the parts.
func TestRun_MultipartDurationSigV4(t *testing.T) {
	s := startSink(t)
	cfg := testConfig(t, s)
	cfg.conns = 2
	cfg.parts = 3
	cfg.size = 1<<20 + 3 // more than the body buffer
	cfg.bufSize = 1 << 19
	cfg.expect100 = true
	// Long enough that a loaded machine starts at least one upload (an
	// upload in flight at the deadline runs to its end).
	cfg.duration = time.Second
	var err error
	if cfg.newSigner, err = newSigner(&authConfig{mode: "sigv4", region: "us-east-1", accessKey: "AK", secretKey: "SK"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > cfg.duration+cfg.timeout {
		t.Fatalf("run took %s; want about %s", d, cfg.duration)
	}
	checkMultipart(t, cfg, res, s)
}

// fakeS3 is a net/http server that checks what loadgen sends in multipart
// mode and can fail a step on purpose.
type fakeS3 struct {
	uploadID string // raw; sent XML-escaped
	parts    int
	fail     string // "", "no-etag" (part 2), "complete-error" (200, chunked, <Error>)

	mu                      sync.Mutex
	creates, puts, complete int
	bad                     []string
}

func (f *fakeS3) badf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bad = append(f.bad, fmt.Sprintf(format, args...))
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == "POST" && q.Has("uploads"):
		f.mu.Lock()
		f.creates++
		f.mu.Unlock()
		var x bytes.Buffer
		x.WriteString(`<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>`)
		xml.EscapeText(&x, []byte(f.uploadID))
		x.WriteString(`</UploadId></InitiateMultipartUploadResult>`)
		w.Write(x.Bytes())
	case r.Method == "PUT" && q.Has("partNumber"):
		f.mu.Lock()
		f.puts++
		f.mu.Unlock()
		if got := q.Get("uploadId"); got != f.uploadID {
			f.badf("part: uploadId %q; want %q", got, f.uploadID)
		}
		n, _ := strconv.Atoi(q.Get("partNumber"))
		if len(body) != 1<<10 {
			f.badf("part %d: %d body bytes", n, len(body))
		}
		if f.fail != "no-etag" || n != 2 {
			w.Header().Set("ETag", `"etag-`+strconv.Itoa(n)+`&<>"`)
		}
	case r.Method == "POST" && q.Has("uploadId"):
		f.mu.Lock()
		f.complete++
		f.mu.Unlock()
		if got := q.Get("uploadId"); got != f.uploadID {
			f.badf("complete: uploadId %q; want %q", got, f.uploadID)
		}
		var c struct {
			Parts []struct {
				PartNumber int
				ETag       string
			} `xml:"Part"`
		}
		if err := xml.Unmarshal(body, &c); err != nil {
			f.badf("complete: cannot parse %q: %s", body, err)
		}
		if len(c.Parts) != f.parts {
			f.badf("complete: %d parts; want %d: %s", len(c.Parts), f.parts, body)
		}
		for i, p := range c.Parts {
			if want := `"etag-` + strconv.Itoa(i+1) + `&<>"`; p.PartNumber != i+1 || p.ETag != want {
				f.badf("complete: part %d is %d %q; want %d %q", i, p.PartNumber, p.ETag, i+1, want)
			}
		}
		if f.fail == "complete-error" {
			w.WriteHeader(200)
			w.(http.Flusher).Flush() // chunked, as S3 may stream the reply
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+strings.Repeat(" ", 100))
			w.(http.Flusher).Flush()
			io.WriteString(w, `<Error><Code>InternalError</Code></Error>`)
			return
		}
		io.WriteString(w, `<CompleteMultipartUploadResult><ETag>"x-3"</ETag></CompleteMultipartUploadResult>`)
	default:
		f.badf("unexpected %s %s", r.Method, r.URL)
		w.WriteHeader(501)
	}
}

func runFake(t *testing.T, f *fakeS3, uploads int64) *result {
	t.Helper()
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := &config{size: 1 << 10, parts: f.parts, conns: 1, requests: uploads, duration: 10 * time.Second, timeout: 5 * time.Second, bufSize: 1 << 10}
	var err error
	if cfg.newSigner, err = newSigner(&authConfig{mode: "none"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := configFromURL(cfg, srv.URL+"/b/k", false); err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bad) > 0 {
		t.Fatalf("the server saw bad requests:\n%s", strings.Join(f.bad, "\n"))
	}
	return res
}

// TestRun_MultipartRequests checks the queries, the escaping of the upload id
// and the CompleteMultipartUpload body against net/http's server.
func TestRun_MultipartRequests(t *testing.T) {
	f := &fakeS3{uploadID: "a+b/c=d&e~f%g h", parts: 3}
	res := runFake(t, f, 4)
	if res.errTotal() != 0 || res.uploads != 4 || res.ok != 4*5 {
		t.Fatalf("unexpected result: uploads %d ok %d errs %v %v", res.uploads, res.ok, res.errs, res.firstErr)
	}
	if f.creates != 4 || f.puts != 12 || f.complete != 4 {
		t.Fatalf("unexpected server counts: %d creates, %d parts, %d completes; want 4, 12, 4", f.creates, f.puts, f.complete)
	}
}

// TestRun_MultipartFailures: a failed step counts one protocol error, ends
// its upload, and the worker goes on with the next upload.
func TestRun_MultipartFailures(t *testing.T) {
	f := &fakeS3{uploadID: "id", parts: 3, fail: "complete-error"}
	res := runFake(t, f, 3)
	if res.uploads != 0 || res.errs[errProtocol] != 3 || res.errTotal() != 3 || res.ok != 3*4 {
		t.Fatalf("unexpected result with a failing complete: uploads %d ok %d errs %v", res.uploads, res.ok, res.errs)
	}
	if e := res.firstErr[errProtocol]; !strings.Contains(e, "<Error><Code>InternalError") {
		t.Fatalf("unexpected error example %q", e)
	}
	if f.complete != 3 {
		t.Fatalf("unexpected completes; got %d; want 3", f.complete)
	}

	f = &fakeS3{uploadID: "id", parts: 3, fail: "no-etag"}
	res = runFake(t, f, 3)
	if res.uploads != 0 || res.errs[errProtocol] != 3 || res.errTotal() != 3 || res.ok != 3*2 {
		t.Fatalf("unexpected result with a part without ETag: uploads %d ok %d errs %v", res.uploads, res.ok, res.errs)
	}
	if f.creates != 3 || f.puts != 6 || f.complete != 0 {
		t.Fatalf("unexpected server counts: %d creates, %d parts, %d completes; want 3, 6, 0", f.creates, f.puts, f.complete)
	}
}
