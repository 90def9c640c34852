package sts

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
)

func TestAssume_Success(t *testing.T) {
	iss := mustIssuer(t, testConfig(), nil)
	f := func(req *Request, id *policy.Identity, want Credentials, wantSession Session) {
		t.Helper()
		c := mustAssume(t, iss, req, id)
		if len(c.AccessKeyID) != AccessKeyIDLen || !IsSessionAccessKey([]byte(c.AccessKeyID)) {
			t.Fatalf("unexpected access key id %q", c.AccessKeyID)
		}
		if len(c.SecretAccessKey) != SecretKeyLen || len(c.SessionToken) > MaxSessionTokenLen {
			t.Fatalf("unexpected secret key length %d or token length %d", len(c.SecretAccessKey), len(c.SessionToken))
		}
		want.AccessKeyID, want.SecretAccessKey, want.SessionToken = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
		if !reflect.DeepEqual(*c, want) {
			t.Fatalf("unexpected credentials;\ngot  %+v\nwant %+v", *c, want)
		}
		s, secret, err := iss.Open([]byte(c.AccessKeyID), []byte(c.SessionToken), testNow)
		if err != nil {
			t.Fatalf("cannot open the issued token: %s", err)
		}
		if string(secret) != c.SecretAccessKey {
			t.Fatalf("unexpected secret key from Open; got %q; want %q", secret, c.SecretAccessKey)
		}
		wantSession.AccessKeyID = c.AccessKeyID
		if wantSession.Claims != nil {
			js, _ := json.Marshal(wantSession.Claims)
			wantSession.ClaimsJSON = string(js)
		}
		wantSession.Expires = c.Expiration
		got := *s
		got.secret, got.routes = [SecretKeyLen]byte{}, [inlineRoutes]string{}
		if !reflect.DeepEqual(got, wantSession) {
			t.Fatalf("unexpected session;\ngot  %+v\nwant %+v", got, wantSession)
		}
	}
	claims := map[string]any{
		"sub": "alice", "iss": issuerURL, "aud": []any{"other", "mizuchi"},
		"tenant": "acme", "groups": []any{"staff", "uploaders"}, "email_verified": true, "level": float64(3),
	}

	// The default duration is 1h; the role's max caps it.
	f(testRequest(roleARN), testIdentity(), Credentials{
		Expiration: testNow.Add(time.Hour), Subject: "alice",
		AssumedRoleID: "AROA" + roleIDOf(roleARN) + ":app1", AssumedRoleARN: "arn:aws:sts::123456789012:assumed-role/uploader/app1",
		Provider: issuerURL, Audience: "mizuchi",
	}, Session{Subject: "alice", RoleARN: roleARN, SessionName: "app1", Routes: []string{"uploads", "photos"}, Claims: claims})
	f(testRequest(otherARN), testIdentity(), Credentials{
		Expiration: testNow.Add(15 * time.Minute), Subject: "alice",
		AssumedRoleID: "AROA" + roleIDOf(otherARN) + ":app1", AssumedRoleARN: "arn:minio:sts:::assumed-role/x-0123456789/app1",
		Provider: issuerURL, Audience: "mizuchi",
	}, Session{Subject: "alice", RoleARN: otherARN, SessionName: "app1", Routes: []string{"photos"}, Claims: claims})

	// A scoped role with required claims and 12h, asked for 12h.
	req := testRequest(scopedARN)
	req.Duration = 12 * time.Hour
	f(req, testIdentity(), Credentials{
		Expiration: testNow.Add(12 * time.Hour), Subject: "alice",
		AssumedRoleID: "AROA" + roleIDOf(scopedARN) + ":app1", AssumedRoleARN: "arn:aws:sts::123456789012:assumed-role/scoped/app1",
		Provider: issuerURL, Audience: "mizuchi",
	}, Session{Subject: "alice", RoleARN: scopedARN, SessionName: "app1", KeyPrefix: "tenants/acme/alice/", Routes: []string{"uploads"}, Claims: claims})

	// Minimal claims: a string aud, no iss; only sub is sealed.
	id := &policy.Identity{Subject: "bob", Claims: map[string]any{"sub": "bob", "aud": "x", "exp": float64(1)}}
	req = testRequest(roleARN)
	req.Duration = 900 * time.Second
	f(req, id, Credentials{
		Expiration: testNow.Add(900 * time.Second), Subject: "bob",
		AssumedRoleID: "AROA" + roleIDOf(roleARN) + ":app1", AssumedRoleARN: "arn:aws:sts::123456789012:assumed-role/uploader/app1",
		Audience: "x",
	}, Session{Subject: "bob", RoleARN: roleARN, SessionName: "app1", Routes: []string{"uploads", "photos"}, Claims: map[string]any{"sub": "bob", "aud": "x"}})

	// No claims at all: Claims stays nil.
	id = &policy.Identity{Subject: "carol"}
	f(testRequest(roleARN), id, Credentials{
		Expiration: testNow.Add(time.Hour), Subject: "carol",
		AssumedRoleID: "AROA" + roleIDOf(roleARN) + ":app1", AssumedRoleARN: "arn:aws:sts::123456789012:assumed-role/uploader/app1",
	}, Session{Subject: "carol", RoleARN: roleARN, SessionName: "app1", Routes: []string{"uploads", "photos"}})
}

