package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const alBucket = "accesslog-bucket"

// TestE2EAccessLog runs the gateway with a JSON access log in a file and
// checks that each kind of answer (a relayed upload, a refused signature,
// an unparsable head, a preflight) gives exactly one line with the right
// fields, that no signature or presigned query value is written, and that
// SIGHUP reopens a renamed file. It also checks S3 errors as JSON for
// clients whose Accept header prefers it.
func TestE2EAccessLog(t *testing.T) {
	b := startBackend(t, alBucket)
	logPath := filepath.Join(t.TempDir(), "access.log")
	g := startGatewayWith(t, b, gwOptions{args: []string{"-access-log", "-access-log-format", "json", "-access-log-output", logPath}},
		route{name: "al", pathPrefix: "/al", bucket: alBucket, keyPrefix: "al/", extra: "" +
			"    auth:\n      enabled: true\n      sigv4:\n" +
			"        credentials:\n          - {access_key: " + aliceAK + ", secret_key: " + aliceSK + ", subject: alice}\n" +
			"    cors: {allowed_origins: [\"http://app.test\"], max_age_seconds: 60}\n"},
		route{name: "anon", pathPrefix: "/anon", bucket: alBucket, keyPrefix: "anon/"},
		route{name: "gone", pathPrefix: "/gone", bucket: "no-such-backend-bucket"},
	)
	t.Run("Lines", func(t *testing.T) { testAccessLogLines(t, g, b, logPath) })
	t.Run("Reopen", func(t *testing.T) { testAccessLogReopen(t, g, b, logPath) })
	t.Cleanup(func() {
		if os.Getenv("MIZUCHI_AL_LOGS") != "" {
			d, _ := os.ReadFile(logPath)
			t.Logf("%s", d)
		}
	})
	t.Run("JSONErrors", func(t *testing.T) { testJSONErrors(t, g, b) })
}

