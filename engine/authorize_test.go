package engine

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

func TestCheckPolicyHeaders(t *testing.T) {
	f := func(name, headers string, want *s3Error) {
		t.Helper()
		var req httpparse.Request
		head := "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n" + headers + "\r\n"
		if _, err := req.Parse([]byte(head)); err != nil {
			t.Fatalf("%s: cannot parse: %v", name, err)
		}
		if got := checkPolicyHeaders(&req); got != want {
			t.Fatalf("%s: unexpected result; got %v; want %v", name, got, want)
		}
	}
	f("none", "", nil)
	f("distinct", "Content-Type: a/b\r\nX-Amz-Meta-A: 1\r\nX-Amz-Meta-B: 2\r\nX-Amz-Tagging: k=v\r\n", nil)
	f("other headers repeat", "X-Other: 1\r\nX-Other: 2\r\nAuthorization: x\r\n", nil)
	f("meta repeated", "X-Amz-Meta-Block: yes\r\nx-amz-meta-block: no\r\n", errPolicyHeaderRepeated)
	f("content-type repeated", "Content-Type: a/b\r\nContent-Type: c/d\r\n", errPolicyHeaderRepeated)
	f("storage class repeated", "X-Amz-Storage-Class: GLACIER\r\nX-Amz-Storage-Class: STANDARD\r\n", errPolicyHeaderRepeated)
	f("invalid utf-8", "X-Amz-Meta-A: \xff\xfe\r\n", errPolicyHeaderUTF8)
	f("utf-8 ok", "X-Amz-Meta-A: r\xc3\xa9sum\xc3\xa9\r\n", nil)
}