func TestAssumedRole(t *testing.T) {
	f := func(arn, want string) {
		t.Helper()
		got, id := assumedRole(arn)
		if got != want || len(id) != 21 || !strings.HasPrefix(id, "AROA") {
			t.Fatalf("unexpected assumedRole(%q); got %q, %q; want %q and a 21-character AROA id", arn, got, id, want)
		}
	}
	f(roleARN, "arn:aws:sts::123456789012:assumed-role/uploader/")
	f("arn:aws-cn:iam::123456789012:role/a/b/c", "arn:aws-cn:sts::123456789012:assumed-role/c/")
	f("arn:minio:iam:::role/x", "arn:minio:sts:::assumed-role/x/")
	f("arn:aws:iam::123456789012:role/", "arn:aws:iam::123456789012:role//")
	f("arn:aws:iam::123456789012:user/bob", "arn:aws:iam::123456789012:user/bob/")
	f("arn:custom-uploader", "arn:custom-uploader/")
	if _, a := assumedRole(roleARN); a == func() string { _, b := assumedRole(scopedARN); return b }() {
		t.Fatalf("two roles share a role id")
	}
}

func roleIDOf(arn string) string {
	_, id := assumedRole(arn)
	return id[4:]
}

func TestAssume_Failure(t *testing.T) {
	iss := mustIssuer(t, testConfig(), nil)
	f := func(req *Request, id *policy.Identity, code string, status int, msg string) {
		t.Helper()
		c, e := iss.Assume(req, id, testNow)
		if e == nil {
			t.Fatalf("expecting an error; got credentials %+v", c)
		}
		if e.Code != code || e.Status != status || !strings.Contains(e.Message, msg) {
			t.Fatalf("unexpected error; got %s %d %q (%s); want %s %d containing %q", e.Code, e.Status, e.Message, e.Reason, code, status, msg)
		}
	}
	with := func(edit func(c map[string]any)) *policy.Identity {
		id := testIdentity()
		edit(id.Claims)
		return id
	}
	denied := "Not authorized to perform sts:AssumeRoleWithWebIdentity"

	// Identity.
	f(testRequest(roleARN), nil, CodeInvalidIdentityToken, 400, "no subject")
	f(testRequest(roleARN), &policy.Identity{}, CodeInvalidIdentityToken, 400, "no subject")
	f(testRequest(roleARN), &policy.Identity{Subject: strings.Repeat("s", MaxSubjectLen+1)}, CodeInvalidIdentityToken, 400, "longer than 1024")

	// Roles: unknown, or an ARN that differs only in case.
	f(testRequest("arn:aws:iam::123456789012:role/nobody"), testIdentity(), CodeAccessDenied, 403, denied)
	f(testRequest(strings.ToUpper(roleARN)), testIdentity(), CodeAccessDenied, 403, denied)

	// Required claims: each missing, wrong, or of the wrong type.
	scoped := testRequest(scopedARN)
	f(scoped, with(func(c map[string]any) { delete(c, "groups") }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["groups"] = []any{"staff"} }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["groups"] = []any{[]any{"uploaders"}} }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["groups"] = map[string]any{"uploaders": true} }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["email_verified"] = false }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["email_verified"] = "True" }), CodeAccessDenied, 403, denied)

	// The key template cannot be filled: missing claim, '/', "..", empty.
	f(scoped, with(func(c map[string]any) { delete(c, "tenant") }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["tenant"] = "a/b" }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["tenant"] = ".." }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["tenant"] = "" }), CodeAccessDenied, 403, denied)
	f(scoped, with(func(c map[string]any) { c["tenant"] = true }), CodeAccessDenied, 403, denied)
	slash := testIdentity()
	slash.Subject = "alice/../bob"
	f(scoped, slash, CodeAccessDenied, 403, denied)

	// Durations against the role's maximum (the static bounds are
	// ParseRequest's, checked again here for requests built in code).
	long := testRequest(roleARN)
	long.Duration = time.Hour + time.Second
	f(long, testIdentity(), CodeValidation, 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	long = testRequest(otherARN)
	long.Duration = 16 * time.Minute
	f(long, testIdentity(), CodeValidation, 400, "exceeds the MaxSessionDuration")
	short := testRequest(roleARN)
	short.Duration = 899 * time.Second
	f(short, testIdentity(), CodeValidation, 400, "greater than or equal to 900")

	// Claims too large to seal.
	f(testRequest(roleARN), with(func(c map[string]any) { c["big"] = strings.Repeat("x", MaxClaimsSize) }),
		CodePackedPolicyTooLarge, 400, "a session carries at most 2048 bytes of claims")
}

