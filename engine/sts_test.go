package engine

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy/sts"
)

func TestIsSTSCall(t *testing.T) {
	up := &Route{Name: "uploads", Prefix: "/uploads"}
	r := NewRouter([]*Route{up}, []string{"s3.local"})
	r.STS = &STS{}
	off := NewRouter([]*Route{{Name: "uploads", Prefix: "/uploads"}}, nil)
	f := func(router *Router, head string, want bool) {
		t.Helper()
		var req httpparse.Request
		if _, err := req.Parse([]byte(head + "\r\n")); err != nil {
			t.Fatalf("cannot parse %q: %s", head, err)
		}
		if got := router.isSTSCall(&req); got != want {
			t.Fatalf("unexpected isSTSCall(%q); got %v; want %v", head, got, want)
		}
	}
	form := "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
	f(r, "POST / HTTP/1.1\r\nHost: gw\r\n"+form, true)
	f(r, "POST / HTTP/1.1\r\nHost: gw\r\nContent-Type: APPLICATION/X-WWW-FORM-URLENCODED\r\n", true)
	f(r, "GET /?Action=AssumeRoleWithWebIdentity&Version=2011-06-15 HTTP/1.1\r\nHost: gw\r\n", true)
	f(r, "OPTIONS / HTTP/1.1\r\nHost: gw\r\n", true)
	f(r, "POST / HTTP/1.1\r\nHost: s3.local\r\n"+form, true) // the bare domain is no bucket

	// Not STS: today's answers stay.
	f(off, "POST / HTTP/1.1\r\nHost: gw\r\n"+form, false)
	f(r, "POST / HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n", false)
	f(r, "POST / HTTP/1.1\r\nHost: gw\r\n", false)
	f(r, "GET / HTTP/1.1\r\nHost: gw\r\n", false)
	f(r, "GET /?NotAction=x HTTP/1.1\r\nHost: gw\r\n", false)
	f(r, "PUT / HTTP/1.1\r\nHost: gw\r\n"+form, false)
	f(r, "POST /uploads HTTP/1.1\r\nHost: gw\r\n"+form, false)
	f(r, "POST /uploads/ HTTP/1.1\r\nHost: gw\r\n"+form, false)
	f(r, "POST / HTTP/1.1\r\nHost: uploads.s3.local\r\n"+form, false) // a virtual-hosted bucket
}

func TestAppendSTSAnswer(t *testing.T) {
	body := sts.AppendErrorXML(nil, &sts.Error{Code: sts.CodeAccessDenied, Message: "m", Status: 403}, []byte("ID"))
	got := string(appendSTSAnswer(nil, 403, []byte("ID"), []byte("Access-Control-Allow-Origin: o\r\n"), body, true))
	head, rest, ok := strings.Cut(got, "\r\n\r\n")
	if !ok || rest != string(body) {
		t.Fatalf("unexpected answer %q", got)
	}
	for _, want := range []string{"HTTP/1.1 403 Forbidden\r\n", "\r\nx-amzn-RequestId: ID\r\n", "\r\nContent-Type: text/xml\r\n",
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n", "\r\nAccess-Control-Allow-Origin: o\r\n", "\r\nConnection: close", "\r\nDate: "} {
		if !strings.Contains(head+"\r\n", want) {
			t.Fatalf("answer head %q lacks %q", head, want)
		}
	}
	if !bytes.Contains(body, []byte("<Code>AccessDenied</Code>")) {
		t.Fatalf("unexpected body %s", body)
	}
}