// accessLines parses the JSON lines of path.
func accessLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("access log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// accessLine waits for the one line of request id in path and fails when
// there are more.
func accessLine(t *testing.T, path, id string) map[string]any {
	t.Helper()
	if id == "" {
		t.Fatalf("no request id to look for")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var found []map[string]any
		for _, m := range accessLines(t, path) {
			if m["id"] == id {
				found = append(found, m)
			}
		}
		switch {
		case len(found) > 1:
			t.Fatalf("%d access log lines for request %s; want 1: %v", len(found), id, found)
		case len(found) == 1:
			return found[0]
		case time.Now().After(deadline):
			t.Fatalf("no access log line for request %s in %s", id, path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkFields fails unless line has every field of want (numbers as
// float64, as encoding/json reads them).
func checkFields(t *testing.T, what string, line map[string]any, want map[string]any) {
	t.Helper()
	for _, k := range []string{"time", "id", "client", "method", "path", "route", "op", "status", "code", "bytes_in",
		"dur_ms", "body", "upstream", "auth", "subject", "role", "access_key", "authz", "reason"} {
		if _, ok := line[k]; !ok {
			t.Fatalf("%s: access log line without %q: %v", what, k, line)
		}
	}
	for k, v := range want {
		if line[k] != v {
			t.Fatalf("%s: unexpected %s; got %v; want %v (line %v)", what, k, line[k], v, line)
		}
	}
}

func testAccessLogLines(t *testing.T, g *gateway, b *backend, logPath string) {
	before := len(accessLines(t, logPath))

	// A successful PutObject.
	seed := nextSeed()
	body := genBytes(seed, 3*kib)
	r := g.signedPut(t, "/al/ok.bin", body, aliceAK, aliceSK, nil)
	if r.status != 200 {
		t.Fatalf("signed PUT: %s", r)
	}
	b.checkObject(t, alBucket, "al/ok.bin", seed, int64(len(body)))
	line := accessLine(t, logPath, r.header.Get("X-Amz-Request-Id"))
	checkFields(t, "PutObject", line, map[string]any{
		"client": "127.0.0.1", "method": "PUT", "path": "/al/ok.bin", "route": "al", "op": "PutObject",
		"status": 200.0, "code": "", "bytes_in": float64(len(body)), "upstream": 200.0, "auth": "sigv4",
		"subject": "alice", "access_key": aliceAK,
	})
	if p := line["body"]; p != "loop" && p != "copy" {
		t.Fatalf("unexpected body path of a small upload: %v", p)
	}
	if _, err := time.Parse(time.RFC3339Nano, line["time"].(string)); err != nil {
		t.Fatalf("unexpected time: %v", err)
	}

	// A refused signature: the key id is logged, the signature is not.
	r = g.signedPut(t, "/al/bad.bin", body, aliceAK, "not-alices-secret", nil)
	if code := checkS3Error(t, "bad signature", r, false); code != "SignatureDoesNotMatch" {
		t.Fatalf("bad signature: %s", r)
	}
	b.checkAbsent(t, alBucket, "al/bad.bin")
	checkFields(t, "bad signature", accessLine(t, logPath, r.header.Get("X-Amz-Request-Id")), map[string]any{
		"method": "PUT", "path": "/al/bad.bin", "route": "al", "op": "PutObject", "status": 403.0,
		"code": "SignatureDoesNotMatch", "upstream": 0.0, "body": "none", "access_key": aliceAK, "subject": "",
	})

	// A presigned URL with a bad signature: nothing of its query is logged.
	const sig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	q := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + aliceAK + "%2F20260101%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Security-Token=SECRET-SESSION-TOKEN&X-Amz-Signature=" + sig
	r = g.do(t, http.MethodPut, "/al/presigned.bin?"+q, []byte("x"), nil)
	checkS3Error(t, "bad presigned URL", r, false)
	checkFields(t, "bad presigned URL", accessLine(t, logPath, r.header.Get("X-Amz-Request-Id")), map[string]any{
		"path": "/al/presigned.bin", "route": "al", "body": "none", "access_key": aliceAK,
	})

	// An unparsable head.
	c := g.dialRaw(t)
	if _, err := io.WriteString(c, "\x16\x03\x01 garbage\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	rr, err := c.readResponse("GET")
	if err != nil {
		t.Fatalf("garbage head: %v", err)
	}
	if code := checkS3Error(t, "garbage head", rr, false); code != "BadRequest" {
		t.Fatalf("garbage head: %s", rr)
	}
	checkFields(t, "garbage head", accessLine(t, logPath, rr.header.Get("X-Amz-Request-Id")), map[string]any{
		"client": "127.0.0.1", "method": "", "path": "", "route": "", "op": "Unknown", "status": 400.0,
		"code": "BadRequest", "body": "none",
	})

	// A CORS preflight.
	r = g.do(t, http.MethodOptions, "/al/browser.bin", nil, http.Header{"Origin": {"http://app.test"}, "Access-Control-Request-Method": {"PUT"}})
	if r.status != 200 {
		t.Fatalf("preflight: %s", r)
	}
	checkFields(t, "preflight", accessLine(t, logPath, r.header.Get("X-Amz-Request-Id")), map[string]any{
		"method": "OPTIONS", "path": "/al/browser.bin", "route": "al", "op": "Preflight", "status": 200.0, "body": "none",
	})

	// A large upload leaves the loop and is spliced.
	seed = nextSeed()
	big := genBytes(seed, 1<<20)
	r = g.signedPut(t, "/al/big.bin", big, aliceAK, aliceSK, nil)
	if r.status != 200 {
		t.Fatalf("large signed PUT: %s", r)
	}
	b.checkObject(t, alBucket, "al/big.bin", seed, int64(len(big)))
	checkFields(t, "large PutObject", accessLine(t, logPath, r.header.Get("X-Amz-Request-Id")), map[string]any{
		"op": "PutObject", "status": 200.0, "bytes_in": float64(len(big)), "body": "splice", "upstream": 200.0, "subject": "alice",
	})

	// One line per request, nothing else.
	if n := len(accessLines(t, logPath)) - before; n != 6 {
		t.Fatalf("unexpected access log lines; got %d; want 6", n)
	}
	data, _ := os.ReadFile(logPath)
	for _, bad := range []string{sig, "SECRET-SESSION-TOKEN", "X-Amz-", aliceSK, "Signature=", "not-alices-secret"} {
		if strings.Contains(string(data), bad) {
			t.Fatalf("%q appears in the access log", bad)
		}
	}
	if strings.Contains(g.proc.stderr.String(), `"op":"PutObject"`) {
		t.Fatalf("access log lines on stderr with a file output")
	}
}

// testAccessLogReopen: logrotate renames the file and sends SIGHUP; the
// gateway writes the next lines to a new file at the path.
func testAccessLogReopen(t *testing.T, g *gateway, b *backend, logPath string) {
	rotated := logPath + ".1"
	if err := os.Rename(logPath, rotated); err != nil {
		t.Fatal(err)
	}
	n := len(accessLines(t, rotated))
	g.sighup(t, "configuration reloaded")
	r := g.signedPut(t, "/al/after-rotate.bin", genBytes(nextSeed(), kib), aliceAK, aliceSK, nil)
	if r.status != 200 {
		t.Fatalf("PUT after rotation: %s", r)
	}
	line := accessLine(t, logPath, r.header.Get("X-Amz-Request-Id"))
	checkFields(t, "after rotation", line, map[string]any{"path": "/al/after-rotate.bin", "status": 200.0})
	if m := len(accessLines(t, rotated)); m != n {
		t.Fatalf("the rotated file grew after SIGHUP: %d lines, was %d", m, n)
	}
	if len(accessLines(t, logPath)) != 1 {
		t.Fatalf("unexpected lines in the new file: %v", accessLines(t, logPath))
	}
}

// jsonError is the JSON form of an S3 error.
type jsonError struct {
	Code, Message, RequestId, Resource string
}

// xmlError is the XML form.
type xmlError struct {
	Code, Message, RequestId, Resource string
}

// testJSONErrors: the same refusals answered as XML by default and as JSON
// to a client that prefers it (refusals on the loop, a detached decision,
// and a backend error mapped by a worker).
func testJSONErrors(t *testing.T, g *gateway, b *backend) {
	type req struct {
		name, method, path string
		body               []byte
		code               string
		status             int
	}
	for _, rq := range []req{
		{"anonymous GET", http.MethodGet, "/anon/x.bin", nil, "AccessDenied", 403},
		{"unsigned PUT on a SigV4 route", http.MethodPut, "/al/x.bin", []byte("abc"), "AccessDenied", 403},
		{"no route", http.MethodPut, "/nowhere/x.bin", []byte("abc"), "NoSuchBucket", 404},
		{"backend error", http.MethodPut, "/gone/x.bin", []byte("abc"), "NoSuchBucket", 404},
		{"backend error, detached body", http.MethodPut, "/gone/x.bin", genBytes(1, 512*kib), "NoSuchBucket", 404},
	} {
		for _, accept := range []string{"", "*/*", "application/xml, application/json;q=0.5", "application/json", "application/json, */*;q=0.1", "text/html, application/json;q=0.9"} {
			h := http.Header{}
			if accept != "" {
				h.Set("Accept", accept)
			}
			r := g.do(t, rq.method, rq.path, rq.body, h)
			what := rq.name + " with Accept " + accept
			if r.status != rq.status {
				t.Fatalf("%s: unexpected status; got %s; want %d", what, r, rq.status)
			}
			wantJSON := strings.Contains(accept, "application/json") && !strings.HasPrefix(accept, "application/xml")
			ct := r.header.Get("Content-Type")
			var code, id, resource, msg string
			if wantJSON {
				var e jsonError
				if ct != "application/json" {
					t.Fatalf("%s: unexpected Content-Type %q; want application/json (%s)", what, ct, r)
				}
				if err := json.Unmarshal(r.body, &e); err != nil {
					t.Fatalf("%s: not JSON: %s: %v", what, r, err)
				}
				code, id, resource, msg = e.Code, e.RequestId, e.Resource, e.Message
			} else {
				var e xmlError
				if ct != "application/xml" {
					t.Fatalf("%s: unexpected Content-Type %q; want application/xml (%s)", what, ct, r)
				}
				if err := xml.Unmarshal(r.body, &e); err != nil {
					t.Fatalf("%s: not XML: %s: %v", what, r, err)
				}
				code, id, resource, msg = e.Code, e.RequestId, e.Resource, e.Message
			}
			if code != rq.code || id != r.header.Get("X-Amz-Request-Id") || resource != rq.path || msg == "" {
				t.Fatalf("%s: unexpected error fields: code %q id %q resource %q message %q (%s)", what, code, id, resource, msg, r)
			}
		}
	}
	b.checkAbsent(t, alBucket, "al/x.bin")
}
