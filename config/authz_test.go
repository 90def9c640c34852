package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuthz_Defaults(t *testing.T) {
	c := mustParse(t, minimal+`    authz:
      enabled: true
      opa: {url: "http://opa:8181"}
  - name: two
    s3: {bucket: b, region: r}
    authz:
      enabled: true
      openfga: {api_url: "http://fga:8080", store_id: s, object_type: folder}
`, nil)
	a := c.Buckets[0].Authz
	o := a.OPA
	if a.Type != AuthzOPAServer || a.FailMode != FailClosed || o.Query != "data.mizuchi.allow" || o.PolicyPath != "mizuchi/allow" ||
		o.Timeout != 100*time.Millisecond || o.CacheTTL != time.Minute || o.CacheDenyTTL != 5*time.Second ||
		o.CacheMaxEntries != 1000 || o.BearerToken != "" || o.Bundle != "" {
		t.Fatalf("unexpected opa defaults: %+v %+v", a, o)
	}
	if len(a.Engines) != 1 || a.Engines[0] != (AuthzEngine{Type: AuthzOPAServer, OPA: o}) {
		t.Fatalf("unexpected engines: %+v", a.Engines)
	}
	a = c.Buckets[1].Authz
	f := a.OpenFGA
	if a.Type != AuthzOpenFGA || f.Relation != "writer" || f.UserType != "user" || f.Object != "folder:{bucket}" ||
		f.Timeout != 100*time.Millisecond || f.CacheTTL != time.Minute || f.CacheDenyTTL != 5*time.Second || f.CacheMaxEntries != 1000 {
		t.Fatalf("unexpected openfga defaults: %+v %+v", a, f)
	}
	if len(a.Engines) != 1 || a.Engines[0] != (AuthzEngine{Type: AuthzOpenFGA, OpenFGA: f}) {
		t.Fatalf("unexpected engines: %+v", a.Engines)
	}
	if got := c.Unsupported(); len(got) != 0 {
		t.Fatalf("unexpected Unsupported: %q", got)
	}

	// No authz at all: no engines, fail mode still defaulted.
	c = mustParse(t, minimal, nil)
	if a := c.Buckets[0].Authz; len(a.Engines) != 0 || a.FailMode != FailClosed || a.Type != "" {
		t.Fatalf("unexpected authz: %+v", a)
	}
	// finish is idempotent: Engines is not duplicated.
	c = mustParse(t, minimal+"    authz: {openfga: {store_id: s}}\n", nil)
	c.finish()
	if err := c.Validate(); err != nil || len(c.Buckets[0].Authz.Engines) != 1 {
		t.Fatalf("unexpected result after a second finish: %v %+v", err, c.Buckets[0].Authz.Engines)
	}
}

