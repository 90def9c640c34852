package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	testSecret1 = "0123456789abcdef0123456789abcdef"
	testSecret2 = "fedcba9876543210fedcba9876543210"
)

// withUploadIDSecret adds server.upload_id_secret to a document whose
// server section starts with "server:\n", for configurations with
// multi-identity routes that must have one.
func withUploadIDSecret(data string) string {
	return strings.Replace(data, "server:\n", "server:\n  upload_id_secret: \""+testSecret1+"\"\n", 1)
}

func TestParse_UploadSuccess(t *testing.T) {
	f := func(data string, env map[string]string, check func(c *Config) bool) {
		t.Helper()
		c := mustParse(t, data, env)
		if !check(c) {
			t.Fatalf("unexpected config for\n%s\ngot server %+v\nupload %+v", data, c.Server, c.Buckets[0].Upload)
		}
		// finish is idempotent.
		before := c.Server.UploadIDSecrets
		c.finish()
		if !reflect.DeepEqual(before, c.Server.UploadIDSecrets) {
			t.Fatalf("finish is not idempotent: %q then %q", before, c.Server.UploadIDSecrets)
		}
	}
	secrets := func(want ...string) func(c *Config) bool {
		return func(c *Config) bool { return reflect.DeepEqual(c.Server.UploadIDSecrets, want) }
	}
	server := func(lines string) string { return strings.Replace(minimal, "server:\n", "server:\n"+lines, 1) }

	// Defaults.
	f(minimal, nil, func(c *Config) bool {
		u := c.Buckets[0].Upload
		return c.Server.UploadIDSecret == "" && len(c.Server.UploadIDSecrets) == 0 &&
			u.KeyTemplate == "{key}" && u.MaxUploadAge == 7*24*time.Hour && u.MaxObjectSize == 0 &&
			u.MaxPartSize == 0 && u.AllowedContentTypes == nil
	})
	// The secrets are merged, upload_id_secret first and once.
	f(server("  upload_id_secret: \""+testSecret1+"\"\n"), nil, secrets(testSecret1))
	f(server("  upload_id_secrets: [\""+testSecret1+"\", \""+testSecret2+"\"]\n"), nil, secrets(testSecret1, testSecret2))
	f(server("  upload_id_secret: \""+testSecret2+"\"\n  upload_id_secrets: [\""+testSecret1+"\"]\n"), nil, secrets(testSecret2, testSecret1))
	f(server("  upload_id_secret: \""+testSecret2+"\"\n  upload_id_secrets: [\""+testSecret1+"\", \""+testSecret2+"\"]\n"), nil, secrets(testSecret2, testSecret1))
	f(server("  upload_id_secret: \""+testSecret2+"\"\n  upload_id_secrets: [\""+testSecret2+"\", \""+testSecret1+"\"]\n"), nil, secrets(testSecret2, testSecret1))
	// ${VAR} substitution; an unset variable with an empty default is absent.
	f(server("  upload_id_secret: ${UID_SECRET}\n  upload_id_secrets: [\"${OLD_SECRET}\"]\n"),
		map[string]string{"UID_SECRET": testSecret1, "OLD_SECRET": testSecret2}, secrets(testSecret1, testSecret2))
	f(server("  upload_id_secret: ${UID_SECRET:-}\n"), nil, secrets())

	// The upload keys.
	f(minimal+`    upload:
      key_template: "{claims.tenant}/{date}/{key}"
      max_upload_age_seconds: 86400
      max_object_size: 10GiB
      max_part_size: 64MiB
      allowed_content_types: ["image/*", application/pdf]
`, nil, func(c *Config) bool {
		u := c.Buckets[0].Upload
		return u.KeyTemplate == "{claims.tenant}/{date}/{key}" && u.MaxUploadAge == 24*time.Hour &&
			u.MaxObjectSize == 10<<30 && u.MaxPartSize == 64<<20 &&
			reflect.DeepEqual(u.AllowedContentTypes, []string{"image/*", "application/pdf"}) &&
			u.PartSize == 16<<20 // the others keep their defaults
	})
	f(minimal+"    upload: {max_upload_age_seconds: 168h, max_object_size: 5TiB, max_part_size: 5GiB, allowed_content_types: [\"*\"]}\n", nil,
		func(c *Config) bool {
			u := c.Buckets[0].Upload
			return u.MaxUploadAge == 7*24*time.Hour && u.MaxObjectSize == 5<<40 && u.MaxPartSize == 5<<30
		})

	// A single pattern without a list.
	f(minimal+"    upload: {allowed_content_types: image/*}\n", nil, func(c *Config) bool {
		return reflect.DeepEqual(c.Buckets[0].Upload.AllowedContentTypes, []string{"image/*"})
	})

	// Routes with one identity need no secret.
	f(minimal+"    auth: {enabled: false, jwt: {secret: s}}\n", nil, secrets())
	f(minimal+"    auth: {enabled: true, sigv4: {access_key: a, secret_key: s}}\n", nil, secrets())
	f(minimal+"    auth: {enabled: true, sigv4: {credentials: [{access_key: a, secret_key: s, subject: x}, {access_key: b, secret_key: s, subject: x}]}}\n", nil, secrets())
	f(minimal+"    auth: {enabled: true, sigv4: {access_key: a, secret_key: s, credentials: [{access_key: b, secret_key: s, subject: a}]}}\n", nil, secrets())
	// With a secret, any route.
	f(withUploadIDSecret(minimal)+"    auth: {enabled: true, jwt: {secret: s}}\n", nil, secrets(testSecret1))
}

