package httpparse

import (
	"bytes"
	"reflect"
	"testing"
)

// Rebase gives what Parse of the copy gives, with every view in the copy.
func TestRebaseMatchesParse(t *testing.T) {
	for _, head := range []string{
		"PUT /b/k?x-id=PutObject&a= HTTP/1.1\r\nHost: h:1\r\nContent-Length: 5\r\nX-Empty:\r\nAuthorization: AWS4-HMAC-SHA256 x\r\n\r\nhello",
		"GET / HTTP/1.0\r\n\r\n",
		"POST /k? HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
	} {
		from := []byte(head + "trailing bytes of the next request")
		var src, want, got Request
		n, err := src.Parse(from)
		if err != nil {
			t.Fatalf("%q: %v", head, err)
		}
		to := append([]byte(nil), from[:n]...)
		if _, err := want.Parse(to); err != nil {
			t.Fatal(err)
		}
		got.Headers = make([]Header, 0, 1) // grows, as a reused Request's does
		if !got.Rebase(&src, from, to) {
			t.Fatalf("%q: Rebase refused a parsed head", head)
		}
		if len(got.Headers) == 0 && len(want.Headers) == 0 {
			got.Headers, want.Headers = nil, nil // an empty array is as good as none
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: Rebase differs from Parse:\n got %+v\nwant %+v", head, got, want)
		}
		if (got.Query == nil) != (want.Query == nil) {
			t.Fatalf("%q: Query nil-ness differs", head)
		}
		for i := range got.Headers {
			if len(got.Headers[i].Value) > 0 && !within(got.Headers[i].Value, to) {
				t.Fatalf("%q: header %d does not point into the copy", head, i)
			}
		}
		if !within(got.Method, to) || !within(got.URI, to) {
			t.Fatalf("%q: request line does not point into the copy", head)
		}
		clear(from) // the views must not see the original any more
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: Rebase kept views into the original", head)
		}
	}
}

func within(v, buf []byte) bool {
	for i := range buf {
		if &buf[i] == &v[0] {
			return true
		}
	}
	return false
}

// Rebase refuses a source whose views are not in from, or a copy too
// short for them.
func TestRebaseRefuses(t *testing.T) {
	head := []byte("PUT /k HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
	var src, r Request
	if _, err := src.Parse(head); err != nil {
		t.Fatal(err)
	}
	other := bytes.Clone(head)
	if r.Rebase(&src, other, bytes.Clone(head)) {
		t.Fatal("Rebase accepted views that are not in from")
	}
	if r.Rebase(&src, head, head[:10]) {
		t.Fatal("Rebase accepted a copy shorter than the head")
	}
}

// Rebasing a head allocates nothing once the Headers array has grown.
func TestRebaseNoAllocs(t *testing.T) {
	head := []byte("PUT /k?a=b HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n")
	var src, r Request
	if _, err := src.Parse(head); err != nil {
		t.Fatal(err)
	}
	to := bytes.Clone(head)
	r.Rebase(&src, head, to)
	if n := testing.AllocsPerRun(100, func() { r.Rebase(&src, head, to) }); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
