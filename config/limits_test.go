package config

import (
	"strings"
	"testing"
	"time"
)

func TestLimits_Success(t *testing.T) {
	c := mustParse(t, minimal, nil)
	if l := c.Server.Limits; l != (Limits{MinBodyRateWindow: 10 * time.Second}) {
		t.Fatalf("unexpected default limits: %+v", l)
	}
	data := strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n", "  address: \"127.0.0.1:8080\"\n  limits:\n"+
		"    max_connections_per_ip: 8\n    min_body_bytes_per_second: 4KiB\n    min_body_rate_window_seconds: 30\n"+
		"    max_inflight_uploads: 100\n    max_inflight_uploads_per_identity: 4\n"+
		"    requests_per_second_per_identity: 2.5\n    burst_per_identity: 10\n", 1)
	c = mustParse(t, data, nil)
	want := Limits{MaxConnectionsPerIP: 8, MinBodyBytesPerSecond: 4 << 10, MinBodyRateWindow: 30 * time.Second,
		MaxInflightUploads: 100, MaxInflightUploadsPerIdentity: 4, RequestsPerSecondPerIdentity: 2.5, BurstPerIdentity: 10}
	if c.Server.Limits != want {
		t.Fatalf("unexpected limits; got %+v; want %+v", c.Server.Limits, want)
	}

	// Flags override only what they name.
	c.ApplyFlags(parseFlags(t, "-max-connections-per-ip", "2", "-min-body-bytes-per-second", "1MiB",
		"-min-body-rate-window", "5s", "-requests-per-second-per-identity", "0.5"))
	if err := c.Validate(); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	want.MaxConnectionsPerIP, want.MinBodyBytesPerSecond, want.MinBodyRateWindow, want.RequestsPerSecondPerIdentity = 2, 1<<20, 5*time.Second, 0.5
	if c.Server.Limits != want {
		t.Fatalf("unexpected limits after flags; got %+v; want %+v", c.Server.Limits, want)
	}
	c.ApplyFlags(parseFlags(t, "-max-inflight-uploads", "0", "-max-inflight-uploads-per-identity", "1", "-burst-per-identity", "3"))
	want.MaxInflightUploads, want.MaxInflightUploadsPerIdentity, want.BurstPerIdentity = 0, 1, 3
	if c.Server.Limits != want {
		t.Fatalf("unexpected limits after flags; got %+v; want %+v", c.Server.Limits, want)
	}
}

func TestLimits_Failure(t *testing.T) {
	f := func(line, want string) {
		t.Helper()
		data := strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n", "  address: \"127.0.0.1:8080\"\n  limits:\n    "+line+"\n", 1)
		_, err := Parse([]byte(data), testEnv(nil))
		if err == nil {
			t.Fatalf("expecting an error for %q", line)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
	}
	f("max_connections_per_ip: -1", "server.limits.max_connections_per_ip")
	f("min_body_bytes_per_second: -5", "min_body_bytes_per_second")
	f("min_body_rate_window_seconds: 0", "server.limits.min_body_rate_window_seconds")
	f("min_body_rate_window_seconds: 2h", "server.limits.min_body_rate_window_seconds")
	f("max_inflight_uploads: -2", "server.limits.max_inflight_uploads")
	f("max_inflight_uploads_per_identity: -2", "server.limits.max_inflight_uploads_per_identity")
	f("requests_per_second_per_identity: -0.5", "server.limits.requests_per_second_per_identity")
	f("requests_per_second_per_identity: .nan", "server.limits.requests_per_second_per_identity")
	f("burst_per_identity: -1", "server.limits.burst_per_identity")
	f("max_connections_per_host: 3", "max_connections_per_host")
}
