package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// stsMinimal is minimal plus an enabled sts section; failure cases edit it.
const stsMinimal = minimal + `server:
  address: "127.0.0.1:8080"
  upload_id_secret: "upload-id-secret-0123456789abcdef"
sts:
  enabled: true
  jwt:
    secret: "jwt-secret"
    issuer: "https://idp.example.com"
    audience: mizuchi
  secrets: ["sts-secret-0123456789abcdef-0123456"]
  roles:
    - arn: "arn:aws:iam::123456789012:role/uploader"
      routes: [uploads]
`

// stsConfig returns stsMinimal without minimal's own server section (a
// second server key would be a duplicate).
func stsConfig(extra string) string {
	s := strings.Replace(stsMinimal, "server:\n  address: \"127.0.0.1:8080\"\n", "", 1)
	return s + extra
}

func TestSTS_Defaults(t *testing.T) {
	c := mustParse(t, stsConfig(""), nil)
	s := c.STS
	if s == nil || !s.Enabled || len(s.Roles) != 1 || len(s.Secrets) != 1 {
		t.Fatalf("unexpected sts: %+v", s)
	}
	j := s.JWT
	if !reflect.DeepEqual(j.Algorithms, []string{"HS256"}) || j.Leeway != time.Minute || j.SubjectClaim != "sub" ||
		j.CacheTTL != time.Hour || j.MinRefresh != 10*time.Second || !reflect.DeepEqual(j.Audience, []string{"mizuchi"}) {
		t.Fatalf("unexpected sts.jwt defaults: %+v", j)
	}
	r := s.Roles[0]
	if r.MaxDuration != time.Hour || r.KeyTemplate != "" || r.RequiredClaims != nil || !reflect.DeepEqual(r.Routes, []string{"uploads"}) {
		t.Fatalf("unexpected role defaults: %+v", r)
	}
	if src, err := r.PrefixTemplate(); src != "" || err != nil {
		t.Fatalf("unexpected PrefixTemplate; got %q, %v; want \"\", nil", src, err)
	}

	// No sts section: off.
	if c := mustParse(t, minimal, nil); c.STS != nil {
		t.Fatalf("unexpected sts without a section: %+v", c.STS)
	}
	// A disabled section needs nothing.
	c = mustParse(t, minimal+"sts: {enabled: false}\n", nil)
	if c.STS == nil || c.STS.Enabled || c.STS.JWT.SubjectClaim != "sub" {
		t.Fatalf("unexpected disabled sts: %+v", c.STS)
	}
}

func TestSTS_Success(t *testing.T) {
	two := strings.Replace(stsConfig(""), "      region: us-east-1\n", "      region: us-east-1\n  - name: two\n    s3: {bucket: b, region: r}\n", 1)
	c := mustParse(t, two+`    - arn: "arn:aws:iam::123456789012:role/tenants"
      routes: [uploads, two]
      key_template: "tenants/{claims.tenant}/{sub}/"
      required_claims:
        email_verified: true
        groups: [uploaders, admins]
        "https://example.com/tier": gold
      max_duration_seconds: 12h
`, nil)
	r := c.STS.Roles[1]
	want := map[string][]string{"email_verified": {"true"}, "groups": {"uploaders", "admins"}, "https://example.com/tier": {"gold"}}
	if !reflect.DeepEqual(r.RequiredClaims, want) {
		t.Fatalf("unexpected required_claims; got %q; want %q", r.RequiredClaims, want)
	}
	if r.MaxDuration != 12*time.Hour || !reflect.DeepEqual(r.Routes, []string{"uploads", "two"}) {
		t.Fatalf("unexpected role: %+v", r)
	}
	src, err := r.PrefixTemplate()
	if err != nil || src != "tenants/{claims.tenant}/{subject}/{key}" {
		t.Fatalf("unexpected PrefixTemplate; got %q, %v", src, err)
	}
	// The original single algorithm is merged into algorithms.
	c = mustParse(t, strings.Replace(stsConfig(""), `secret: "jwt-secret"`, "secret: \"jwt-secret\"\n    algorithm: HS384", 1), nil)
	if !reflect.DeepEqual(c.STS.JWT.Algorithms, []string{"HS384"}) {
		t.Fatalf("unexpected algorithms: %q", c.STS.JWT.Algorithms)
	}
}

