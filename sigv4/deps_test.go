package sigv4_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies enforces that sigv4 imports only the standard library
// (and golang.org/x/sys, should it ever need it).
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %s", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %s", err)
	}
	const self = "github.com/mizuchi-gw/mizuchi/sigv4"
	for _, p := range strings.Fields(string(out)) {
		if p == self || p == "golang.org/x/sys" || strings.HasPrefix(p, "golang.org/x/sys/") {
			continue
		}
		t.Fatalf("unexpected dependency %q; sigv4 may import only the standard library and golang.org/x/sys", p)
	}
}
