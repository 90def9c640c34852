package engine

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

func TestRouterMatch_Success(t *testing.T) {
	a := &Route{Name: "a", Prefix: "/a"}
	ab := &Route{Name: "ab", Prefix: "/a/b"}
	up := &Route{Name: "uploads", Prefix: "/uploads"}
	r := NewRouter([]*Route{a, ab, up}, []string{"s3.local"})
	f := func(host, path string, want *Route, wantKey string) {
		t.Helper()
		rt, key, ok := r.Match([]byte(host), []byte(path))
		if !ok {
			t.Fatalf("no match for host %q path %q", host, path)
		}
		if rt != want {
			t.Fatalf("unexpected route for %q; got %q; want %q", path, rt.Name, want.Name)
		}
		if string(key) != wantKey {
			t.Fatalf("unexpected key for %q; got %q; want %q", path, key, wantKey)
		}
	}
	f("localhost", "/a/x", a, "x")
	f("localhost", "/a/b/x", ab, "x")
	f("localhost", "/a/bc/x", a, "bc/x")
	f("localhost", "/uploads/dir/my%20key", up, "dir/my%20key")
	f("localhost", "/uploads", up, "")
	f("localhost", "/uploads/", up, "")
	f("uploads.s3.local", "/k/e/y", up, "k/e/y")
	f("UPLOADS.S3.LOCAL:8080", "/key", up, "key")
}

func TestRouterMatch_Failure(t *testing.T) {
	r := NewRouter([]*Route{{Name: "a", Prefix: "/a"}}, []string{"s3.local"})
	f := func(host, path string) {
		t.Helper()
		if rt, _, ok := r.Match([]byte(host), []byte(path)); ok {
			t.Fatalf("unexpected match for host %q path %q: route %q", host, path, rt.Name)
		}
	}
	f("localhost", "/ab/x")
	f("localhost", "/b/x")
	f("localhost", "/")
	f("other.s3.local", "/a/x") // a virtual host names its bucket; no path fallback
}

func TestRouterMatch_KeyIsPathSuffix(t *testing.T) {
	// The exchange relies on the raw key being a suffix of the path.
	r := NewRouter([]*Route{{Name: "a", Prefix: "/a"}}, []string{"s3.local"})
	for _, c := range [][2]string{{"h", "/a/k/x"}, {"a.s3.local", "/k/x"}} {
		path := []byte(c[1])
		_, key, _ := r.Match([]byte(c[0]), path)
		if string(path[len(path)-len(key):]) != string(key) {
			t.Fatalf("key %q is not a suffix of path %q", key, path)
		}
	}
}

