package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// minimal is a valid configuration the failure cases are built from.
const minimal = `
server:
  address: "127.0.0.1:8080"
buckets:
  - name: uploads
    s3: &s3
      bucket: backend
      region: us-east-1
`

func mustParse(t *testing.T, data string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse([]byte(data), testEnv(env))
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	return c
}

func TestParse_Defaults(t *testing.T) {
	c := mustParse(t, minimal, nil)
	s := c.Server
	if s.AdminAddress != "127.0.0.1:9090" || !s.ZeroCopy.Enabled || s.ZeroCopy.PipeBufferSize != 1<<20 ||
		s.Loops != 0 || s.PipePool != 256 || s.SpliceThreshold != 256<<10 || s.MaxHeaderBytes != 64<<10 ||
		s.HeaderTimeout != 10*time.Second || s.IdleTimeout != time.Minute || s.BodyTimeout != time.Minute ||
		s.MaxConnections != 10000 || s.TLS.Enabled() || len(s.VirtualHostDomains) != 0 {
		t.Fatalf("unexpected server defaults: %+v", s)
	}
	b := c.Buckets[0]
	if b.PathPrefix != "/uploads" || b.Auth.Enabled || b.Auth.JWT != nil || b.Authz.Enabled || b.AllowHead {
		t.Fatalf("unexpected bucket defaults: %+v", b)
	}
	if !reflect.DeepEqual(b.Upload, Upload{MultipartThreshold: 5 << 30, PartSize: 16 << 20, ConcurrentParts: 4,
		KeyTemplate: "{key}", MaxUploadAge: 7 * 24 * time.Hour}) {
		t.Fatalf("unexpected upload defaults: %+v", b.Upload)
	}
	if !c.Metrics.Enabled || c.Metrics.Port != 9090 || c.Tracing.Enabled {
		t.Fatalf("unexpected metrics/tracing defaults: %+v %+v", c.Metrics, c.Tracing)
	}
	if b.S3.UsePathStyle() {
		t.Fatalf("AWS without force_path_style must use virtual-hosted addressing")
	}
	if len(c.Unsupported()) != 0 || len(c.Ignored()) != 0 {
		t.Fatalf("unexpected Unsupported %q or Ignored %q", c.Unsupported(), c.Ignored())
	}

	// Metrics disabled and no admin_address: no admin listener.
	c = mustParse(t, minimal+"metrics:\n  enabled: false\n", nil)
	if c.Server.AdminAddress != "" {
		t.Fatalf("unexpected admin address %q", c.Server.AdminAddress)
	}
}

func TestParse_Example(t *testing.T) {
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, string(data), map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"})
	if c.Server.AdminAddress != "127.0.0.1:9090" || c.Server.SpliceThreshold != 256<<10 {
		t.Fatalf("unexpected server: %+v", c.Server)
	}
	b := c.Buckets[0]
	if b.Name != "uploads" || b.PathPrefix != "/uploads" || b.S3.EndpointURL != "http://127.0.0.1:7070" ||
		b.S3.AccessKey != "AK" || b.S3.SecretKey != "SK" || !b.S3.UsePathStyle() {
		t.Fatalf("unexpected bucket: %+v", b)
	}
	if b.Upload.MultipartThreshold != 5368709120 || b.Upload.PartSize != 16<<20 {
		t.Fatalf("unexpected upload: %+v", b.Upload)
	}
	j := b.Auth.JWT
	if j == nil || j.Secret != "change-me" || !reflect.DeepEqual(j.Algorithms, []string{"HS256"}) || len(j.TokenSources) != 4 || j.MinRefresh != 10*time.Second {
		t.Fatalf("unexpected jwt: %+v", j)
	}
	if v := b.Auth.SigV4; v == nil || v.Region != "us-east-1" || v.Credentials[0].SecretKey != "example-client-secret" {
		t.Fatalf("unexpected sigv4: %+v", v)
	}
	if b.Authz.Type != AuthzOPA || b.Authz.OPA.Timeout != 100*time.Millisecond || b.Authz.OpenFGA.Relation != "writer" ||
		len(b.Authz.Engines) != 1 || b.Authz.Engines[0].OPA != b.Authz.OPA || b.Authz.FailMode != FailClosed {
		t.Fatalf("unexpected authz: %+v", b.Authz)
	}

	// The same file through Load, with the process environment.
	t.Setenv("AWS_ACCESS_KEY_ID", "AK2")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SK2")
	if c, err = Load("testdata/example.yaml"); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if c.Buckets[0].S3.AccessKey != "AK2" {
		t.Fatalf("unexpected access key %q", c.Buckets[0].S3.AccessKey)
	}
}

