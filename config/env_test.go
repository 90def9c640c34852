package config

import (
	"strings"
	"testing"
)

func testEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

var envVars = testEnv(map[string]string{"A": "alpha", "EMPTY": "", "X_1": "x"})

func TestExpandEnv_Success(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := expandEnv(in, envVars)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", in, err)
		}
		if got != want {
			t.Fatalf("unexpected result for %q; got %q; want %q", in, got, want)
		}
	}
	f("", "")
	f("plain", "plain")
	f("${A}", "alpha")
	f("pre-${A}-${X_1}-post", "pre-alpha-x-post")
	f("${EMPTY}", "")
	f("${MISSING:-def}", "def")
	f("${EMPTY:-def}", "def")
	f("${A:-def}", "alpha")
	f("${MISSING-def}", "def")
	f("${EMPTY-def}", "")
	f("${MISSING:-}", "")
	f("${MISSING:-http://h:1/x}", "http://h:1/x")
	f("$$", "$")
	f("$${A}", "${A}")
	f("pa$word", "pa$word")
	f("trailing$", "trailing$")
	f("$$$${A}", "$${A}")
}

func TestExpandEnv_Failure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := expandEnv(in, envVars)
		if err == nil {
			t.Fatalf("expecting an error for %q", in)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
	}
	f("${MISSING}", `environment variable "MISSING" is not set`)
	f("x ${A", "unterminated")
	f("${}", "invalid variable reference")
	f("${1A}", "invalid variable reference")
	f("${A:def}", "invalid variable reference")
	f("${A B}", "invalid variable reference")
}

func TestParseEnv_Success(t *testing.T) {
	data := `
server:
  address: "${HOST:-127.0.0.1}:${PORT}"
  max_connections: ${CONNS:-}
buckets:
  - name: b
    s3:
      bucket: "${BUCKET}"
      region: us-east-1
      secret_key: '${SECRET}'
      access_key: AK$$X
# comments are not expanded: ${NOT_SET}
`
	env := testEnv(map[string]string{"PORT": "9000", "BUCKET": "real", "SECRET": "s#3: cr'et"})
	c, err := Parse([]byte(data), env)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if got, want := c.Server.Address, "127.0.0.1:9000"; got != want {
		t.Fatalf("unexpected address; got %q; want %q", got, want)
	}
	if got, want := c.Server.MaxConnections, 10000; got != want {
		t.Fatalf("an empty plain value must keep the default; got %d; want %d", got, want)
	}
	s := c.Buckets[0].S3
	if s.Bucket != "real" || s.SecretKey != "s#3: cr'et" || s.AccessKey != "AK$X" {
		t.Fatalf("unexpected s3 section: %+v", s)
	}
}

func TestParseEnv_Failure(t *testing.T) {
	data := "server:\n  address: \":8080\"\nbuckets:\n  - name: b\n    s3:\n      bucket: b\n      region: \"${REGION}\"\n"
	_, err := Parse([]byte(data), testEnv(nil))
	want := `buckets[0].s3.region: environment variable "REGION" is not set (use ${REGION:-default} to give a default) (line 7)`
	if err == nil || err.Error() != want {
		t.Fatalf("unexpected error; got %v; want %q", err, want)
	}
}

// TestEnvErrorsHideValues: errors about a malformed reference name the
// variable at most, never the text around it (a secret, or a default).
func TestEnvErrorsHideValues(t *testing.T) {
	for _, s := range []string{"pa${ssw0rdTAIL", "${X:defaultsecret}", "${ secretdefault}", "x${A B secret}"} {
		_, err := expandEnv(s, func(string) (string, bool) { return "", false })
		if err == nil {
			t.Fatalf("%q: no error", s)
		}
		for _, leak := range []string{"ssw0rd", "defaultsecret", "secretdefault", "secret"} {
			if strings.Contains(err.Error(), leak) {
				t.Fatalf("%q: error %q shows %q", s, err, leak)
			}
		}
	}
}
