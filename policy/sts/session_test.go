package sts

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/policy/uploadid"
)

func TestOpen_Failure(t *testing.T) {
	iss := mustIssuer(t, testConfig(), nil)
	c := mustAssume(t, iss, testRequest(roleARN), testIdentity())
	c2 := mustAssume(t, iss, testRequest(roleARN), testIdentity())
	ak, tok := []byte(c.AccessKeyID), []byte(c.SessionToken)
	f := func(iss *Issuer, ak, tok []byte, now time.Time, want error) {
		t.Helper()
		s, secret, err := iss.Open(ak, tok, now)
		if !errors.Is(err, want) || s != nil || secret != nil {
			t.Fatalf("unexpected Open result; got %v, %v, %q; want %v", s, err, secret, want)
		}
	}

	// Malformed and tampered tokens: every single-byte change, every
	// truncation, an extension.
	f(iss, ak, nil, testNow, ErrInvalidToken)
	f(iss, ak, []byte("x"), testNow, ErrInvalidToken)
	f(iss, ak, bytes.Repeat([]byte("A"), MaxSessionTokenLen+1), testNow, ErrInvalidToken)
	for i := range tok {
		m := bytes.Clone(tok)
		m[i] ^= 1
		f(iss, ak, m, testNow, ErrInvalidToken)
		f(iss, ak, tok[:i], testNow, ErrInvalidToken)
	}
	f(iss, ak, append(bytes.Clone(tok), 'A'), testNow, ErrInvalidToken)
	f(iss, ak, append(bytes.Clone(tok), '\n'), testNow, ErrInvalidToken)

	// Another token's access key id, one with a changed character, a
	// lower-case one, none.
	f(iss, []byte(c2.AccessKeyID), tok, testNow, ErrAccessKeyMismatch)
	changed := []byte(c.AccessKeyID)
	if changed[19] == 'Q' {
		changed[19] = 'R'
	} else {
		changed[19] = 'Q'
	}
	f(iss, changed, tok, testNow, ErrAccessKeyMismatch)
	f(iss, []byte(strings.ToLower(c.AccessKeyID)), tok, testNow, ErrAccessKeyMismatch)
	f(iss, nil, tok, testNow, ErrAccessKeyMismatch)

	// Expired at exactly the expiry, valid a second before.
	f(iss, ak, tok, c.Expiration, ErrExpiredToken)
	f(iss, ak, tok, c.Expiration.Add(time.Hour), ErrExpiredToken)
	if _, _, err := iss.Open(ak, tok, c.Expiration.Add(-time.Second)); err != nil {
		t.Fatalf("unexpected error a second before expiry: %s", err)
	}

	// Another secret; a token of another purpose sealed with the same one.
	f(mustIssuer(t, testConfig(secretOld), nil), ak, tok, testNow, ErrInvalidToken)
	s, err := seal.New([][]byte{[]byte(secretNew)})
	if err != nil {
		t.Fatal(err)
	}
	up, err := uploadid.Seal(nil, s, []byte("backend-upload-id"), &uploadid.Owner{Route: "uploads", Key: []byte("k")}, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f(iss, ak, up, testNow, ErrInvalidToken)
	f(iss, ak, s.Seal(nil, "upload-id", bytes.Repeat([]byte{1}, 100), nil), testNow, ErrInvalidToken)

	// The role was removed from the configuration.
	cfg := testConfig()
	cfg.Roles = cfg.Roles[1:]
	f(mustIssuer(t, cfg, nil), ak, tok, testNow, ErrInvalidToken)
}

// TestOpen_Plaintext: a token that authenticates but whose plaintext is
// malformed never opens (defense in depth: only Assume seals).
func TestOpen_Plaintext(t *testing.T) {
	iss := mustIssuer(t, testConfig(), nil)
	good := &sealed{expires: testNow.Unix() + 60, subject: "s", role: roleARN, routes: []string{"uploads"}}
	var ak [AccessKeyIDLen]byte
	appendAccessKeyID(ak[:0], &good.akid)
	tok, err := iss.seal(good)
	if err != nil {
		t.Fatal(err)
	}
	p, err := iss.sealer.Open(nil, Purpose, tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := iss.Open(ak[:], tok, testNow); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	f := func(p []byte) {
		t.Helper()
		tok := iss.sealer.Seal(nil, Purpose, p, nil)
		if _, _, err := iss.Open(ak[:], tok, testNow); err != ErrInvalidToken {
			t.Fatalf("unexpected error for plaintext %q; got %v; want ErrInvalidToken", p, err)
		}
	}
	for i := range len(p) {
		f(p[:i])
	}
	f(append(bytes.Clone(p), 0))
	bad := bytes.Clone(p)
	bad[0] = 2 // format
	f(bad)
	bad = bytes.Clone(p)
	bad[fixedLen] = 0xff // subject length: an unterminated uvarint or too long
	f(bad)
	bad = bytes.Clone(p)
	bad[len(bad)-len("uploads")-2] = 9 // route count
	f(bad)
	// Claims that are not a JSON object.
	good.claims = "[1]"
	tok, _ = iss.seal(good)
	if _, _, err := iss.Open(ak[:], tok, testNow); err != ErrInvalidToken {
		t.Fatalf("unexpected error for non-object claims; got %v", err)
	}
}

func TestOpen_Rotation(t *testing.T) {
	old := mustIssuer(t, testConfig(secretOld), nil)
	c := mustAssume(t, old, testRequest(roleARN), testIdentity())
	rotated := mustIssuer(t, testConfig(secretNew, secretOld), nil)
	s, secret, err := rotated.Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow)
	if err != nil || string(secret) != c.SecretAccessKey || s.Subject != "alice" {
		t.Fatalf("unexpected Open after rotation; got %+v, %q, %v", s, secret, err)
	}
	// The rotated issuer seals with the new secret only.
	c = mustAssume(t, rotated, testRequest(roleARN), testIdentity())
	if _, _, err := mustIssuer(t, testConfig(secretNew), nil).Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow); err != nil {
		t.Fatalf("unexpected error with the new secret: %s", err)
	}
	if _, _, err := old.Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow); err != ErrInvalidToken {
		t.Fatalf("unexpected error with the old secret; got %v; want ErrInvalidToken", err)
	}
}