func TestSTS_Failure(t *testing.T) {
	f := func(data, want string) {
		t.Helper()
		_, err := Parse([]byte(data), testEnv(nil))
		if err == nil {
			t.Fatalf("expecting an error for\n%s", data)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
	}
	base := stsConfig("")
	edit := func(old, new string) string {
		t.Helper()
		if !strings.Contains(base, old) {
			t.Fatalf("test bug: %q not in the base configuration", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	role := func(lines string) string { return base + "    - " + lines }

	// Shape, always checked.
	f(minimal+"sts: {rolez: []}\n", `sts.rolez: unknown key (did you mean "roles"?)`)
	f(minimal+"sts: {enabled: false, secrets: [short]}\n", "sts.secrets[0]: must be at least 32 bytes, got 5")
	f(minimal+"sts: {jwt: {algorithms: [none]}}\n", `sts.jwt.algorithms: unsupported algorithm "none"`)
	f(minimal+"sts: {jwt: {jwks_url: ftp://x}}\n", "sts.jwt.jwks_url: must be an http:// or https:// URL")

	// Requirements when enabled.
	f(minimal+"sts: {enabled: true}\n", "sts.roles: at least one role is required")
	f(minimal+"sts: {enabled: true}\n", "sts.secrets: at least one secret is required")
	f(minimal+"sts: {enabled: true}\n", "sts.jwt.issuer: is required when sts is enabled")
	f(minimal+"sts: {enabled: true}\n", "sts.jwt.audience: is required when sts is enabled")
	f(minimal+"sts: {enabled: true, jwt: {algorithms: [HS256]}}\n", "sts.jwt.secret: is required for HS* algorithms")
	f(minimal+"sts: {enabled: true, jwt: {algorithms: [RS256]}}\n", "sts.jwt: RS/PS/ES/EdDSA algorithms need public_key")
	f(edit("  upload_id_secret: \"upload-id-secret-0123456789abcdef\"\n", ""), "server.upload_id_secret: is required when sts is enabled")

	// Roles.
	f(edit(`"arn:aws:iam::123456789012:role/uploader"`, `""`), "sts.roles[0].arn: is required")
	f(edit(`"arn:aws:iam::123456789012:role/uploader"`, `"role/uploader-0123456789"`), `sts.roles[0].arn: invalid role ARN "role/uploader-0123456789": must start with "arn:"`)
	f(edit(`"arn:aws:iam::123456789012:role/uploader"`, `"arn:x"`), "must be 20 to 2048 bytes")
	f(edit(`"arn:aws:iam::123456789012:role/uploader"`, `"arn:aws:iam::123456789012:role/up loader"`), `character ' ' not allowed`)
	f(role("arn: \"arn:aws:iam::123456789012:role/uploader\"\n      routes: [uploads]\n"), `sts.roles[1].arn: duplicate role "arn:aws:iam::123456789012:role/uploader" (also sts.roles[0])`)
	f(edit("routes: [uploads]", "routes: []"), "sts.roles[0].routes: must list at least one bucket name")
	f(edit("routes: [uploads]", "routes: [uploads, nope]"), `sts.roles[0].routes[1]: no bucket is named "nope"`)
	f(edit("routes: [uploads]", "routes: [uploads, uploads]"), `sts.roles[0].routes[1]: duplicate route "uploads"`)
	f(edit("routes: [uploads]", "routes: [uploads]\n      max_duration_seconds: 899"), "sts.roles[0].max_duration_seconds: must be between 900 (15m) and 43200 (12h), got 14m59s")
	f(edit("routes: [uploads]", "routes: [uploads]\n      max_duration_seconds: 12h1s"), "sts.roles[0].max_duration_seconds: must be between 900")
	f(edit("routes: [uploads]", "routes: [uploads]\n      foo: 1"), "sts.roles[0].foo: unknown key")

	// Key templates.
	tmpl := func(tm, want string) {
		t.Helper()
		f(edit("routes: [uploads]", "routes: [uploads]\n      key_template: \""+tm+"\""), want)
	}
	tmpl("{sub}", `sts.roles[0].key_template: invalid template "{sub}": must end with '/'`)
	tmpl("{sub}/{key}/", "{key} is not available")
	tmpl("{route}/", "{route} is not available")
	tmpl("{date}/{sub}/", "{date} is not available")
	tmpl("{user}/", `invalid template "{user}/": unknown placeholder {user}`)
	tmpl("{claims.}/", `invalid template "{claims.}/": invalid claim name in {claims.}`)
	tmpl("../{sub}/", `invalid template "../{sub}/": literal "../": a ".." path segment`)
	tmpl("{sub}./", "dots only next to a placeholder")
	tmpl("{sub/", "'{' without '}'")

	// Required claims.
	claims := func(yaml, want string) {
		t.Helper()
		f(edit("routes: [uploads]", "routes: [uploads]\n      required_claims: "+yaml), want)
	}
	claims("[groups]", "sts.roles[0].required_claims: must be a mapping, not a list")
	claims("{groups: []}", "sts.roles[0].required_claims.groups: must list at least one value")
	claims("{groups: }", "sts.roles[0].required_claims.groups: must list at least one value")
	claims("{groups: {a: b}}", "sts.roles[0].required_claims.groups: must be a list, not a mapping")
	claims("{groups: [[a]]}", "sts.roles[0].required_claims.groups[0]: must be a string, not a list")
	claims("{groups: a, groups: b}", "sts.roles[0].required_claims.groups: duplicate key")
	claims("{[a]: b}", "sts.roles[0].required_claims: keys must be strings, not a list")
	claims(`{"": b}`, "sts.roles[0].required_claims: empty claim name")
}