func TestAuthz_Engines(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "p.rego")
	if err := os.WriteFile(policy, []byte("package mizuchi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, minimal+`    authz:
      enabled: true
      fail_mode: open
      engines:
        - opa: {bundle: "`+dir+`", cache_deny_ttl_seconds: 0}
        - opa: {url: "http://opa:8181", policy_path: /v1/data/x/y, bearer_token: tok, timeout_ms: 250}
        - type: openfga
          openfga: {url: "http://fga:8080", store_id: s, object: "folder:{bucket}/{prefix}", timeout_seconds: 1}
`, nil)
	a := c.Buckets[0].Authz
	if a.FailMode != FailOpen || a.Type != "" || a.OPA != nil || a.OpenFGA != nil || len(a.Engines) != 3 {
		t.Fatalf("unexpected authz: %+v", a)
	}
	e := a.Engines
	if e[0].Type != AuthzOPA || e[0].OPA.Bundle != dir || e[0].OPA.CacheDenyTTL != 0 || e[0].OPA.CacheTTL != time.Minute {
		t.Fatalf("unexpected engines[0]: %+v %+v", e[0], e[0].OPA)
	}
	if e[1].Type != AuthzOPAServer || e[1].OPA.PolicyPath != "x/y" || e[1].OPA.BearerToken != "tok" || e[1].OPA.Timeout != 250*time.Millisecond {
		t.Fatalf("unexpected engines[1]: %+v %+v", e[1], e[1].OPA)
	}
	if e[2].Type != AuthzOpenFGA || e[2].OpenFGA.Object != "folder:{bucket}/{prefix}" || e[2].OpenFGA.Timeout != time.Second {
		t.Fatalf("unexpected engines[2]: %+v %+v", e[2], e[2].OpenFGA)
	}

	// Top-level policy_file and a bundle .tar.gz (a file) are accepted.
	tgz := filepath.Join(dir, "bundle.tar.gz")
	if err := os.WriteFile(tgz, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = mustParse(t, minimal+"    authz: {enabled: true, opa: {policy_file: \""+policy+"\"}}\n  - name: two\n    s3: {bucket: b, region: r}\n    authz: {enabled: true, engines: [{opa: {bundle: \""+tgz+"\"}}]}\n", nil)
	if e := c.Buckets[0].Authz.Engines; len(e) != 1 || e[0].Type != AuthzOPA || e[0].OPA.PolicyFile != policy {
		t.Fatalf("unexpected engines: %+v", e)
	}
	if e := c.Buckets[1].Authz.Engines; len(e) != 1 || e[0].Type != AuthzOPA || e[0].OPA.Bundle != tgz {
		t.Fatalf("unexpected engines: %+v", e)
	}
}

func TestAuthz_Failure(t *testing.T) {
	f := func(authz, want string) {
		t.Helper()
		data := minimal + "    authz:\n" + authz
		_, err := Parse([]byte(data), testEnv(nil))
		if err == nil {
			t.Fatalf("expecting an error for\n%s", data)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
	}
	f("      fail_mode: ajar\n", `buckets[0].authz.fail_mode: invalid fail_mode "ajar": want closed or open (line 10)`)
	f("      opa: {url: \"http://opa\"}\n      engines: [{openfga: {store_id: s}}]\n",
		"buckets[0].authz.engines: is exclusive with type, opa and openfga")
	f("      type: opa\n      engines: [{opa: {policy: p}}]\n", "buckets[0].authz.engines: is exclusive with type, opa and openfga")
	f("      engines: [{opa: {policy: p}, openfga: {store_id: s}}]\n", "buckets[0].authz.engines[0]: has both opa and openfga")
	f("      enabled: true\n      engines: [{}]\n", "buckets[0].authz.engines[0]: neither opa nor openfga is configured")
	f("      enabled: true\n      engines: []\n", "buckets[0].authz: enabled, but neither opa nor openfga is configured")
	f("      engines: [{type: cedar}]\n", `buckets[0].authz.engines[0].type: invalid type "cedar"`)
	f("      engines: [{type: openfga, opa: {policy: p}}]\n", `buckets[0].authz.engines[0].openfga: is required for type "openfga"`)
	f("      enabled: true\n      engines: [{opa: {}}]\n", "buckets[0].authz.engines[0].opa: type opa needs policy, policy_file or bundle")
	f("      enabled: true\n      engines: [{type: opa_server, opa: {}}]\n", "buckets[0].authz.engines[0].opa.url: is required for type opa_server")
	f("      engines: [{opa: {timeout_ms: 0}}]\n", "buckets[0].authz.engines[0].opa.timeout_ms: must be positive")
	f("      enabled: true\n      engines: [{openfga: {api_url: \"http://f\"}}]\n", "buckets[0].authz.engines[0].openfga.store_id: is required")
	f("      engines: [{opa: {unknown: 1}}]\n", "buckets[0].authz.engines[0].opa.unknown: unknown key")

	// bundle.
	f("      opa: {bundle: /nonexistent/bundle}\n", `buckets[0].authz.opa.bundle: cannot use "/nonexistent/bundle"`)
	f("      opa: {bundle: /tmp, policy: p}\n", "buckets[0].authz.opa: bundle is exclusive with policy and policy_file")
	f("      opa: {bundle: /tmp, policy_file: /tmp}\n", "buckets[0].authz.opa: bundle is exclusive with policy and policy_file")
	f("      opa: {cache_deny_ttl_seconds: -1}\n", `buckets[0].authz.opa.cache_deny_ttl_seconds: invalid duration "-1": must not be negative`)

	// openfga.object templates.
	for _, x := range []struct{ object, want string }{
		{"{bucket}", `want "<type>:<id>"`},
		{":{bucket}", `want "<type>:<id>"`},
		{"bucket:", "empty object id"},
		{"a b:{bucket}", `invalid object type "a b"`},
		{"{bucket}:x", `invalid object type "{bucket}"`},
		{"bucket:{bucket}:{key}", `character ':' not allowed in an object id`},
		{"bucket:a#b", `character '#' not allowed in an object id`},
		{"bucket:{bucket", `unknown placeholder at "{bucket"`},
		{"bucket:{tenant}", `unknown placeholder at "{tenant}"`},
		{"bucket:{Key}", `unknown placeholder at "{Key}"`},
		{"bucket:x}", `character '}' not allowed in an object id`},
	} {
		f("      openfga: {object: \""+x.object+"\"}\n", `buckets[0].authz.openfga.object: invalid template "`+x.object+`": `+x.want)
	}
	f("      openfga: {user_type: \"a@b\"}\n", `buckets[0].authz.openfga.user_type: invalid value "a@b"`)
	f("      openfga: {api_token: \"a\\nb\"}\n", "buckets[0].authz.openfga.api_token: must be one line")
	f("      opa: {bearer_token: \"a\\rb\"}\n", "buckets[0].authz.opa.bearer_token: must be one line")
}