// TestOpen_Keys: access key ids and secret keys are distinct per session,
// and a secret key says nothing about another session's.
func TestOpen_Keys(t *testing.T) {
	iss := mustIssuer(t, testConfig(), nil)
	aks, sks := map[string]bool{}, map[string]bool{}
	for range 200 {
		c := mustAssume(t, iss, testRequest(roleARN), testIdentity())
		if aks[c.AccessKeyID] || sks[c.SecretAccessKey] {
			t.Fatalf("a key was issued twice: %q %q", c.AccessKeyID, c.SecretAccessKey)
		}
		aks[c.AccessKeyID], sks[c.SecretAccessKey] = true, true
		_, sk, err := iss.Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow)
		if err != nil || string(sk) != c.SecretAccessKey {
			t.Fatalf("unexpected Open; got %q, %v; want %q", sk, err, c.SecretAccessKey)
		}
	}
}

func TestOpen_Routes(t *testing.T) {
	c := mustAssume(t, mustIssuer(t, testConfig(), nil), testRequest(roleARN), testIdentity())
	f := func(routes []string, want []string) {
		t.Helper()
		cfg := testConfig()
		cfg.Roles[0].Routes = routes
		s, _, err := mustIssuer(t, cfg, nil).Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow)
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		if strings.Join(s.Routes, ",") != strings.Join(want, ",") {
			t.Fatalf("unexpected routes; got %q; want %q", s.Routes, want)
		}
	}
	f([]string{"uploads", "photos"}, []string{"uploads", "photos"})
	f([]string{"photos", "uploads", "new"}, []string{"uploads", "photos"}) // never more than sealed
	f([]string{"photos"}, []string{"photos"})
	f([]string{"other"}, nil)
}

func TestSession_Allows(t *testing.T) {
	f := func(s *Session, route, key string, want bool) {
		t.Helper()
		if got := s.Allows(route, []byte(key)); got != want {
			t.Fatalf("unexpected Allows(%q, %q); got %v; want %v", route, key, got, want)
		}
	}
	any := &Session{Routes: []string{"uploads", "photos"}}
	f(any, "uploads", "a", true)
	f(any, "photos", "", true)
	f(any, "other", "a", false)
	f(any, "upload", "a", false)
	scoped := &Session{Routes: []string{"uploads"}, KeyPrefix: "tenants/acme/alice/"}
	f(scoped, "uploads", "tenants/acme/alice/a.jpg", true)
	f(scoped, "uploads", "tenants/acme/alice/", true)
	f(scoped, "uploads", "tenants/acme/alice", false)
	f(scoped, "uploads", "tenants/acme/alicex/a", false)
	f(scoped, "uploads", "tenants/acme/bob/a", false)
	f(scoped, "photos", "tenants/acme/alice/a", false)
	f(&Session{}, "uploads", "a", false)
}

