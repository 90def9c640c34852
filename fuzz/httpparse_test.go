package fuzz

import (
	"bufio"
	"bytes"
	"net/http"
	"reflect"
	"strconv"
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

const maxInput = 64 << 10

// Deliberate differences between httpparse and net/http.
//
// httpparse rejects more than net/http: bare LF, leading empty lines,
// obs-fold, duplicate Content-Length with equal values, Content-Length with
// Transfer-Encoding, Transfer-Encoding in HTTP/1.0, non-origin-form targets,
// target bytes outside 0x21-0x7E, HTTP/1.1 without Host, extra spaces in
// the start line, status codes outside 100..599. Those are never failures
// here because only "ours accepts" is checked against net/http.
//
// Where httpparse accepts and net/http rejects, the input must match one of
// these documented differences (see acceptedOnlyByUs):
//
//   - none so far: every head httpparse accepts must be accepted by
//     net/http.
//
// Where both accept, they must agree, with these known normalisations by
// net/http that the comparison undoes:
//
//   - a request without Content-Length or chunked has r.ContentLength 0,
//     ours -1; chunked is -1 in both (ours says Chunked);
//   - Host is moved out of r.Header into r.Host;
//   - Transfer-Encoding is moved into r.TransferEncoding;
//   - "Pragma: no-cache" adds "Cache-Control: no-cache" when absent;
//   - on responses, a Connection field containing "close" is deleted, an
//     unbounded body (no length, not chunked) forces Close, and 1xx, 204
//     and 304 have ContentLength 0 whatever was sent.

// requestSeeds are heads real S3 clients sent (from
// ../shared/testdata/client-captures) plus edge cases.
var requestSeeds = []string{
	"PUT /hdr-gosdk/small.bin?x-id=PutObject HTTP/1.1\r\n" +
		"Host: 127.0.0.1:5100\r\n" +
		"Accept-Encoding: identity\r\n" +
		"Amz-Sdk-Invocation-Id: 8f86a62d-a6cf-455d-a658-8ad5245d6436\r\n" +
		"Amz-Sdk-Request: attempt=1; max=3\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=testkey/20261125/us-east-1/s3/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date, Signature=9b5a1bdeae1b6b0661bdaa3a355e9643f980534534951c61bf7949ae7afa5bfe\r\n" +
		"Content-Length: 1000\r\n" +
		"Content-Type: application/octet-stream\r\n" +
		"User-Agent: aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/s3#1.114.10 m/E,Z,e\r\n" +
		"X-Amz-Checksum-Crc32: 7qcriQ==\r\n" +
		"X-Amz-Content-Sha256: 2ded9cd4e93499809c5c232d1cdccd5052a2f961bb101b54162e2e14019b1711\r\n" +
		"X-Amz-Date: 20261125T191619Z\r\n\r\nbody",
	"PUT /hdr-awsv1-tls/big.bin?uploadId=EOZiytSxhMDrzVmMMcm2ARtcuF2HQqOrY4ckFoOyOaFzuxGViXPM2qw&partNumber=2 HTTP/1.1\r\n" +
		"Host: 127.0.0.1:5443\r\n" +
		"Accept-Encoding: identity\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=testkey/20261125/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=04db47fa577eef212fc8bfe26e409c0724a1eb609858cda07e50c8130d1634ef\r\n" +
		"Content-Encoding: aws-chunked\r\n" +
		"Expect: 100-continue\r\n" +
		"X-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n" +
		"X-Amz-Decoded-Content-Length: 8388608\r\n" +
		"X-Amz-Trailer: x-amz-checksum-crc32\r\n" +
		"Transfer-Encoding: chunked\r\n\r\n100000\r\n",
	"POST /b/k?uploads HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: keep-alive, Upgrade\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nPragma: no-cache\r\n\r\n",
	"GET /a%20b?x=%2F&y HTTP/1.1\r\nHost: h\r\nX: a\tb \r\nx: c\r\nConnection: close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
	"PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
	"PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.1\nHost: h\n\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX: y\r\n z\r\n\r\n",
}

var responseSeeds = []string{
	"HTTP/1.1 200 OK\r\n" +
		"x-amz-id-2: Nxq1ZjJ2TLTb2X1hyTFHmYJ6s3Ri9GQk4R3TbR1jJZ0hlV8Oj1/Wm0n0xO2bNHr2yYHpYcL0Lzc=\r\n" +
		"x-amz-request-id: 4B3C2A1D0E9F8A7B\r\n" +
		"Date: Wed, 25 Nov 2026 19:16:19 GMT\r\n" +
		"ETag: \"2b5a8e0053660afa33e2c1b3c4d5e6f7\"\r\n" +
		"Content-Length: 0\r\n" +
		"Server: AmazonS3\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
	"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 500 \r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200\r\n\r\n",
}

func FuzzRequestHead(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	var r httpparse.Request
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxInput {
			data = data[:maxInput]
		}
		n, err := r.Parse(data)
		if err != nil {
			return
		}
		checkParsedHead(t, data, n, func(b []byte) (int, error) { return r.Parse(b) })
		if n > 0 {
			var r2 httpparse.Request
			if _, err := r2.Parse(data[:n-1]); err != httpparse.ErrNeedMore {
				t.Fatalf("unexpected error for head minus one byte; got %v; want ErrNeedMore", err)
			}
		}
		// Views are returned again.
		if _, err := r.Parse(data); err != nil {
			t.Fatalf("reparse failed: %s", err)
		}
		checkRebase(t, &r, data, n)

		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data[:n])))
		if err != nil {
			if acceptedOnlyByUs(data[:n]) {
				return
			}
			t.Fatalf("httpparse accepted a head net/http rejects (%s):\n%q", err, data[:n])
		}
		if req.Method != string(r.Method) {
			t.Fatalf("method mismatch; got %q; net/http %q", r.Method, req.Method)
		}
		if req.RequestURI != string(r.URI) {
			t.Fatalf("URI mismatch; got %q; net/http %q", r.URI, req.RequestURI)
		}
		if req.Host != string(r.Host) {
			t.Fatalf("host mismatch; got %q; net/http %q", r.Host, req.Host)
		}
		if req.ProtoMajor != 1 || req.ProtoMinor != r.Minor {
			t.Fatalf("version mismatch; got 1.%d; net/http %d.%d", r.Minor, req.ProtoMajor, req.ProtoMinor)
		}
		wantCL := r.ContentLength
		switch {
		case r.Chunked:
			wantCL = -1
			if len(req.TransferEncoding) != 1 || req.TransferEncoding[0] != "chunked" {
				t.Fatalf("chunked mismatch; net/http TransferEncoding %q", req.TransferEncoding)
			}
		case r.ContentLength < 0:
			wantCL = 0 // net/http: a request without length has no body
		}
		if !r.Chunked && len(req.TransferEncoding) != 0 {
			t.Fatalf("chunked mismatch; net/http TransferEncoding %q", req.TransferEncoding)
		}
		if req.ContentLength != wantCL {
			t.Fatalf("content length mismatch; got %d (chunked=%v); net/http %d", r.ContentLength, r.Chunked, req.ContentLength)
		}
		if req.Close != r.Close {
			t.Fatalf("close mismatch; got %v; net/http %v", r.Close, req.Close)
		}
		compareHeaders(t, r.Headers, req.Header, func(key string) bool {
			switch key {
			case "Host", "Transfer-Encoding":
				return true
			case "Cache-Control":
				return req.Header.Get("Pragma") == "no-cache"
			case "Trailer":
				// net/http moves Trailer out of Header into
				// Request.Trailer for chunked requests.
				return r.Chunked
			}
			return false
		})
	})
}

