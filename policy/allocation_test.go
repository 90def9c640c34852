//go:build !race

package policy

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestAllocations(t *testing.T) {
	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Fatalf("unexpected allocations in %s; got %v; want 0", name, n)
		}
	}
	a := tokenJWT(t, srcBearerCfg, srcQueryCfg, srcHeaderCfg, srcCookieCfg)
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", claims(nil))
	reqs := map[string]string{
		"bearer": "Authorization: Bearer " + tok,
		"header": "X-Auth-Token: " + tok,
		"cookie": "Cookie: a=1; jwt=" + tok + "; b=2",
	}
	scratch := make([]byte, 0, 64)
	for name, h := range reqs {
		req := parseRequest(t, "/b/k", "Cookie: x=y", h)
		f("Token "+name, func() {
			var got []byte
			if got, scratch = a.Token(req, scratch); string(got) != tok {
				t.Fatalf("unexpected token %q", got)
			}
		})
	}
	// A query token is decoded into scratch, which grows once.
	req := parseRequest(t, "/b/k?x=1&access%5Ftoken="+tok)
	_, scratch = a.Token(req, scratch)
	f("Token query", func() {
		var got []byte
		if got, scratch = a.Token(req, scratch); string(got) != tok {
			t.Fatalf("unexpected token %q", got)
		}
	})
	none := parseRequest(t, "/b/k?x=1", "Authorization: AWS4-HMAC-SHA256 Credential=x", "Cookie: a=b")
	f("Token absent", func() {
		if got, _ := a.Token(none, scratch); got != nil {
			t.Fatalf("unexpected token %q", got)
		}
	})

	for _, alg := range []string{"HS256", "RS256", "ES256"} {
		v, tok := benchAuthenticator(t, alg, 0)
		b := []byte(tok)
		if _, err := v.Verify(b, testNow); err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		f("Verify cached "+alg, func() {
			if _, err := v.Verify(b, testNow); err != nil {
				t.Fatalf("unexpected error: %s", err)
			}
		})
	}
	big := make([]byte, MaxTokenSize+1)
	f("Verify too large", func() {
		if _, err := a.Verify(big, testNow); err != errTooLarge {
			t.Fatalf("unexpected error: %v", err)
		}
	})
}

// TestAppendJSONNoAllocs: the decision input's JSON (the decision-cache
// key, built on the event loop) allocates nothing with room in dst.
func TestAppendJSONNoAllocs(t *testing.T) {
	in := Input{Subject: "benchak", Auth: AuthSigV4, AccessKey: "benchak", Action: "s3:PutObject", Bucket: "opa",
		Key: "benchak/bench/k1", ContentLength: 1024, ContentType: "application/octet-stream", SourceIP: "127.0.0.1",
		Method: "PUT", Path: "/opa/benchak/bench/k1", Headers: map[string]string{"content-type": "application/octet-stream"}}
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { dst = in.AppendJSON(dst[:0]) }); n != 0 {
		t.Fatalf("AppendJSON allocates %v times per call; want 0", n)
	}
}