func TestClassify(t *testing.T) {
	allowHead := false
	f := func(head string, wantOp op, wantErr *s3Error) {
		t.Helper()
		var req httpparse.Request
		if _, err := req.Parse([]byte(head)); err != nil {
			t.Fatalf("cannot parse %q: %s", head, err)
		}
		r := NewRouter([]*Route{{Name: "b", Prefix: "/b"}}, nil)
		_, key, ok := r.Match(req.Host, req.Path)
		if !ok {
			t.Fatalf("no route for %q", req.Path)
		}
		o, e := classify(&req, key, []string{"token"}, allowHead)
		if o != wantOp {
			t.Fatalf("unexpected op for %q; got %s; want %s", head, o, wantOp)
		}
		if e != wantErr {
			t.Fatalf("unexpected error for %q; got %v; want %v", head, e, wantErr)
		}
	}
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n", opPutObject, nil)
	f("PUT /b/k?x-id=PutObject HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n", opPutObject, nil)
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nx-amz-copy-source: /o/k\r\nContent-Length: 0\r\n\r\n", opCopyObject, errCopyNotAllowed)
	f("PUT /b/k?acl HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", opUnknown, errNotImplemented)
	f("PUT /b/k?partNumber=1&uploadId=x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", opUploadPart, nil)
	f("PUT /b/k?partNumber=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", opUnknown, errInvalidArgument)
	f("PUT /b/k?partNumber=1&uploadId=x HTTP/1.1\r\nHost: h\r\nx-amz-copy-source: /o/k\r\nContent-Length: 0\r\n\r\n", opCopyObject, errCopyNotAllowed)
	f("POST /b/k?uploads HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", opCreateMultipart, nil)
	f("POST /b/k?uploads= HTTP/1.1\r\nHost: h\r\n\r\n", opCreateMultipart, nil)
	f("POST /b/k?uploadId=x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", opCompleteMultipart, nil)
	f("POST /b/k?uploadId=x&select HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", opUnknown, errNotImplemented)
	f("POST /b/k?restore HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", opUnknown, errNotImplemented)
	f("DELETE /b/k?uploadId=x HTTP/1.1\r\nHost: h\r\n\r\n", opAbortMultipart, nil)
	f("GET /b/k?uploadId=x&max-parts=2&part-number-marker=1 HTTP/1.1\r\nHost: h\r\n\r\n", opListParts, nil)
	f("GET /b?uploads HTTP/1.1\r\nHost: h\r\n\r\n", opBucket, errAccessDenied)
	f("PUT /b/k?token=abc&X-Amz-Signature=00 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", opPutObject, nil)
	f("GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n", opReadOrList, errAccessDenied)
	f("HEAD /b/k HTTP/1.1\r\nHost: h\r\n\r\n", opReadOrList, errAccessDenied)
	f("DELETE /b/k HTTP/1.1\r\nHost: h\r\n\r\n", opDelete, errAccessDenied)
	f("GET /b HTTP/1.1\r\nHost: h\r\n\r\n", opBucket, errAccessDenied)
	f("PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", opBucket, errMethodNotAllowed)
	f("PATCH /b/k HTTP/1.1\r\nHost: h\r\n\r\n", opUnknown, errMethodNotAllowed)
	allowHead = true
	f("HEAD /b/k HTTP/1.1\r\nHost: h\r\n\r\n", opHeadObject, nil)
	f("HEAD /b/k?acl HTTP/1.1\r\nHost: h\r\n\r\n", opReadOrList, errAccessDenied)
	f("GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n", opReadOrList, errAccessDenied)
}

func TestAppendErrorResponse(t *testing.T) {
	out := appendErrorResponse(nil, "AccessDenied", 403, `a <b> & "c"`, []byte("0123456789ABCDEF"), []byte("/b/k"), true)
	var resp httpparse.Response
	n, err := resp.Parse(out)
	if err != nil {
		t.Fatalf("cannot parse error response: %s", err)
	}
	if resp.Status != 403 {
		t.Fatalf("unexpected status; got %d; want 403", resp.Status)
	}
	if got := string(resp.Header("x-amz-request-id")); got != "0123456789ABCDEF" {
		t.Fatalf("unexpected request id; got %q", got)
	}
	if !resp.Close {
		t.Fatalf("expected Connection: close")
	}
	body := string(out[n:])
	if int64(len(body)) != resp.ContentLength {
		t.Fatalf("unexpected body length; got %d; want %d", len(body), resp.ContentLength)
	}
	want := `<Error><Code>AccessDenied</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;</Message><Resource>/b/k</Resource><RequestId>0123456789ABCDEF</RequestId></Error>`
	if body[len(body)-len(want):] != want {
		t.Fatalf("unexpected body; got %q; want suffix %q", body, want)
	}
}

func TestRequestIDsUnique(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 10000; i++ {
		id := string(appendRequestID(nil))
		if len(id) != 16 || seen[id] {
			t.Fatalf("bad or repeated request id %q", id)
		}
		seen[id] = true
	}
}

func TestWithoutBody(t *testing.T) {
	out := appendErrorResponse(nil, "AccessDenied", 403, "m", []byte("0123456789ABCDEF"), nil, false)
	head := withoutBody(out)
	var resp httpparse.Response
	n, err := resp.Parse(head)
	if err != nil || n != len(head) {
		t.Fatalf("withoutBody did not leave exactly a head; n=%d len=%d err=%v", n, len(head), err)
	}
}
