package config

import (
	"strings"
	"testing"
)

// TestUnsupported_STS: a role may name only routes with authentication
// (session credentials are verified by it); a disabled sts section is not
// looked at.
func TestUnsupported_STS(t *testing.T) {
	c := mustParse(t, stsConfig(""), nil)
	got := c.Unsupported()
	if len(got) != 1 || !strings.Contains(got[0], `sts.roles[0].routes[0]: bucket "uploads" has auth disabled`) {
		t.Fatalf("unexpected Unsupported: %q", got)
	}
	withAuth := strings.Replace(stsConfig(""), "      region: us-east-1\n",
		"      region: us-east-1\n    auth:\n      enabled: true\n      jwt: {secret: s}\n", 1)
	if got := mustParse(t, withAuth, nil).Unsupported(); len(got) != 0 {
		t.Fatalf("unexpected Unsupported with auth: %q", got)
	}
	disabled := strings.Replace(stsConfig(""), "  enabled: true\n", "  enabled: false\n", 1)
	if got := mustParse(t, disabled, nil).Unsupported(); len(got) != 0 {
		t.Fatalf("unexpected Unsupported with sts disabled: %q", got)
	}
}
