package config

import (
	"strings"
	"testing"
)

func TestAccessLog_Success(t *testing.T) {
	f := func(section string, want *AccessLog) {
		t.Helper()
		c := mustParse(t, minimal+section, nil)
		if (c.AccessLog == nil) != (want == nil) || (want != nil && *c.AccessLog != *want) {
			t.Fatalf("unexpected access_log; got %+v; want %+v", c.AccessLog, want)
		}
	}
	f("", nil)
	f("access_log:\n  enabled: true\n", &AccessLog{Enabled: true, Format: "logfmt", Output: "stderr", Sample: 1})
	f("access_log:\n  enabled: true\n  format: json\n  output: /var/log/mizuchi/access.log\n  sample: 0.1\n",
		&AccessLog{Enabled: true, Format: "json", Output: "/var/log/mizuchi/access.log", Sample: 0.1})
	f("access_log:\n  enabled: true\n  output: stdout\n  sample: 0\n", &AccessLog{Enabled: true, Format: "logfmt", Output: "stdout", Sample: 0})
}

func TestAccessLog_Failure(t *testing.T) {
	f := func(section, wantErr string) {
		t.Helper()
		_, err := Parse([]byte(minimal+section), testEnv(nil))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("unexpected error; got %v; want %q", err, wantErr)
		}
	}
	f("access_log:\n  format: xml\n", "access_log.format")
	f("access_log:\n  output: \"\"\n", "access_log.output")
	f("access_log:\n  sample: 1.5\n", "access_log.sample")
	f("access_log:\n  sample: -0.1\n", "access_log.sample")
	f("access_log:\n  rotate: true\n", "rotate")
}
