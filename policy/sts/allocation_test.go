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
	// A token that decodes but does not authenticate. (A token that is
	// not base64 fails in encoding/base64, which boxes the position of
	// the bad byte in its error: one allocation past byte 255.)
	bad := []byte(c.SessionToken)
	if i := len(bad) / 2; bad[i] == 'A' {
		bad[i] = 'B'
	} else {
		bad[i] = 'A'
	}
	for i, x := range []struct {
		ak, tok []byte
	}{{ak, bad}, {[]byte(other.AccessKeyID), tok}, {ak, nil}} {
		if n := testing.AllocsPerRun(100, func() { _, _, _ = iss.OpenNoClaims(x.ak, x.tok, testNow) }); n != 0 {
			t.Fatalf("unexpected allocations on failure %d; got %v; want 0", i, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = iss.OpenNoClaims(ak, tok, c.Expiration) }); n != 0 {
		t.Fatalf("unexpected allocations for an expired token; got %v; want 0", n)
	}
}