func TestParse_Original(t *testing.T) {
	data, err := os.ReadFile("testdata/original.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, withUploadIDSecret(string(data)), map[string]string{
		"AWS_ACCESS_KEY": "AK", "AWS_SECRET_KEY": "SK", "JWT_SECRET": "jwt",
		"SIGV4_ACCESS_KEY": "CAK", "SIGV4_SECRET_KEY": "CSK",
		"OPENFGA_STORE_ID": "store", "OPENFGA_MODEL_ID": "model",
	})
	if c.Server.Address != "0.0.0.0:8080" || c.Server.AdminAddress != "127.0.0.1:9090" || c.Server.ZeroCopy.PipeBufferSize != 1<<20 {
		t.Fatalf("unexpected server: %+v", c.Server)
	}
	if len(c.Buckets) != 3 {
		t.Fatalf("unexpected buckets: %d", len(c.Buckets))
	}
	pub, priv, part := c.Buckets[0], c.Buckets[1], c.Buckets[2]
	if pub.PathPrefix != "/public" || pub.S3.AccessKey != "AK" || pub.Upload.PartSize != 104857600 {
		t.Fatalf("unexpected public bucket: %+v", pub)
	}
	if !priv.Auth.Enabled || priv.Auth.JWT.Secret != "jwt" || !reflect.DeepEqual(priv.Auth.JWT.Audience, []string{"mizuchi-uploadr"}) ||
		priv.Auth.JWT.TokenSources[1] != (TokenSource{Type: "query", Name: "token"}) {
		t.Fatalf("unexpected private auth: %+v", priv.Auth.JWT)
	}
	if o := priv.Authz.OPA; priv.Authz.Type != AuthzOPAServer || o.PolicyPath != "mizuchi/allow" || o.Timeout != 5*time.Second {
		t.Fatalf("unexpected private authz: %+v %+v", priv.Authz, o)
	}
	if v := part.Auth.SigV4; v.AccessKey != "CAK" || v.MaxClockSkew != 5*time.Minute {
		t.Fatalf("unexpected sigv4: %+v", v)
	}
	if f := part.Authz.OpenFGA; part.Authz.Type != AuthzOpenFGA || f.APIURL != "http://localhost:8080" || f.AuthorizationModelID != "model" {
		t.Fatalf("unexpected openfga: %+v", f)
	}
	if !c.Tracing.Enabled || c.Tracing.ServiceName != "mizuchi-uploadr" || c.Tracing.Batch.ScheduledDelay != 5*time.Second {
		t.Fatalf("unexpected tracing: %+v", c.Tracing)
	}
	if got := c.Unsupported(); len(got) != 0 {
		t.Fatalf("unexpected Unsupported: %q; want none (authz is implemented)", got)
	}
	if got := c.Ignored(); len(got) != 0 {
		t.Fatalf("unexpected Ignored: %q; want none (tracing is implemented)", got)
	}
}

