package sts

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/uploadid"
)

// benchOpen opens one session per iteration, the engine's per-request cost.
func benchOpen(b *testing.B, id *policy.Identity, claims bool) {
	iss := mustIssuer(b, testConfig(), nil)
	c := mustAssume(b, iss, testRequest(roleARN), id)
	ak, tok := []byte(c.AccessKeyID), []byte(c.SessionToken)
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		open := iss.OpenNoClaims
		if claims {
			open = iss.Open
		}
		if _, _, err := open(ak, tok, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen_Claims: Open of a typical ID token's session (7 claims
// left after dropping exp, iat and nonce), claims decoded.
func BenchmarkOpen_Claims(b *testing.B) { benchOpen(b, testIdentity(), true) }

// BenchmarkOpenNoClaims_Claims: the same session, claims left as JSON.
func BenchmarkOpenNoClaims_Claims(b *testing.B) { benchOpen(b, testIdentity(), false) }

// BenchmarkOpenNoClaims_NoClaims: a session that carries no claims.
func BenchmarkOpenNoClaims_NoClaims(b *testing.B) {
	benchOpen(b, &policy.Identity{Subject: "alice"}, false)
}

// BenchmarkOpen_UploadIDBaseline is the floor: opening a sealed upload id
// (the same AES-GCM, no parsing, no allocation).
func BenchmarkOpen_UploadIDBaseline(b *testing.B) {
	iss := mustIssuer(b, testConfig(), nil)
	o := &uploadid.Owner{Route: "uploads", Key: []byte("k"), Subject: "alice"}
	tok, err := uploadid.Seal(nil, iss.sealer, []byte("backend-upload-id-0123456789"), o, testNow.Add(3600e9))
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 4<<10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := uploadid.Open(dst, iss.sealer, tok, o, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAssume(b *testing.B) {
	iss := mustIssuer(b, testConfig(), nil)
	req, id := testRequest(scopedARN), testIdentity()
	b.ReportAllocs()
	for b.Loop() {
		if _, e := iss.Assume(req, id, testNow); e != nil {
			b.Fatal(e)
		}
	}
}
