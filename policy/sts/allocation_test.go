//go:build !race

package sts

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/policy"
)

// TestOpenNoClaims_Allocs: the per-request check allocates the Session
// and one string, nothing else, with up to four routes; failures
// allocate nothing.
func TestOpenNoClaims_Allocs(t *testing.T) {
	iss := mustIssuer(t, testConfig(secretNew, secretOld), nil)
	old := mustIssuer(t, testConfig(secretOld), nil)
	// Sealed with the second secret: Open tries both.
	c := mustAssume(t, old, testRequest(roleARN), testIdentity())
	ak, tok := []byte(c.AccessKeyID), []byte(c.SessionToken)
	if _, _, err := iss.OpenNoClaims(ak, tok, testNow); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if n := testing.AllocsPerRun(200, func() {
		if _, _, err := iss.OpenNoClaims(ak, tok, testNow); err != nil {
			panic(err)
		}
	}); n > 2 {
		t.Fatalf("unexpected allocations; got %v; want at most 2", n)
	}
	other := mustAssume(t, iss, testRequest(roleARN), &policy.Identity{Subject: "x"})
	bad := []byte(c.SessionToken)
	bad = append(bad[:len(bad)-1:len(bad)-1], 'A'^bad[len(bad)-1]^'B')
	for i, x := range []struct {
		ak, tok []byte
	}{{ak, bad}, {[]byte(other.AccessKeyID), tok}, {ak, nil}} {
		if n := testing.AllocsPerRun(100, func() { _, _, _ = iss.OpenNoClaims(x.ak, x.tok, testNow) }); n != 0 {
			t.Fatalf("unexpected allocations on failure (case %d, %q, %d-byte token); got %v; want 0", i, x.ak, len(x.tok), n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = iss.OpenNoClaims(ak, tok, c.Expiration) }); n != 0 {
		t.Fatalf("unexpected allocations for an expired token; got %v; want 0", n)
	}
}