func TestParse_Success(t *testing.T) {
	f := func(data string, check func(c *Config) bool) {
		t.Helper()
		c := mustParse(t, data, nil)
		if !check(c) {
			t.Fatalf("unexpected config for\n%s\ngot %+v", data, c)
		}
	}
	f(minimal+"  - name: b2\n    path_prefix: /a/b-c_d.e~f\n    s3: {bucket: x.y, region: auto, endpoint: \"https://R2.example.com:443/\"}\n",
		func(c *Config) bool {
			s := c.Buckets[1].S3
			_, hp, h, _ := s.Endpoint()
			return c.Buckets[1].PathPrefix == "/a/b-c_d.e~f" && hp == "r2.example.com:443" && h == "r2.example.com" && s.UsePathStyle()
		})
	// Nested prefixes are allowed (longest wins); identical ones are not.
	f(minimal+"  - name: b2\n    path_prefix: /uploads/x\n    s3: {bucket: x, region: r}\n",
		func(c *Config) bool { return c.Buckets[1].PathPrefix == "/uploads/x" })
	f(minimal+`    upload: {multipart_threshold: "5GiB", part_size: 16MiB}`+"\n",
		func(c *Config) bool {
			return c.Buckets[0].Upload.MultipartThreshold == 5<<30 && c.Buckets[0].Upload.PartSize == 16<<20
		})
	f(minimal+"metrics: {port: 9191}\n",
		func(c *Config) bool { return c.Server.AdminAddress == "127.0.0.1:9191" })
	f(minimal+"tracing: {enabled: true, otlp: {endpoint: \"http://c:4318\", protocol: http, headers: {api-key: k}}}\n",
		func(c *Config) bool {
			return c.Tracing.OTLP.Protocol == "http" && c.Tracing.OTLP.Headers["api-key"] == "k"
		})
	f(strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n",
		"  address: \"[::1]:0\"\n  virtual_host_domains: [S3.Local., s3.example.com]\n  header_timeout_seconds: 2.5\n  idle_timeout_seconds: 1m\n", 1),
		func(c *Config) bool {
			return reflect.DeepEqual(c.Server.VirtualHostDomains, []string{"s3.local", "s3.example.com"}) &&
				c.Server.HeaderTimeout == 2500*time.Millisecond && c.Server.IdleTimeout == time.Minute
		})
	// Aliases and anchors.
	f(withUploadIDSecret(minimal)+`    authz:
      openfga: &fga {url: "http://fga:8080", store_id: s, timeout_seconds: 2}
    auth:
      jwt: {algorithms: [RS256, ES256], jwks_url: "https://idp/jwks", audience: [a, b]}
      enabled: true
`, func(c *Config) bool {
		b := c.Buckets[0]
		return b.Authz.Type == AuthzOpenFGA && b.Authz.OpenFGA.Timeout == 2*time.Second &&
			reflect.DeepEqual(b.Auth.JWT.Algorithms, []string{"RS256", "ES256"}) && len(b.Auth.JWT.Audience) == 2
	})
	f(minimal+"  - name: two\n    path_prefix: /two\n    s3: *s3\n",
		func(c *Config) bool {
			return c.Buckets[1].S3.Bucket == "backend" && c.Buckets[1].S3.Region == "us-east-1"
		})
	f(minimal+"    allow_head: yes\n", func(c *Config) bool { return c.Buckets[0].AllowHead })
	f(minimal+"    cors: {allowed_origins: [\"https://app.example.com\", \"*\"], expose_headers: [x-amz-version-id], max_age_seconds: 600}\n", func(c *Config) bool {
		x := c.Buckets[0].CORS
		return x != nil && len(x.AllowedOrigins) == 2 && x.AllowedHeaders[0] == "*" && x.MaxAge == 10*time.Minute
	})
}

