package engine

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/policy/uploadid"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// bindFixture is a server and routes with and without upload binding.
type bindFixture struct {
	s      *Server
	sealer *seal.Sealer
	plain  *Route // no template, no sealer, no limits; key_prefix "pfx/"
	tmpl   *Route // "{subject}/{key}", sealed, limits
	dated  *Route // "{date}/{key}", sealed
	sc     *loopScratch
}

func newBindFixture(t testing.TB) *bindFixture {
	t.Helper()
	s, err := New(Config{Addr: "127.0.0.1:0"}, NewRouter(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New([][]byte{[]byte("binding-test-secret-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	compile := func(src string) *keytemplate.Template {
		tm, err := keytemplate.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	fx := &bindFixture{
		s:      s,
		sealer: sealer,
		plain:  &Route{Name: "plain", Prefix: "/plain", Endpoint: &upstream.Endpoint{KeyPrefix: "pfx/"}},
		tmpl: &Route{Name: "tmpl", Prefix: "/tmpl", Endpoint: &upstream.Endpoint{KeyPrefix: "pfx/"}, Upload: UploadConfig{
			Sealer: sealer, KeyTemplate: compile("{subject}/{key}"), MaxUploadAge: time.Hour,
			MaxObjectSize: 1 << 20, MaxPartSize: 5 << 20, AllowedContentTypes: []string{"image/*", "application/pdf"},
		}},
		dated: &Route{Name: "dated", Prefix: "/dated", Endpoint: &upstream.Endpoint{}, Upload: UploadConfig{
			Sealer: sealer, KeyTemplate: compile("{date}/{key}"), MaxUploadAge: 3 * day,
		}},
		sc: s.scratch.Get().(*loopScratch),
	}
	NewRouter([]*Route{fx.plain, fx.tmpl, fx.dated}, nil)
	return fx
}

// bind parses head and binds it for subject.
func (fx *bindFixture) bind(t testing.TB, rt *Route, head, subject string) bindFailure {
	t.Helper()
	sc := fx.sc
	if _, err := sc.req.Parse([]byte(head)); err != nil {
		t.Fatalf("cannot parse %q: %v", head, err)
	}
	_, rawKey, ok := NewRouter([]*Route{rt}, nil).Match(sc.req.Host, sc.req.Path)
	if !ok {
		t.Fatalf("no route for %q", head)
	}
	o, e := classify(&sc.req, rawKey, nil, false)
	if e != nil {
		t.Fatalf("unexpected classification of %q: %s", head, e.Code)
	}
	ar := authResult{id: identity{method: "sigv4", subject: subject}}
	return fx.s.bind(sc, rt, o, &ar, rawKey, -1)
}

func (fx *bindFixture) seal(t testing.TB, rt *Route, backendID, storedKey, subject string, exp time.Time) string {
	t.Helper()
	tok, err := uploadid.Seal(nil, fx.sealer, []byte(backendID), &uploadid.Owner{Route: rt.Name, Key: []byte(storedKey), Subject: subject}, exp)
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func put(path string, n int, extra string) string {
	return "PUT " + path + " HTTP/1.1\r\nHost: gw\r\nContent-Length: " + strconv.Itoa(n) + "\r\n" + extra + "\r\n"
}

func TestBind_Success(t *testing.T) {
	fx := newBindFixture(t)
	f := func(rt *Route, head, subject, wantKey, wantStored, wantUpID string) {
		t.Helper()
		if fl := fx.bind(t, rt, head, subject); fl.e != nil {
			t.Fatalf("unexpected refusal of %q: %s %s", head, fl.e.Code, fl.e.Message)
		}
		sc := fx.sc
		if string(sc.key) != wantKey || string(sc.stored) != wantStored || string(sc.upID) != wantUpID {
			t.Fatalf("unexpected binding of %q; got key %q stored %q upload id %q; want %q %q %q",
				head, sc.key, sc.stored, sc.upID, wantKey, wantStored, wantUpID)
		}
	}
	// No binding: the stored key is the client's; upload ids pass through.
	f(fx.plain, put("/plain/a/b.bin", 10, ""), "", "a/b.bin", "a/b.bin", "")
	f(fx.plain, put("/plain/a//b%C3%A9", 10, ""), "", "a//b\u00e9", "a//b\u00e9", "")
	f(fx.plain, put("/plain/x?partNumber=1&uploadId=raw-backend-id", 10, ""), "", "x", "x", "")
	f(fx.plain, put("/plain/"+strings.Repeat("k", 1020), 10, ""), "", strings.Repeat("k", 1020), strings.Repeat("k", 1020), "")

	// A template maps the key; a sealed id opens for its owner.
	f(fx.tmpl, put("/tmpl/a/b.png", 10, "Content-Type: image/png\r\n"), "alice", "a/b.png", "alice/a/b.png", "")
	exp := time.Now().Add(time.Hour)
	tok := fx.seal(t, fx.tmpl, "backend+id/1=", "alice/a/b.png", "alice", exp)
	f(fx.tmpl, put("/tmpl/a/b.png?partNumber=1&uploadId="+tok, 10, ""), "alice", "a/b.png", "alice/a/b.png", "backend+id/1=")
	f(fx.tmpl, put("/tmpl/a/b.png?partNumber=1&uploadId="+url.QueryEscape(tok), 5<<20, ""), "alice", "a/b.png", "alice/a/b.png", "backend+id/1=")
	f(fx.tmpl, "GET /tmpl/a/b.png?uploadId="+tok+"&max-parts=2 HTTP/1.1\r\nHost: gw\r\n\r\n", "alice", "a/b.png", "alice/a/b.png", "backend+id/1=")
	f(fx.tmpl, "DELETE /tmpl/a/b.png?uploadId="+tok+" HTTP/1.1\r\nHost: gw\r\n\r\n", "alice", "a/b.png", "alice/a/b.png", "backend+id/1=")
	f(fx.tmpl, "POST /tmpl/a/b.png?uploads HTTP/1.1\r\nHost: gw\r\nContent-Type: application/pdf\r\n\r\n", "bob", "a/b.png", "bob/a/b.png", "")
	f(fx.tmpl, put("/tmpl/a.png", 1<<20, "Content-Type: IMAGE/PNG; x=y\r\n"), "alice", "a.png", "alice/a.png", "")

	// {date}: an upload started on an earlier day keeps that day's key.
	now := time.Unix(0, nowNanos())
	for d := 0; d <= 3; d++ {
		then := now.Add(-time.Duration(d) * day).UTC().Format("2006-01-02")
		tok := fx.seal(t, fx.dated, "id-"+then, then+"/k", "alice", exp)
		f(fx.dated, put("/dated/k?partNumber=2&uploadId="+tok, 10, ""), "alice", "k", then+"/k", "id-"+then)
	}
}

func TestBind_Failure(t *testing.T) {
	fx := newBindFixture(t)
	f := func(rt *Route, head, subject, wantCode string, wantStatus int) {
		t.Helper()
		fl := fx.bind(t, rt, head, subject)
		if fl.e == nil {
			t.Fatalf("%q must be refused with %s", head, wantCode)
		}
		if fl.e.Code != wantCode || fl.e.Status != wantStatus {
			t.Fatalf("unexpected refusal of %q; got %d %s; want %d %s", head, fl.e.Status, fl.e.Code, wantStatus, wantCode)
		}
	}
	for _, rt := range []*Route{fx.plain, fx.tmpl} {
		p := rt.Prefix + "/"
		for _, k := range []string{"a%00b", "a%01", "a%7F", "a%FF", "a%C0%AF", "%C2%80x", "..%2F..%2Fother%2Fx", "a/./b", "a/../b", "..", "a/.", "x%EF%BF%BF"} {
			f(rt, put(p+k, 10, "Content-Type: image/png\r\n"), "alice", "InvalidArgument", 400)
		}
		f(rt, put(p+strings.Repeat("k", 1025), 10, ""), "alice", "KeyTooLongError", 400)
	}
	// The stored length counts: key_prefix "pfx/" (4) + 1021 > 1024.
	f(fx.plain, put("/plain/"+strings.Repeat("k", 1021), 10, ""), "", "KeyTooLongError", 400)
	// ... and the template's output: "alice/" + 1015 + 4 > 1024.
	f(fx.tmpl, put("/tmpl/"+strings.Repeat("k", 1015), 10, "Content-Type: image/png\r\n"), "alice", "KeyTooLongError", 400)
	// A template that cannot be applied to the identity.
	f(fx.tmpl, put("/tmpl/a.png", 10, "Content-Type: image/png\r\n"), "", "AccessDenied", 403)
	f(fx.tmpl, put("/tmpl/a.png", 10, "Content-Type: image/png\r\n"), "a/b", "AccessDenied", 403)
	f(fx.tmpl, put("/tmpl/a.png", 10, "Content-Type: image/png\r\n"), "..", "AccessDenied", 403)

	// Sealed ids: another subject, key, route, a tampered, truncated,
	// expired or unsealed id, none or two.
	exp := time.Now().Add(time.Hour)
	tok := fx.seal(t, fx.tmpl, "backend-1", "alice/a.png", "alice", exp)
	part := func(key, id string) string { return put("/tmpl/"+key+"?partNumber=1&uploadId="+id, 10, "") }
	f(fx.tmpl, part("a.png", tok), "bob", "NoSuchUpload", 404)
	f(fx.tmpl, part("b.png", tok), "alice", "NoSuchUpload", 404)
	f(fx.dated, put("/dated/a.png?partNumber=1&uploadId="+tok, 10, ""), "alice", "NoSuchUpload", 404)
	tampered := []byte(tok)
	tampered[len(tampered)/2] ^= 1
	f(fx.tmpl, part("a.png", string(tampered)), "alice", "NoSuchUpload", 404)
	f(fx.tmpl, part("a.png", tok[:len(tok)-1]), "alice", "NoSuchUpload", 404)
	f(fx.tmpl, part("a.png", tok+"A"), "alice", "NoSuchUpload", 404)
	f(fx.tmpl, part("a.png", fx.seal(t, fx.tmpl, "backend-1", "alice/a.png", "alice", time.Now().Add(-time.Second))), "alice", "NoSuchUpload", 404)
	f(fx.tmpl, part("a.png", "backend-1"), "alice", "NoSuchUpload", 404)
	f(fx.tmpl, part("a.png", ""), "alice", "NoSuchUpload", 404)
	f(fx.tmpl, part("a.png", tok+"&uploadId="+tok), "alice", "InvalidArgument", 400)
	f(fx.tmpl, "POST /tmpl/a.png?uploadId=x HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n", "alice", "NoSuchUpload", 404)
	f(fx.tmpl, "GET /tmpl/a.png?uploadId=x HTTP/1.1\r\nHost: gw\r\n\r\n", "alice", "NoSuchUpload", 404)
	f(fx.tmpl, "DELETE /tmpl/a.png?uploadId=x HTTP/1.1\r\nHost: gw\r\n\r\n", "alice", "NoSuchUpload", 404)
	// {date}: no further back than the upload's age allows.
	old := time.Unix(0, nowNanos()).Add(-4 * day).UTC().Format("2006-01-02")
	f(fx.dated, put("/dated/k?partNumber=1&uploadId="+fx.seal(t, fx.dated, "id", old+"/k", "alice", exp), 10, ""), "alice", "NoSuchUpload", 404)

	// Limits.
	f(fx.tmpl, put("/tmpl/a.png", 1<<20+1, "Content-Type: image/png\r\n"), "alice", "EntityTooLarge", 400)
	f(fx.tmpl, put("/tmpl/a.png?partNumber=1&uploadId="+tok, 5<<20+1, ""), "alice", "EntityTooLarge", 400)
	f(fx.tmpl, put("/tmpl/a.png", 10, "Content-Type: text/html\r\n"), "alice", "InvalidArgument", 400)
	f(fx.tmpl, put("/tmpl/a.png", 10, ""), "alice", "InvalidArgument", 400)
	f(fx.tmpl, "POST /tmpl/a.png?uploads HTTP/1.1\r\nHost: gw\r\nContent-Type: text/plain\r\n\r\n", "alice", "InvalidArgument", 400)
}

// The refusals carry what S3's carry: the limit in the message, the sizes
// as elements.
func TestBind_Messages(t *testing.T) {
	fx := newBindFixture(t)
	fl := fx.bind(t, fx.tmpl, put("/tmpl/a.png", 2<<20, "Content-Type: image/png\r\n"), "alice")
	if fl.e == nil || fl.e.Message != "Your proposed upload exceeds the maximum allowed size: 1048576 bytes." ||
		string(fl.xml) != "<ProposedSize>2097152</ProposedSize><MaxSizeAllowed>1048576</MaxSizeAllowed>" {
		t.Fatalf("unexpected EntityTooLarge refusal %+v %q", fl.e, fl.xml)
	}
	fl = fx.bind(t, fx.tmpl, put("/tmpl/a.png", 2, "Content-Type: text/plain\r\n"), "alice")
	if fl.e == nil || !strings.Contains(fl.e.Message, "allowed: image/*, application/pdf.") {
		t.Fatalf("unexpected content type refusal %+v", fl.e)
	}
}

// The UploadId of replies: CreateMultipartUpload's backend id is sealed for
// the stored key and subject; the others echo the client's id; a route
// without a sealer leaves the backend's.
func TestReplyUploadID(t *testing.T) {
	fx := newBindFixture(t)
	ex := &exchange{s: fx.s, route: fx.tmpl, op: opCreateMultipart, hasStored: true, stored: []byte("alice/k"), key: []byte("k"),
		ident: identity{subject: "alice"}}
	tok, err := ex.replyUploadID([]byte(`<InitiateMultipartUploadResult><UploadId>b&amp;1</UploadId></InitiateMultipartUploadResult>`))
	if err != nil {
		t.Fatal(err)
	}
	f := func(key, subject, route, wantID string) {
		t.Helper()
		id, err := uploadid.Open(nil, fx.sealer, tok, &uploadid.Owner{Route: route, Key: []byte(key), Subject: subject}, time.Now())
		if got := string(id); (err == nil) != (wantID != "") || got != wantID {
			t.Fatalf("Open for %q %q %q: %q, %v; want %q", route, key, subject, got, err, wantID)
		}
	}
	f("alice/k", "alice", "tmpl", "b&1")
	f("k", "alice", "tmpl", "")
	f("alice/k", "bob", "tmpl", "")
	f("alice/k", "alice", "plain", "")
	if _, err := ex.replyUploadID([]byte(`<InitiateMultipartUploadResult></InitiateMultipartUploadResult>`)); err == nil {
		t.Fatalf("a reply without UploadId must fail")
	}

	ex.op = opListParts
	if _, err := ex.req.Parse([]byte("GET /tmpl/k?uploadId=A%2DB_c&max-parts=1 HTTP/1.1\r\nHost: gw\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if id, err := ex.replyUploadID(nil); err != nil || string(id) != "A-B_c" {
		t.Fatalf("ListParts reply id: %q, %v; want the client's A-B_c", id, err)
	}
	ex.route = fx.plain
	if id, err := ex.replyUploadID(nil); err != nil || id != nil {
		t.Fatalf("reply id without a sealer: %q, %v; want nil", id, err)
	}
}
