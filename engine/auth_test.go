package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// authFixture is a server, a route's Auth and signed request heads.
type authFixture struct {
	s  *Server
	a  *Auth
	sc *loopScratch
	st *connState
}

func newAuthFixture(t testing.TB) *authFixture {
	t.Helper()
	s, err := New(Config{Addr: "127.0.0.1:0"}, NewRouter(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	jc := &config.JWT{Algorithms: []string{"HS256"}, Secret: "jwt-secret", SubjectClaim: "sub",
		TokenSources: []config.TokenSource{{Type: "bearer"}}, Leeway: time.Minute, CacheTTL: time.Hour, MinRefresh: time.Second}
	j, err := policy.NewJWT(jc, policy.JWTOptions{Route: "auth-test"})
	if err != nil {
		t.Fatal(err)
	}
	return &authFixture{
		s: s,
		a: &Auth{
			SigV4: &sigv4.VerifyConfig{Region: "us-east-1", Keys: sigv4.Keys{"AKTEST": {Secret: "SKTEST", Subject: "alice"}}},
			JWT:   j,
		},
		sc: s.scratch.Get().(*loopScratch),
		st: &connState{},
	}
}

// sigv4Head returns a PUT head signed at the coarse clock's time.
func sigv4Head(secret, payloadHash string) []byte {
	date := sigv4.AppendAmzDate(nil, time.Unix(0, nowNanos()).UTC())
	hdrs := []sigv4.Header{
		{Name: []byte("host"), Value: []byte("127.0.0.1:8080")},
		{Name: []byte("x-amz-content-sha256"), Value: []byte(payloadHash)},
		{Name: []byte("x-amz-date"), Value: date},
	}
	auth := sigv4.NewSigner(nil).AppendAuthorization(nil, &sigv4.Credentials{AccessKey: "AKTEST", SecretKey: secret}, &sigv4.Request{
		Method: []byte("PUT"), Path: []byte("/uploads/dir/key.bin"), Query: []byte("x-id=PutObject"),
		Headers: hdrs, PayloadHash: []byte(payloadHash), AmzDate: date, Region: "us-east-1",
	})
	return []byte("PUT /uploads/dir/key.bin?x-id=PutObject HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 1024\r\n" +
		"x-amz-content-sha256: " + payloadHash + "\r\nx-amz-date: " + string(date) + "\r\nAuthorization: " + string(auth) + "\r\n\r\n")
}

func bearerHead(tok string) []byte {
	return []byte("PUT /uploads/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nAuthorization: Bearer " + tok + "\r\n\r\n")
}

func hsToken(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("jwt-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *authFixture) run(t testing.TB, head []byte) authResult {
	t.Helper()
	if _, err := f.sc.req.Parse(head); err != nil {
		t.Fatalf("cannot parse head: %s", err)
	}
	return f.s.authenticate(f.st, f.sc, f.a, &f.sc.req)
}

func TestAuthenticate_Success(t *testing.T) {
	fx := newAuthFixture(t)
	f := func(name string, head []byte, method, subject string, streaming bool) {
		t.Helper()
		r := fx.run(t, head)
		if r.fail != nil || r.pending {
			t.Fatalf("%s: unexpected failure %+v", name, r.fail)
		}
		if r.id.method != method || r.id.subject != subject || r.streaming != streaming {
			t.Fatalf("%s: got %+v streaming=%v; want %s %s streaming=%v", name, r.id, r.streaming, method, subject, streaming)
		}
	}
	f("sigv4 unsigned", sigv4Head("SKTEST", "UNSIGNED-PAYLOAD"), "sigv4", "alice", false)
	f("sigv4 streaming", sigv4Head("SKTEST", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), "sigv4", "alice", true)
	tok := hsToken(t, jwt.MapClaims{"sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
	f("jwt", bearerHead(tok), "jwt", "bob", false)
}

func TestAuthenticate_Failure(t *testing.T) {
	fx := newAuthFixture(t)
	f := func(name string, head []byte, code string, status int, wwwAuth bool) {
		t.Helper()
		r := fx.run(t, head)
		if r.fail == nil {
			t.Fatalf("%s: accepted; want %s", name, code)
		}
		if r.fail.e.Code != code || r.fail.e.Status != status {
			t.Fatalf("%s: got %s %d; want %s %d", name, r.fail.e.Code, r.fail.e.Status, code, status)
		}
		if (r.fail.wwwAuth != "") != wwwAuth {
			t.Fatalf("%s: WWW-Authenticate %q; want present=%v", name, r.fail.wwwAuth, wwwAuth)
		}
	}
	f("wrong secret", sigv4Head("WRONG", "UNSIGNED-PAYLOAD"), "SignatureDoesNotMatch", 403, false)
	f("unknown payload mode", sigv4Head("SKTEST", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"), "MissingSecurityHeader", 400, false)
	f("no credentials", []byte("PUT /uploads/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n"), "AccessDenied", 401, true)
	expired := hsToken(t, jwt.MapClaims{"sub": "bob", "exp": time.Now().Add(-time.Hour).Unix()})
	f("expired token", bearerHead(expired), "InvalidToken", 401, true)
	r := fx.run(t, bearerHead(expired))
	if strings.Contains(r.fail.msg, expired) || strings.Contains(r.fail.wwwAuth, expired[len(expired)-20:]) {
		t.Fatalf("the token leaked into the error")
	}

	// A route with SigV4 only refuses anonymous requests with 403.
	fx.a.JWT = nil
	f("anonymous", []byte("PUT /uploads/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n"), "AccessDenied", 403, false)
}
