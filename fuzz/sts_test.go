package fuzz

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/sts"
)

// FuzzSTSSession issues sessions for random identities and requires that
// the token opens to exactly what was issued (subject, role, session name,
// key prefix, routes, expiry, claims as JSON), with the secret key issued,
// and that any single-byte change, any truncation, another access key id
// and expiry all fail with the documented error. Refusals are checked
// against their reference: keytemplate for the key prefix, the role's
// maximum for the duration, MaxClaimsSize for the claims.
func FuzzSTSSession(f *testing.F) {
	f.Add("alice", "app1", "tenant", "acme", 3.0, uint16(3600), byte(0), uint16(0), byte(1), uint16(0))
	f.Add("bob", "ci-job@x", "groups", "a/b", -1.5, uint16(43200), byte(1), uint16(77), byte(0x80), uint16(40))
	f.Add("日本語", "ab", "", "\xff", 1e300, uint16(0), byte(2), uint16(65535), byte(0xff), uint16(65535))
	f.Add("a/../b", "s", "exp", "x", 0.0, uint16(901), byte(1), uint16(1), byte(2), uint16(3))
	f.Add("", "", "sub", "", 0.0, uint16(1), byte(0), uint16(0), byte(0), uint16(0))

	const maxLen = 1100
	cfg := &config.STS{
		Enabled: true,
		Roles: []config.STSRole{
			{ARN: "arn:aws:iam::123456789012:role/any", Routes: []string{"uploads", "photos"}, MaxDuration: 12 * time.Hour},
			{ARN: "arn:aws:iam::123456789012:role/scoped", Routes: []string{"uploads"}, KeyTemplate: "{sub}/", MaxDuration: time.Hour},
		},
		Secrets: []string{"fuzz-sts-secret-new-0123456789abcdef", "fuzz-sts-secret-old-0123456789abcdef"},
	}
	iss, err := sts.New(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	prefixTmpl, err := keytemplate.Compile("{subject}/{key}")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 3, 7, 9, 5, 1, 0, time.UTC)

	f.Fuzz(func(t *testing.T, subject, sessionName, claimName, claimValue string, num float64, dur uint16, roleIdx byte,
		pos uint16, delta byte, cut uint16) {
		if len(subject) > maxLen || len(sessionName) > 64 || len(claimName) > 256 || len(claimValue) > maxLen {
			t.Skip("input too large")
		}
		role := &cfg.Roles[int(roleIdx)%len(cfg.Roles)]
		claims := map[string]any{"sub": subject, claimName: claimValue, "n": num, "exp": float64(1)}
		id := &policy.Identity{Method: policy.MethodJWT, Subject: subject, Claims: claims}
		d := time.Duration(900+int(dur)%(43200-900+1)) * time.Second
		req := &sts.Request{WebIdentityToken: []byte("t"), RoleARN: role.ARN, RoleSessionName: sessionName, Duration: d}

		// What the session must hold, or why it must be refused.
		kept := map[string]any{}
		for k, v := range claims {
			if k != "exp" {
				kept[k] = v
			}
		}
		wantJSON, jerr := json.Marshal(kept)
		var wantPrefix []byte
		var tmplErr error
		if role.KeyTemplate != "" {
			wantPrefix, tmplErr = prefixTmpl.Append(nil, &keytemplate.Vars{Subject: subject})
		}
		wantCode := ""
		switch {
		case subject == "" || len(subject) > sts.MaxSubjectLen:
			wantCode = sts.CodeInvalidIdentityToken
		case d > role.MaxDuration:
			wantCode = sts.CodeValidation
		case tmplErr != nil || len(wantPrefix) > keytemplate.MaxKeyLen:
			wantCode = sts.CodeAccessDenied
		case jerr != nil: // NaN or ±Inf cannot be JSON
			wantCode = sts.CodeInvalidIdentityToken
		case len(wantJSON) > sts.MaxClaimsSize:
			wantCode = sts.CodePackedPolicyTooLarge
		}
		c, e := iss.Assume(req, id, now)
		if wantCode != "" || e != nil {
			if e == nil || e.Code != wantCode {
				t.Fatalf("unexpected Assume result; got %v; want code %q", e, wantCode)
			}
			return
		}
		if len(c.SessionToken) > sts.MaxSessionTokenLen || !sts.IsSessionAccessKey([]byte(c.AccessKeyID)) ||
			len(c.SecretAccessKey) != sts.SecretKeyLen || !c.Expiration.Equal(now.Add(d)) {
			t.Fatalf("unexpected credentials: %+v", c)
		}
		ak, tok := []byte(c.AccessKeyID), []byte(c.SessionToken)
		s, secret, err := iss.Open(ak, tok, now)
		if err != nil {
			t.Fatalf("unexpected Open error: %s", err)
		}
		var wantClaims map[string]any
		_ = json.Unmarshal(wantJSON, &wantClaims)
		if s.Subject != subject || s.RoleARN != role.ARN || s.SessionName != sessionName || s.KeyPrefix != string(wantPrefix) ||
			!slices.Equal(s.Routes, role.Routes) || !s.Expires.Equal(c.Expiration) || s.AccessKeyID != c.AccessKeyID ||
			s.ClaimsJSON != string(wantJSON) || !reflect.DeepEqual(s.Claims, wantClaims) || string(secret) != c.SecretAccessKey {
			t.Fatalf("the session does not open as issued;\ngot  %+v\nwant subject %q role %q prefix %q claims %s", s, subject, role.ARN, wantPrefix, wantJSON)
		}
		if !s.Allows(role.Routes[0], append(bytes.Clone(wantPrefix), "k"...)) {
			t.Fatalf("the session does not allow a key below its own prefix %q", wantPrefix)
		}

		mustFail := func(what string, ak, tok []byte, now time.Time, want error) {
			t.Helper()
			if s, secret, err := iss.Open(ak, tok, now); err != want || s != nil || secret != nil {
				t.Fatalf("%s: unexpected Open result; got %v; want %v", what, err, want)
			}
		}
		if delta == 0 {
			delta = 1
		}
		m := bytes.Clone(tok)
		m[int(pos)%len(m)] ^= delta
		mustFail("mutated token", ak, m, now, sts.ErrInvalidToken)
		mustFail("truncated token", ak, tok[:int(cut)%len(tok)], now, sts.ErrInvalidToken)
		mustFail("extended token", ak, append(bytes.Clone(tok), tok[int(pos)%len(tok)]), now, sts.ErrInvalidToken)
		otherAK := bytes.Clone(ak)
		i := 4 + int(pos)%(len(ak)-4)
		otherAK[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(int(otherAK[i])+1+int(delta)%31)%32]
		if !bytes.Equal(otherAK, ak) {
			mustFail("other access key id", otherAK, tok, now, sts.ErrAccessKeyMismatch)
		}
		mustFail("expired", ak, tok, c.Expiration, sts.ErrExpiredToken)
	})
}