func TestIsSessionAccessKey(t *testing.T) {
	f := func(ak string, want bool) {
		t.Helper()
		if got := IsSessionAccessKey([]byte(ak)); got != want {
			t.Fatalf("unexpected IsSessionAccessKey(%q); got %v; want %v", ak, got, want)
		}
	}
	f("ASIAABCDEFGHIJ234567", true)
	f("AKIAABCDEFGHIJ234567", false)
	f("ASIAABCDEFGHIJ23456", false)
	f("ASIAABCDEFGHIJ2345678", false)
	f("ASIAABCDEFGHIJ234561", false)
	f("ASIAabcdefghij234567", false)
	f("", false)
}

// TestSealed_Bounds: the largest session Assume can make still fits in
// MaxSessionTokenLen, and a larger plaintext is refused.
func TestSealed_Bounds(t *testing.T) {
	cfg := testConfig()
	routes := make([]string, 40)
	for i := range routes {
		routes[i] = strings.Repeat(string(rune('a'+i%26)), 62) + string(rune('a'+i/26))
	}
	cfg.Roles[0] = config.STSRole{ARN: "arn:" + strings.Repeat("r", 2044), Routes: routes, MaxDuration: time.Hour,
		KeyTemplate: "{claims.p}/"}
	iss := mustIssuer(t, cfg, nil)
	id := testIdentity()
	id.Subject = strings.Repeat("s", MaxSubjectLen)
	id.Claims = map[string]any{"p": strings.Repeat("p", 1000), "x": strings.Repeat("x", MaxClaimsSize-1024)}
	req := &Request{RoleARN: cfg.Roles[0].ARN, RoleSessionName: strings.Repeat("n", 64)}
	// 40 long routes do not fit beside the longest other fields.
	if _, e := iss.Assume(req, id, testNow); e == nil || e.Code != CodePackedPolicyTooLarge {
		t.Fatalf("unexpected Assume result; got %v; want PackedPolicyTooLarge", e)
	}
	cfg.Roles[0].Routes = routes[:20]
	iss = mustIssuer(t, cfg, nil)
	c := mustAssume(t, iss, req, id)
	if len(c.SessionToken) > MaxSessionTokenLen {
		t.Fatalf("token of %d bytes; want at most %d", len(c.SessionToken), MaxSessionTokenLen)
	}
	s, _, err := iss.Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow)
	if err != nil || len(s.Routes) != 20 || len(s.KeyPrefix) != 1001 {
		t.Fatalf("unexpected Open; got %v (%d routes)", err, len(s.Routes))
	}
	if _, err := iss.seal(&sealed{claims: strings.Repeat("c", maxPlaintext)}); err != errTooLarge {
		t.Fatalf("unexpected seal error; got %v; want errTooLarge", err)
	}
}

func TestOpenNoClaims(t *testing.T) {
	iss := mustIssuer(t, testConfig(), nil)
	c := mustAssume(t, iss, testRequest(roleARN), testIdentity())
	s, secret, err := iss.OpenNoClaims([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow)
	if err != nil || string(secret) != c.SecretAccessKey || s.Claims != nil || !strings.HasPrefix(s.ClaimsJSON, `{"aud":`) {
		t.Fatalf("unexpected OpenNoClaims: %+v %v", s, err)
	}
	if err := s.DecodeClaims(); err != nil || s.Claims["tenant"] != "acme" || s.Claims["exp"] != nil || len(s.Claims) != 7 {
		t.Fatalf("unexpected DecodeClaims: %v %v", s.Claims, err)
	}
	// Idempotent, and a session without claims decodes to nil.
	if err := s.DecodeClaims(); err != nil || s.Claims["tenant"] != "acme" {
		t.Fatalf("unexpected second DecodeClaims: %v", err)
	}
	if err := (&Session{}).DecodeClaims(); err != nil {
		t.Fatalf("unexpected error without claims: %s", err)
	}
	for _, bad := range []string{"null", "[1]", "{", `"x"`} {
		if err := (&Session{ClaimsJSON: bad}).DecodeClaims(); err != ErrInvalidToken {
			t.Fatalf("unexpected DecodeClaims(%q); got %v; want ErrInvalidToken", bad, err)
		}
	}
}
