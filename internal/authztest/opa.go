package authztest

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// ExamplePolicy returns the absolute path of the shipped example policy,
// config/testdata/policy/mizuchi.rego.
func ExamplePolicy() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "config", "testdata", "policy", "mizuchi.rego")
}

// StartOPA starts `opa run --server` on a free loopback port with files
// (policies and data, as opa run takes them) and returns its base URL,
// "http://127.0.0.1:PORT". The test is skipped when MIZUCHI_OPA is unset.
func StartOPA(t testing.TB, files ...string) (url string, stop func()) {
	t.Helper()
	return startOPA(t, nil, files)
}

// StartOPAToken is StartOPA with token authentication: every API call but
// /health needs "Authorization: Bearer <token>" (OPA's --authentication
// token with a system.authz policy comparing the identity).
func StartOPAToken(t testing.TB, token string, files ...string) (url string, stop func()) {
	t.Helper()
	authz := filepath.Join(t.TempDir(), "system_authz.rego")
	src := "package system.authz\n\ndefault allow := false\n\nallow if input.path == [\"health\"]\n\nallow if input.identity == " + strconv.Quote(token) + "\n"
	if err := os.WriteFile(authz, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return startOPA(t, []string{"--authentication=token", "--authorization=basic"}, append(files, authz))
}

func startOPA(t testing.TB, extra, files []string) (string, func()) {
	t.Helper()
	bin := binary(t, "MIZUCHI_OPA", "opa")
	var base string
	stop := start(t, "opa", bin, func() ([]string, string) {
		addr := loopback(FreePort(t))
		base = "http://" + addr
		args := []string{"run", "--server", "--addr", addr, "--log-level", "error", "--skip-version-check"}
		args = append(args, extra...)
		args = append(args, files...)
		return args, base + "/health"
	})
	return base, stop
}