func FuzzResponseHead(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	var r httpparse.Response
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxInput {
			data = data[:maxInput]
		}
		n, err := r.Parse(data)
		if err != nil {
			return
		}
		checkParsedHead(t, data, n, func(b []byte) (int, error) { return r.Parse(b) })
		var r2 httpparse.Response
		if _, err := r2.Parse(data[:n-1]); err != httpparse.ErrNeedMore {
			t.Fatalf("unexpected error for head minus one byte; got %v; want ErrNeedMore", err)
		}
		if _, err := r.Parse(data); err != nil {
			t.Fatalf("reparse failed: %s", err)
		}

		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data[:n])), nil)
		if err != nil {
			if acceptedOnlyByUs(data[:n]) {
				return
			}
			t.Fatalf("httpparse accepted a head net/http rejects (%s):\n%q", err, data[:n])
		}
		if resp.StatusCode != r.Status {
			t.Fatalf("status mismatch; got %d; net/http %d", r.Status, resp.StatusCode)
		}
		wantStatus := strconv.Itoa(r.Status)
		if len(r.Reason) > 0 || (len(data) > 12 && data[12] == ' ') {
			wantStatus += " " + string(r.Reason)
		}
		if resp.Status != wantStatus {
			t.Fatalf("reason mismatch; got %q; net/http status %q", r.Reason, resp.Status)
		}
		if resp.ProtoMajor != 1 || resp.ProtoMinor != r.Minor {
			t.Fatalf("version mismatch; got 1.%d; net/http %d.%d", r.Minor, resp.ProtoMajor, resp.ProtoMinor)
		}
		bodyless := r.Status/100 == 1 || r.Status == 204 || r.Status == 304
		if !bodyless {
			wantCL := r.ContentLength
			if r.Chunked {
				wantCL = -1
			}
			if resp.ContentLength != wantCL {
				t.Fatalf("content length mismatch; got %d (chunked=%v); net/http %d", r.ContentLength, r.Chunked, resp.ContentLength)
			}
			if r.Chunked != (len(resp.TransferEncoding) == 1 && resp.TransferEncoding[0] == "chunked") {
				t.Fatalf("chunked mismatch; got %v; net/http %q", r.Chunked, resp.TransferEncoding)
			}
			unbounded := !r.Chunked && r.ContentLength < 0
			if !unbounded && resp.Close != r.Close {
				t.Fatalf("close mismatch; got %v; net/http %v", r.Close, resp.Close)
			}
		}
		compareHeaders(t, r.Headers, resp.Header, func(key string) bool {
			switch key {
			case "Transfer-Encoding", "Content-Length":
				return bodyless || key == "Transfer-Encoding"
			case "Connection":
				return r.Close
			}
			return false
		})
	})
}

