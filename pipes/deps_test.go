package pipes

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps pipes on the standard library and golang.org/x/sys, on every
// platform it builds for.
func TestDeps(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %s", err)
	}
	for _, goos := range []string{"linux", "darwin", "windows", "freebsd"} {
		cmd := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOOS=%s: go list failed: %s\n%s", goos, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "github.com/mizuchi-gw/mizuchi/pipes" || strings.HasPrefix(dep, "golang.org/x/sys/") {
				continue
			}
			t.Errorf("GOOS=%s: unexpected dependency %q; only the standard library and golang.org/x/sys are allowed", goos, dep)
		}
	}
}
