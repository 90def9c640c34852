package s3sink

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func startSink(t *testing.T) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s
}

// TestServer_NetHTTPClient checks the sink against net/http's client as the
// reference peer, over one keep-alive connection.
func TestServer_NetHTTPClient(t *testing.T) {
	s := startSink(t)
	tr := &http.Transport{MaxConnsPerHost: 1, ExpectContinueTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	base := "http://" + s.Addr().String() + "/bucket/dir/key"

	f := func(method, query string, body io.Reader, size int64, expect bool, wantStatus int, wantInBody string) {
		t.Helper()
		req, err := http.NewRequest(method, base+query, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		if expect {
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %s", method, query, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: unexpected status; got %d; want %d", method, query, resp.StatusCode, wantStatus)
		}
		if resp.Header.Get("x-amz-request-id") == "" {
			t.Fatalf("%s %s: missing x-amz-request-id", method, query)
		}
		if !strings.Contains(string(b), wantInBody) {
			t.Fatalf("%s %s: unexpected body %q; want it to contain %q", method, query, b, wantInBody)
		}
	}
	body := strings.Repeat("x", 300<<10)
	f("PUT", "", strings.NewReader(body), int64(len(body)), false, 200, "")
	f("PUT", "", strings.NewReader(body), int64(len(body)), true, 200, "")
	f("PUT", "", io.MultiReader(strings.NewReader(body)), -1, false, 200, "") // chunked
	f("PUT", "", nil, 0, false, 200, "")
	f("POST", "?uploads", nil, 0, false, 200, "<Key>dir/key</Key><UploadId>")
	f("PUT", "?partNumber=1&uploadId=u", strings.NewReader(body), int64(len(body)), true, 200, "")
	f("POST", "?uploadId=u", strings.NewReader("<CompleteMultipartUpload/>"), 26, false, 200, "<CompleteMultipartUploadResult")
	f("GET", "?uploadId=u", nil, 0, false, 200, "<ListPartsResult")
	f("DELETE", "?uploadId=u", nil, 0, false, 204, "")
	f("GET", "", nil, 0, false, 501, "<Code>NotImplemented</Code>")
	f("PUT", "", strings.NewReader("after-error"), 11, false, 200, "")

	st := s.Stats()
	if st.Conns != 1 {
		t.Fatalf("unexpected connection count; got %d; want 1 (keep-alive)", st.Conns)
	}
	if want := uint64(4*len(body) + 26 + 11); st.BodyBytes != want {
		t.Fatalf("unexpected body bytes; got %d; want %d", st.BodyBytes, want)
	}
	if st.Errors != 0 {
		t.Fatalf("unexpected errors; got %d; want 0", st.Errors)
	}
}

func TestServer_BadRequest(t *testing.T) {
	s := startSink(t)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "PUT /b/k HTTP/1.1\r\nContent-Length: nope\r\n\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 400 ") {
		t.Fatalf("unexpected status line %q; want 400", line)
	}
}