func TestParse_Failure(t *testing.T) {
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
	bucket := func(extra string) string { return minimal + extra }
	server := func(line string) string {
		return strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n", line, 1)
	}

	// Document level.
	f("", "config: the configuration is empty")
	f("# only a comment\n", "the configuration is empty")
	f("[1, 2]", "config: must be a mapping, not a list")
	f(minimal+"---\nserver: {}\n", "more than one YAML document")
	f("server: {address: [\n", "cannot parse YAML")
	f("server:\n  address: \":1\"\n", "buckets: at least one bucket is required")

	// Unknown, duplicate and conflicting keys.
	f(minimal+"extra: 1\n", "extra: unknown key (line 9)")
	f(bucket("      endpiont: http://x\n"), `buckets[0].s3.endpiont: unknown key (did you mean "endpoint"?) (line 9)`)
	f(bucket("    auth: {jwt: {secrett: x}}\n"), "buckets[0].auth.jwt.secrett: unknown key")
	f(bucket("    authz: {openfga: {url: \"http://a\", api_url: \"http://b\"}}\n"), "buckets[0].authz.openfga.api_url: conflicts with buckets[0].authz.openfga.url")
	f(minimal+"metrics: {port: 1, port: 2}\n", "metrics.port: duplicate key")

	// Types.
	f(server("  address: [a]\n"), "server.address: must be a string, not a list")
	f(server("  address: {a: b}\n"), "server.address: must be a string, not a mapping")
	f(minimal+"metrics: {enabled: maybe}\n", `metrics.enabled: invalid boolean "maybe"`)
	f(minimal+"metrics: {port: 90.5}\n", `metrics.port: invalid integer "90.5"`)
	f(minimal+"metrics: 5\n", "metrics: must be a mapping, not a scalar")
	f(minimal+"tracing: {sampling: {ratio: x}}\n", `tracing.sampling.ratio: invalid number "x"`)
	f(server("  address: \":1\"\n  virtual_host_domains: {a: b}\n"), "server.virtual_host_domains: must be a list, not a mapping")
	f(server("  address: \":1\"\n  header_timeout_seconds: soon\n"), `server.header_timeout_seconds: invalid duration "soon"`)
	f(server("  address: \":1\"\n  idle_timeout_seconds: -1\n"), "server.idle_timeout_seconds: invalid duration \"-1\": must not be negative")

	// Server values.
	f(server("  address: x\n"), `server.address: invalid listen address "x": address x: missing port in address (line 3)`)
	f(server("  address: \"h:99999\"\n"), `server.address: invalid listen address "h:99999": invalid port "99999"`)
	f(server("  address: \"bad_host!:80\"\n"), `invalid host "bad_host!"`)
	f(server("  address: \":1\"\n  admin_address: nope\n"), `server.admin_address: invalid listen address "nope"`)
	f(server("  address: \":9090\"\n"), `server.admin_address: "127.0.0.1:9090" conflicts with server.address ":9090"`)
	f(server("  address: \":1\"\n  zero_copy: {pipe_buffer_size: -1}\n"), "server.zero_copy.pipe_buffer_size: invalid size \"-1\": must not be negative")
	f(server("  address: \":1\"\n  zero_copy: {pipe_buffer_size: 1KiB}\n"), "server.zero_copy.pipe_buffer_size: must be between 4KiB and 1GiB")
	f(server("  address: \":1\"\n  splice_threshold: 1Q\n"), `server.splice_threshold: invalid size "1Q"`)
	f(server("  address: \":1\"\n  loops: -1\n"), "server.loops: must be between 0 (GOMAXPROCS) and 4096, got -1")
	f(server("  address: \":1\"\n  pipe_pool: 0\n"), "server.pipe_pool: must be at least 1")
	f(server("  address: \":1\"\n  max_header_bytes: 100\n"), "server.max_header_bytes: must be between 1KiB and 16MiB")
	f(server("  address: \":1\"\n  body_timeout_seconds: 0\n"), "server.body_timeout_seconds: must be positive")
	f(server("  address: \":1\"\n  max_connections: 0\n"), "server.max_connections: must be at least 1")
	f(server("  address: \":1\"\n  virtual_host_domains: [\"s3.local:80\"]\n"), `server.virtual_host_domains[0]: invalid domain "s3.local:80"`)
	f(server("  address: \":1\"\n  virtual_host_domains: [a.b, A.B]\n"), `server.virtual_host_domains[1]: duplicate domain "a.b"`)
	f(server("  address: \":1\"\n  tls: {cert_file: /nonexistent/cert.pem}\n"), "server.tls: cert_file and key_file must be set together")
	f(server("  address: \":1\"\n  tls: {cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}\n"), `server.tls.cert_file: cannot use "/nonexistent/c.pem"`)
	f(minimal+"metrics: {port: 0}\n", "metrics.port: must be between 1 and 65535, got 0")

	// Buckets.
	f(strings.Replace(minimal, "  - name: uploads\n", "  - path_prefix: /x\n", 1), "buckets[0].name: is required")
	f(strings.Replace(minimal, "name: uploads", "name: \"up/loads\"", 1), `buckets[0].name: invalid bucket name "up/loads"`)
	f(strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n", "  address: \":1\"\n  virtual_host_domains: [s3.local]\n", 1)+
		"  - name: Upper_Case\n    s3: {bucket: b, region: r}\n", `buckets[1].name: invalid bucket name "Upper_Case": virtual_host_domains needs lower-case DNS names`)
	f(bucket("  - name: uploads\n    path_prefix: /other\n    s3: {bucket: b, region: r}\n"), `buckets[1].name: duplicate bucket name "uploads" (also buckets[0]) (line 9)`)
	f(bucket("  - name: other\n    path_prefix: /uploads\n    s3: {bucket: b, region: r}\n"), `buckets[1].path_prefix: duplicate path_prefix "/uploads" (also buckets[0]) (line 10)`)
	for _, p := range []struct{ prefix, want string }{
		{"uploads", "must start with '/'"},
		{"/", "must not end with '/'"},
		{"/uploads/", "must not end with '/'"},
		{"/a//b", "empty, '.' or '..' segment"},
		{"/a/../b", "empty, '.' or '..' segment"},
		{"/a b", `character ' ' not allowed`},
		{"/a%20b", `character '%' not allowed`},
	} {
		f(strings.Replace(minimal, "  - name: uploads\n", "  - name: uploads\n    path_prefix: \""+p.prefix+"\"\n", 1),
			`buckets[0].path_prefix: invalid path_prefix "`+p.prefix+`": `+p.want)
	}
	f(strings.Replace(minimal, "      bucket: backend\n", "", 1), "buckets[0].s3.bucket: is required")
	f(strings.Replace(minimal, "      bucket: backend\n", "      bucket: \"a/b\"\n", 1), `buckets[0].s3.bucket: invalid bucket name "a/b"`)
	f(strings.Replace(minimal, "      region: us-east-1\n", "", 1), "buckets[0].s3.region: is required")
	f(strings.Replace(minimal, "us-east-1", "\"us east\"", 1), `buckets[0].s3.region: invalid region "us east"`)
	f(minimal+"  - name: two\n    s3:\n      bucket: b\n      region: r\n      endpoint: ftp://x\n", "buckets[1].s3.endpoint: must be an http:// or https:// URL (line 13)")
	f(bucket("      endpoint: \"localhost:9000\"\n"), "buckets[0].s3.endpoint: must be an http:// or https:// URL")
	f(bucket("      endpoint: \"http://u:p@h\"\n"), "buckets[0].s3.endpoint: must not contain user info")
	f(bucket("      endpoint: \"http://h/base\"\n"), "buckets[0].s3.endpoint: must not have a path, query or fragment")
	f(bucket("      endpoint: \"http://h:0\"\n"), `buckets[0].s3.endpoint: invalid port "0"`)
	f(bucket("      access_key: AK\n"), "buckets[0].s3: access_key and secret_key must be set together")
	f(bucket("      session_token: T\n"), "buckets[0].s3.session_token: needs access_key and secret_key")
	f(bucket("      key_prefix: /x\n"), "buckets[0].s3.key_prefix: must not start with '/'")
	f(bucket("      force_path_style: sometimes\n"), `buckets[0].s3.force_path_style: invalid boolean "sometimes"`)
	f(bucket("    upload: {part_size: -5}\n"), `buckets[0].upload.part_size: invalid size "-5": must not be negative`)
	f(bucket("    upload: {concurrent_parts: 0}\n"), "buckets[0].upload.concurrent_parts: must be at least 1, got 0")

	// Auth and authz, structurally.
	f(bucket("    auth: {enabled: true}\n"), "buckets[0].auth: enabled, but neither jwt nor sigv4 is configured")
	f(bucket("    auth: {enabled: true, jwt: {algorithm: none, secret: s}}\n"), `buckets[0].auth.jwt.algorithms: unsupported algorithm "none"`)
	f(bucket("    auth: {enabled: true, jwt: {algorithm: HS256}}\n"), "buckets[0].auth.jwt.secret: is required for HS* algorithms")
	f(bucket("    auth: {enabled: true, jwt: {algorithm: RS256, secret: s}}\n"), "buckets[0].auth.jwt: RS/PS/ES/EdDSA algorithms need public_key, public_key_file or jwks_url")
	f(bucket("    auth: {jwt: {jwks_url: \"file:///x\"}}\n"), "buckets[0].auth.jwt.jwks_url: must be an http:// or https:// URL")
	f(bucket("    auth: {jwt: {jwks_url: \"http://idp/jwks\"}}\n"), "buckets[0].auth.jwt.jwks_url: must be an https:// URL (keys fetched over http:// can be replaced on the way; set jwks_allow_http: true to accept it)")
	f(bucket("    auth: {jwt: {public_key: k, public_key_file: /nonexistent/k.pem}}\n"), "buckets[0].auth.jwt: public_key and public_key_file are exclusive")
	f(bucket("    auth: {jwt: {public_key_file: /nonexistent/k.pem}}\n"), `buckets[0].auth.jwt.public_key_file: cannot use "/nonexistent/k.pem"`)
	f(bucket("    auth: {jwt: {secret: s, token_sources: [{type: form}]}}\n"), `buckets[0].auth.jwt.token_sources[0].type: invalid type "form"`)
	f(bucket("    cors: {allowed_headers: [a]}\n"), `buckets[0].cors.allowed_origins: must list at least one origin`)
	f(bucket("    cors: {allowed_origins: [\"https://a.example/path\"]}\n"), `buckets[0].cors.allowed_origins[0]: invalid origin`)
	f(bucket("    cors: {allowed_origins: [\"*\"], expose_headers: [\"a b\"]}\n"), `buckets[0].cors: invalid header name`)
	f(bucket("    auth: {jwt: {secret: s, token_sources: [{type: cookie}]}}\n"), `buckets[0].auth.jwt.token_sources[0].name: is required for type "cookie"`)
	f(bucket("    auth: {jwt: {secret: s, token_sources: [{type: query}]}}\n"), `buckets[0].auth.jwt.token_sources[0].name: is required for type "query"`)
	f(bucket("    auth: {enabled: true, sigv4: {region: r}}\n"), "buckets[0].auth.sigv4: enabled, but no credentials")
	f(bucket("    auth: {sigv4: {access_key: a}}\n"), "buckets[0].auth.sigv4: access_key and secret_key must be set together")
	f(bucket("    auth: {sigv4: {access_key: a, secret_key: s, credentials: [{access_key: a, secret_key: t}]}}\n"), "buckets[0].auth.sigv4.credentials[0].access_key: duplicate access key")
	f(bucket("    auth: {sigv4: {credentials: [{access_key: a}]}}\n"), "buckets[0].auth.sigv4.credentials[0]: access_key and secret_key are required")
	f(bucket("    auth: {sigv4: {max_clock_skew_seconds: 0}}\n"), "buckets[0].auth.sigv4.max_clock_skew_seconds: must be positive")
	f(bucket("    authz: {enabled: true}\n"), "buckets[0].authz: enabled, but neither opa nor openfga is configured")
	f(bucket("    authz: {type: cedar}\n"), `buckets[0].authz.type: invalid type "cedar": want opa, opa_server or openfga`)
	f(bucket("    authz: {type: openfga}\n"), `buckets[0].authz.openfga: is required for type "openfga"`)
	f(bucket("    authz: {enabled: true, opa: {}}\n"), "buckets[0].authz.opa: type opa needs policy, policy_file or bundle")
	f(bucket("    authz: {enabled: true, type: opa_server, opa: {}}\n"), "buckets[0].authz.opa.url: is required for type opa_server")
	f(bucket("    authz: {opa: {url: \"opa:8181\"}}\n"), "buckets[0].authz.opa.url: must be an http:// or https:// URL")
	f(bucket("    authz: {opa: {policy: p, policy_file: f}}\n"), "buckets[0].authz.opa: policy and policy_file are exclusive")
	f(bucket("    authz: {opa: {timeout_ms: 0}}\n"), "buckets[0].authz.opa.timeout_ms: must be positive")
	f(bucket("    authz: {enabled: true, openfga: {api_url: \"http://f\"}}\n"), "buckets[0].authz.openfga.store_id: is required")
	f(bucket("    authz: {enabled: true, openfga: {store_id: s}}\n"), "buckets[0].authz.openfga.api_url: is required")
	f(bucket("    authz: {openfga: {relation: \"a:b\"}}\n"), `buckets[0].authz.openfga.relation: invalid value "a:b"`)

	// Tracing, when enabled.
	f(minimal+"tracing: {enabled: true}\n", "tracing.otlp.endpoint: must be an http:// or https:// URL")
	f(minimal+"tracing: {enabled: true, otlp: {endpoint: \"http://c:4317\", protocol: udp}}\n", `tracing.otlp.protocol: invalid protocol "udp"`)
	f(minimal+"tracing: {enabled: true, otlp: {endpoint: \"http://c:4317\", headers: [a]}}\n", "tracing.otlp.headers")
	f(minimal+"tracing: {enabled: true, otlp: {endpoint: \"http://c:4317\"}, sampling: {ratio: 2}}\n", "tracing.sampling.ratio: must be between 0 and 1, got 2")

	// Several problems are all reported.
	f(bucket("    upload: {concurrent_parts: 0}\nmetrics: {port: 0}\n"), "concurrent_parts: must be at least 1, got 0 (line 9)\nmetrics.port")
}

