//go:build !race

package engine

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Authentication on the loop allocates nothing in steady state: a SigV4
// header signature with a cached signing key, and a cached bearer token.
func TestAuthenticateNoAllocs(t *testing.T) {
	fx := newAuthFixture(t)
	f := func(name string, head []byte) {
		t.Helper()
		if _, err := fx.sc.req.Parse(head); err != nil {
			t.Fatal(err)
		}
		if r := fx.s.authenticate(fx.st, fx.sc, fx.a, &fx.sc.req); r.fail != nil {
			t.Fatalf("%s: unexpected failure %+v", name, r.fail)
		}
		n := testing.AllocsPerRun(200, func() {
			if r := fx.s.authenticate(fx.st, fx.sc, fx.a, &fx.sc.req); r.fail != nil {
				t.Fatalf("%s: unexpected failure %+v", name, r.fail)
			}
		})
		if n != 0 {
			t.Fatalf("%s: unexpected allocations; got %v; want 0", name, n)
		}
	}
	f("sigv4", sigv4Head("SKTEST", "UNSIGNED-PAYLOAD"))
	f("jwt", bearerHead(hsToken(t, jwt.MapClaims{"sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})))
}
