package policy

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/httpparse"
)

func parseRequest(t testing.TB, target string, headers ...string) *httpparse.Request {
	t.Helper()
	head := "GET " + target + " HTTP/1.1\r\nHost: s3.local\r\n"
	for _, h := range headers {
		head += h + "\r\n"
	}
	head += "\r\n"
	var req httpparse.Request
	if _, err := req.Parse([]byte(head)); err != nil {
		t.Fatalf("cannot parse request: %s", err)
	}
	return &req
}

func tokenJWT(t testing.TB, sources ...config.TokenSource) *JWT {
	t.Helper()
	cfg := jwtConfig("HS256")
	cfg.Secret = testSecret
	cfg.TokenSources = sources
	return newTestJWT(t, cfg, JWTOptions{Route: "token"})
}

var (
	srcBearerCfg = config.TokenSource{Type: "bearer"}
	srcQueryCfg  = config.TokenSource{Type: "query", Name: "access_token"}
	srcHeaderCfg = config.TokenSource{Type: "header", Name: "X-Auth-Token"}
	srcCookieCfg = config.TokenSource{Type: "cookie", Name: "jwt"}
)

func TestToken_Success(t *testing.T) {
	f := func(sources []config.TokenSource, target string, headers []string, want string) {
		t.Helper()
		a := tokenJWT(t, sources...)
		req := parseRequest(t, target, headers...)
		tok, scratch := a.Token(req, nil)
		if string(tok) != want {
			t.Fatalf("unexpected token for %s %q; got %q; want %q", target, headers, tok, want)
		}
		// Reusing the returned scratch gives the same result.
		if tok2, _ := a.Token(req, scratch); string(tok2) != want {
			t.Fatalf("unexpected token with reused scratch; got %q; want %q", tok2, want)
		}
	}
	all := []config.TokenSource{srcBearerCfg, srcQueryCfg, srcHeaderCfg, srcCookieCfg}
	f(nil, "/b/k", []string{"Authorization: Bearer a.b.c"}, "a.b.c")
	f(all[:1], "/b/k", []string{"authorization: bEaReR   a.b.c"}, "a.b.c")
	f(all[:1], "/b/k", []string{"Authorization: Bearer\ta.b.c  "}, "a.b.c")
	f(all[1:2], "/b/k?access_token=a.b.c", nil, "a.b.c")
	f(all[1:2], "/b/k?x=1&access%5Ftoken=a%2Eb%2Ec&y", nil, "a.b.c")
	f(all[1:2], "/b/k?access_token=&access_token=second", nil, "second")
	f(all[1:2], "/b/k?access_token=a+b", nil, "a b")
	f(all[2:3], "/b/k", []string{"x-auth-token: h.h.h"}, "h.h.h")
	f(all[3:], "/b/k", []string{"Cookie: jwt=c.c.c"}, "c.c.c")
	f(all[3:], "/b/k", []string{"Cookie: a=1; xjwt=no; jwt=c.c.c; b=2"}, "c.c.c")
	f(all[3:], "/b/k", []string{"Cookie: a=1;jwt=\"q.q.q\""}, "q.q.q")
	f(all[3:], "/b/k", []string{"Cookie: a=1", "Accept: */*", "cookie: b=2; jwt=m.m.m"}, "m.m.m")
	f(all[3:], "/b/k", []string{"Cookie: jwt=", "Cookie: jwt=n.n.n"}, "n.n.n")
	// Order of sources decides.
	f(all, "/b/k?access_token=q", []string{"Authorization: Bearer b", "X-Auth-Token: h", "Cookie: jwt=c"}, "b")
	f(all, "/b/k?access_token=q", []string{"Authorization: AWS4-HMAC-SHA256 Credential=x", "X-Auth-Token: h"}, "q")
	f([]config.TokenSource{srcCookieCfg, srcHeaderCfg, srcBearerCfg}, "/b/k", []string{"Authorization: Bearer b", "X-Auth-Token: h", "Cookie: jwt=c"}, "c")
	f(all, "/b/k", []string{"Cookie: other=1", "X-Auth-Token: h"}, "h")
}

func TestToken_Failure(t *testing.T) {
	f := func(sources []config.TokenSource, target string, headers ...string) {
		t.Helper()
		a := tokenJWT(t, sources...)
		if tok, _ := a.Token(parseRequest(t, target, headers...), nil); tok != nil {
			t.Fatalf("unexpected token for %s %q; got %q; want nil", target, headers, tok)
		}
	}
	all := []config.TokenSource{srcBearerCfg, srcQueryCfg, srcHeaderCfg, srcCookieCfg}
	f(all, "/b/k")
	f(all[:1], "/b/k", "Authorization: Basic dXNlcjpwYXNz")
	f(all[:1], "/b/k", "Authorization: Bearer")
	f(all[:1], "/b/k", "Authorization: Bearer ")
	f(all[:1], "/b/k", "Authorization: Bearerx.y.z")
	f(all[:1], "/b/k", "Authorization: AWS4-HMAC-SHA256 Credential=x")
	f(all[:1], "/b/k?access_token=q", "X-Auth-Token: h")
	f(all[1:2], "/b/k?access_token")
	f(all[1:2], "/b/k?access_token=")
	f(all[1:2], "/b/k?access_tokenx=a&xaccess_token=b&access%5F=c")
	f(all[2:3], "/b/k", "X-Auth: h")
	f(all[3:], "/b/k", "Cookie: jwtx=1; xjwt=2; JWT=3")
	f(all[3:], "/b/k", "Cookie: jwt=", "Set-Cookie: jwt=a")
	f(all[3:], "/b/k", "Cookie: jwt=\"\"")
}

func TestQueryKeyIs(t *testing.T) {
	f := func(enc, name string, want bool) {
		t.Helper()
		if got := queryKeyIs([]byte(enc), name); got != want {
			t.Fatalf("unexpected queryKeyIs(%q, %q); got %v; want %v", enc, name, got, want)
		}
	}
	f("token", "token", true)
	f("t%6Fken", "token", true)
	f("a+b", "a b", true)
	f("a%20b", "a b", true)
	f("tok", "token", false)
	f("tokens", "token", false)
	f("t%6", "t", false)
	f("t%zz", "t?", false)
	f("", "", true)
}