// TestAssume_Reasons: the client sees one message for every denial; the
// log reason tells them apart.
func TestAssume_Reasons(t *testing.T) {
	iss := mustIssuer(t, testConfig(), nil)
	_, e1 := iss.Assume(testRequest("arn:aws:iam::123456789012:role/nobody"), testIdentity(), testNow)
	id := testIdentity()
	delete(id.Claims, "groups")
	_, e2 := iss.Assume(testRequest(scopedARN), id, testNow)
	if e1.Message != e2.Message || e1.Reason == e2.Reason || !strings.Contains(e2.Reason, `claim "groups"`) {
		t.Fatalf("unexpected errors: %+v %+v", e1, e2)
	}
	if e1.Status != http.StatusForbidden {
		t.Fatalf("unexpected status; got %d; want 403", e1.Status)
	}
}

func TestClaimMatches(t *testing.T) {
	f := func(v any, values []string, want bool) {
		t.Helper()
		if got := claimMatches(v, values); got != want {
			t.Fatalf("unexpected claimMatches(%#v, %q); got %v; want %v", v, values, got, want)
		}
	}
	f("a", []string{"a"}, true)
	f("a", []string{"b", "a"}, true)
	f("a", []string{"A"}, false)
	f(nil, []string{""}, false)
	f("", []string{""}, true)
	f(true, []string{"true"}, true)
	f(false, []string{"true"}, false)
	f(float64(42), []string{"42"}, true)
	f(float64(42.5), []string{"42.5"}, true)
	f(float64(1e21), []string{"1000000000000000000000"}, true)
	f([]any{"x", float64(7)}, []string{"7"}, true)
	f([]any{}, []string{"7"}, false)
	f([]any{[]any{"7"}}, []string{"7"}, false)
	f(map[string]any{"7": true}, []string{"7"}, false)
}

func TestNew_Failure(t *testing.T) {
	f := func(edit func(c *config.STS), want string) {
		t.Helper()
		cfg := testConfig()
		edit(cfg)
		if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %v; want substring %q", err, want)
		}
	}
	f(func(c *config.STS) { c.Secrets = nil }, "sts: secrets: seal: no secret")
	f(func(c *config.STS) { c.Secrets = []string{"short"} }, "secret shorter than 32 bytes")
	f(func(c *config.STS) { c.Roles[1].ARN = roleARN }, `duplicate role`)
	f(func(c *config.STS) { c.Roles[0].ARN = "role/x" }, `invalid role ARN`)
	f(func(c *config.STS) { c.Roles[0].Routes = nil }, "no routes")
	f(func(c *config.STS) { c.Roles[0].MaxDuration = 0 }, "out of 15m..12h")
	f(func(c *config.STS) { c.Roles[0].KeyTemplate = "{key}/" }, "{key} is not available")
	f(func(c *config.STS) { c.Roles[0].RequiredClaims = map[string][]string{"x": nil} }, "without values")
	if _, err := New(nil, nil); err == nil {
		t.Fatalf("expecting an error for a nil configuration")
	}
}
