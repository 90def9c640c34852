package fuzz

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mizuchi-gw/mizuchi/config"
)

// fuzzEnv is a fixed environment: names starting with UNSET are unset,
// EMPTY is "", names with ENDPOINT or URL are a loopback URL, every other
// name is set to a value long enough for a secret.
func fuzzEnv(name string) (string, bool) {
	switch {
	case strings.HasPrefix(name, "UNSET"):
		return "", false
	case name == "EMPTY":
		return "", true
	case strings.Contains(name, "ENDPOINT") || strings.Contains(name, "URL"):
		return "http://127.0.0.1:7070", true
	}
	return "env-" + strings.ToLower(name) + "-0123456789abcdef0123456789abcdef", true
}

// FuzzConfigParse feeds arbitrary YAML to config.Parse. It never panics;
// it is deterministic (two parses of the same document give equal configs
// or the same error text, so reload and -check agree with startup); and a
// configuration it returns validates again unchanged (Validate is
// idempotent on what Parse completed).
//
// A re-marshalled config is not an oracle: the struct's `yaml:"key,unit"`
// tags and its aliases of the original format are read by config's own
// decoder, not by yaml.Marshal.
func FuzzConfigParse(f *testing.F) {
	f.Add([]byte("server:\n  address: \"127.0.0.1:8080\"\nbuckets:\n  - name: uploads\n    s3: &s3\n      bucket: backend\n      region: us-east-1\n"))
	f.Add([]byte("server:\n  address: ${UNSET_ADDR:-127.0.0.1:8080}\nbuckets:\n  - name: ${UNSET_NAME:-b}\n    s3: {bucket: x, region: \"${SET_REGION}\", endpoint: \"http://127.0.0.1:7070\"}\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nbuckets: [*b]\n"))
	f.Add([]byte("buckets:\n  - name: u\n    s3: {bucket: b, region: r}\n    upload: {part_size: 5MiB, multipart_threshold: 1GiB}\nserver: {header_timeout_seconds: 1.5, max_header_bytes: 1KiB}\n"))
	for _, name := range []string{"../config/testdata/example.yaml", "../config/testdata/original.yaml"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			t.Skip("input too large")
		}
		c1, err1 := config.Parse(data, fuzzEnv)
		c2, err2 := config.Parse(data, fuzzEnv)
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("Parse is not deterministic; got %v, then %v\n%q", err1, err2, data)
		}
		if err1 != nil {
			if c1 != nil {
				t.Fatalf("Parse returned a config with an error: %v", err1)
			}
			return
		}
		if !reflect.DeepEqual(c1, c2) {
			t.Fatalf("Parse is not deterministic:\n%+v\n%+v\n%q", c1, c2, data)
		}
		if err := c1.Validate(); err != nil {
			t.Fatalf("a parsed config no longer validates: %v\n%q", err, data)
		}
		if !reflect.DeepEqual(c1, c2) {
			t.Fatalf("Validate changed the config:\n%+v\n%+v", c1, c2)
		}
	})
}