func TestParse_UploadFailure(t *testing.T) {
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
	server := func(lines string) string { return strings.Replace(minimal, "server:\n", "server:\n"+lines, 1) }
	upload := func(extra string) string { return minimal + "    upload: {" + extra + "}\n" }

	// Secrets.
	f(server("  upload_id_secret: short\n"), "server.upload_id_secret: must be at least 32 bytes, got 5 (line 3)")
	f(server("  upload_id_secret: \""+testSecret1[:31]+"\"\n"), "server.upload_id_secret: must be at least 32 bytes, got 31")
	f(server("  upload_id_secrets: [\""+testSecret1+"\", abc]\n"), "server.upload_id_secrets: entry 2 must be at least 32 bytes, got 3 (line 3)")
	f(server("  upload_id_secrets: [\"\"]\n"), "server.upload_id_secrets: entry 1 must be at least 32 bytes, got 0")

	// Multi-identity routes without a secret are refused.
	const refused = "server.upload_id_secret: is required: route "
	f(minimal+"    auth: {enabled: true, jwt: {secret: s}}\n", refused+`"uploads" (buckets[0]) has more than one identity (jwt: one per subject); set server.upload_id_secret`)
	f(minimal+"    auth: {enabled: true, sigv4: {access_key: a, secret_key: s, credentials: [{access_key: b, secret_key: s}]}}\n",
		refused+`"uploads" (buckets[0]) has more than one identity (sigv4 credentials of 2 subjects)`)
	f(minimal+"    auth: {enabled: true, sigv4: {credentials: [{access_key: a, secret_key: s, subject: x}, {access_key: b, secret_key: s, subject: y}]}}\n",
		"(sigv4 credentials of 2 subjects)")
	f(minimal+"  - name: two\n    s3: {bucket: b, region: r}\n    auth: {enabled: true, jwt: {secret: s}}\n", refused+`"two" (buckets[1])`)

	// Upload keys.
	f(upload(`key_template: "{subject}"`), `buckets[0].upload.key_template: invalid template "{subject}": {key} is missing (line 9)`)
	f(upload(`key_template: "{user}/{key}"`), `buckets[0].upload.key_template: invalid template "{user}/{key}": unknown placeholder {user}`)
	f(upload(`key_template: "../{key}"`), `buckets[0].upload.key_template: invalid template "../{key}": literal "../": a ".." path segment`)
	f(upload("max_upload_age_seconds: 0"), "buckets[0].upload.max_upload_age_seconds: must be positive, got 0s")
	f(upload("max_upload_age_seconds: -5"), "buckets[0].upload.max_upload_age_seconds: invalid duration")
	f(upload("max_object_size: 6TiB"), "buckets[0].upload.max_object_size: must be between 0 (S3's limit) and 5TiB, got 6597069766656")
	f(upload("max_object_size: -1"), "buckets[0].upload.max_object_size")
	f(upload("max_part_size: 1MiB"), "buckets[0].upload.max_part_size: must be 0 (S3's limit) or between 5MiB and 5GiB")
	f(upload("max_part_size: 6GiB"), "buckets[0].upload.max_part_size: must be 0 (S3's limit) or between 5MiB and 5GiB")
	f(upload(`allowed_content_types: ["image/*", image]`), `buckets[0].upload.allowed_content_types[1]: invalid content type pattern "image"`)
	f(upload(`allowed_content_types: ["text/plain; charset=utf-8"]`), `buckets[0].upload.allowed_content_types[0]: invalid content type pattern`)
}

func TestDev_UploadIDSecret(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	c := Dev(data, "http://127.0.0.1:7070", "AK", "SK")
	if err := c.Validate(); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	k := c.Server.UploadIDSecret
	if len(k) < 32 || !reflect.DeepEqual(c.Server.UploadIDSecrets, []string{k}) {
		t.Fatalf("unexpected dev secrets %d bytes, %d entries", len(k), len(c.Server.UploadIDSecrets))
	}
	st, err := os.Stat(filepath.Join(dir, "upload-id-secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("unexpected secret file: %v, %v", st, err)
	}
	// Kept across restarts.
	if c2 := Dev(data, "http://127.0.0.1:7070", "AK", "SK"); c2.Server.UploadIDSecret != k {
		t.Fatalf("the dev secret changed across restarts")
	}
	// No data directory: a random secret, no file.
	missing := filepath.Join(dir, "nodir", "data")
	c3, c4 := Dev(missing, "http://127.0.0.1:7070", "AK", "SK"), Dev(missing, "http://127.0.0.1:7070", "AK", "SK")
	if len(c3.Server.UploadIDSecret) < 32 || c3.Server.UploadIDSecret == c4.Server.UploadIDSecret || c3.Server.UploadIDSecret == k {
		t.Fatalf("unexpected secrets without a data directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "nodir")); !os.IsNotExist(err) {
		t.Fatalf("Dev created files without a data directory: %v", err)
	}
}

func TestParse_ExampleUpload(t *testing.T) {
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, string(data), nil)
	u := c.Buckets[0].Upload
	if len(c.Server.UploadIDSecrets) != 0 || u.KeyTemplate != "{key}" || u.MaxUploadAge != 7*24*time.Hour ||
		u.MaxObjectSize != 0 || u.MaxPartSize != 0 || len(u.AllowedContentTypes) != 0 {
		t.Fatalf("unexpected upload settings in example.yaml: %+v", u)
	}
}

// The upload settings are enforced by the engine: none is refused.
func TestUnsupported_Upload(t *testing.T) {
	c := mustParse(t, minimal+"    upload: {key_template: \"{subject}/{key}\", max_object_size: 1GiB, max_part_size: 64MiB, allowed_content_types: [\"image/*\"], max_upload_age_seconds: 60}\n", nil)
	if got := c.Unsupported(); len(got) != 0 {
		t.Fatalf("unexpected Unsupported: %q", got)
	}
}