// checkParsedHead checks invariants of a successful parse.
func checkParsedHead(t *testing.T, data []byte, n int, parse func([]byte) (int, error)) {
	t.Helper()
	if n < 4 || n > len(data) || string(data[n-4:n]) != "\r\n\r\n" {
		t.Fatalf("unexpected head length %d for %q", n, data)
	}
	// Bytes after the head do not change the result.
	m, err := parse(data[:n])
	if err != nil || m != n {
		t.Fatalf("head alone parses differently; got n=%d err=%v; want n=%d", m, err, n)
	}
}

// compareHeaders checks every field we kept against net/http's joined view.
func compareHeaders(t *testing.T, ours []httpparse.Header, theirs http.Header, skip func(key string) bool) {
	t.Helper()
	want := map[string][]string{}
	var order []string
	for _, h := range ours {
		key := http.CanonicalHeaderKey(string(h.Name))
		if _, ok := want[key]; !ok {
			order = append(order, key)
		}
		want[key] = append(want[key], string(h.Value))
	}
	for _, key := range order {
		if skip(key) {
			continue
		}
		got := theirs.Values(key)
		if len(got) != len(want[key]) {
			t.Fatalf("header %q mismatch; got %q; net/http %q", key, want[key], got)
		}
		for i := range got {
			if got[i] != want[key][i] {
				t.Fatalf("header %q mismatch; got %q; net/http %q", key, want[key], got)
			}
		}
	}
	for key := range theirs {
		if _, ok := want[key]; !ok && !skip(key) {
			t.Fatalf("net/http has header %q that httpparse does not", key)
		}
	}
}

// acceptedOnlyByUs reports whether head is a documented case that
// httpparse accepts and net/http rejects. The list is empty so far.
func acceptedOnlyByUs(head []byte) bool {
	return false
}

// checkRebase: moving the parse of data onto a copy of its head gives what
// parsing the copy gives.
func checkRebase(t *testing.T, r *httpparse.Request, data []byte, n int) {
	t.Helper()
	cp := bytes.Clone(data[:n])
	var moved, want httpparse.Request
	if !moved.Rebase(r, data, cp) {
		t.Fatalf("Rebase refused a parsed head:\n%q", data[:n])
	}
	want.MaxHeadSize, want.MaxHeaders = r.MaxHeadSize, r.MaxHeaders
	if _, err := want.Parse(cp); err != nil {
		t.Fatalf("the copy does not parse: %s", err)
	}
	if len(moved.Headers) == 0 && len(want.Headers) == 0 {
		moved.Headers, want.Headers = nil, nil
	}
	if !reflect.DeepEqual(moved, want) {
		t.Fatalf("Rebase differs from parsing the copy:\n got %+v\nwant %+v", moved, want)
	}
}
