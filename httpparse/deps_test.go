package httpparse

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps httpparse on the standard library and golang.org/x/sys,
// as Tailscale's tstest/deptest does.
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %s", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("cannot run go list: %s\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/mizuchi-gw/mizuchi/httpparse" || pkg == "golang.org/x/sys" || strings.HasPrefix(pkg, "golang.org/x/sys/") {
			continue
		}
		t.Errorf("unexpected dependency %q; httpparse may use only the standard library and golang.org/x/sys", pkg)
	}
}