func TestParse_TLSFiles(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, p := range []string{cert, key} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data := strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n",
		"  address: \"127.0.0.1:8080\"\n  tls:\n    cert_file: "+cert+"\n    key_file: "+key+"\n", 1)
	c := mustParse(t, data, nil)
	if !c.Server.TLS.Enabled() || c.Server.TLS.CertFile != cert || c.Server.TLS.KeyFile != key {
		t.Fatalf("unexpected server.tls: %+v", c.Server.TLS)
	}
	if got := c.Unsupported(); len(got) != 0 {
		t.Fatalf("unexpected Unsupported: %q; want none (TLS is implemented)", got)
	}
}

func TestLoad_Failure(t *testing.T) {
	f := func(path, want string) {
		t.Helper()
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %v; want substring %q", err, want)
		}
	}
	f(filepath.Join(t.TempDir(), "missing.yaml"), "cannot read config")
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte(minimal+"bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f(p, "invalid config "+p+":\nbogus: unknown key (line 9)")
}

func TestDev(t *testing.T) {
	c := Dev("/tmp/data", "http://127.0.0.1:7070", "AK", "SK")
	if err := c.Validate(); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	b := c.Buckets[0]
	if c.DevDataDir != "/tmp/data" || c.Server.Address != "127.0.0.1:8080" || c.Server.AdminAddress != "127.0.0.1:9090" ||
		len(c.Buckets) != 1 || b.Name != "uploads" || b.PathPrefix != "/uploads" || b.S3.Bucket != "uploads" ||
		b.S3.Region != "us-east-1" || b.S3.EndpointURL != "http://127.0.0.1:7070" || b.S3.AccessKey != "AK" ||
		b.S3.SecretKey != "SK" || b.Auth.Enabled || b.Upload.ConcurrentParts != 4 || !b.S3.UsePathStyle() {
		t.Fatalf("unexpected dev config: %+v", c)
	}
	if len(c.Unsupported()) != 0 {
		t.Fatalf("unexpected Unsupported: %q", c.Unsupported())
	}
}
