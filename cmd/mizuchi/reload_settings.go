package main

import (
	"reflect"
	"strings"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine"
)

// restartKeys are the settings a reload cannot apply: the listeners, the
// event loops and the pipe pool are set up once at start. A reload that
// changes one of them still succeeds (everything else is applied), and
// the log line and the POST /-/reload reply name each such key. To add a
// key, add a row: its YAML path and how to read it from a Config (the
// values are compared with reflect.DeepEqual).
//
// TestReloadKeysClassified fails for a configuration key that is in none
// of restartKeys, reloadedKeys and inertKeys.
var restartKeys = []struct {
	key string
	get func(c *config.Config) any
}{
	{"server.address", func(c *config.Config) any { return c.Server.Address }},
	{"server.admin_address", func(c *config.Config) any { return c.Server.AdminAddress }},
	{"server.loops", func(c *config.Config) any { return c.Server.Loops }},
	{"server.pipe_pool", func(c *config.Config) any { return c.Server.PipePool }},
	{"server.zero_copy.enabled", func(c *config.Config) any { return c.Server.ZeroCopy.Enabled }},
	{"server.zero_copy.pipe_buffer_size", func(c *config.Config) any { return c.Server.ZeroCopy.PipeBufferSize }},
	// Turning TLS on or off; new certificate files are reloaded.
	{"server.tls", func(c *config.Config) any { return c.Server.TLS.Enabled() }},
	// Fixed in engine.Config at start (config/proxy.go).
	{"server.proxy_protocol.trusted", func(c *config.Config) any { return c.Server.ProxyProtocol.Trusted }},
	{"server.trusted_proxies", func(c *config.Config) any { return c.Server.TrustedProxies }},
	{"server.memory.buffer_budget", func(c *config.Config) any { return c.Server.Memory.BufferBudget }},
	{"metrics.enabled", func(c *config.Config) any { return c.Metrics.Enabled }},
	{"metrics.port", func(c *config.Config) any { return c.Metrics.Port }},
	// The exporter is set up once (tracing.go; it also logs its own warning).
	{"tracing", func(c *config.Config) any { return c.Tracing }},
	{"access_log", func(c *config.Config) any { return c.AccessLog }},
	// The spooler is set up once in engine.New (engine/spool.go).
	{"server.spool", func(c *config.Config) any { return c.Server.Spool }},
}

// reloadedKeys are the key paths (or section prefixes ending in '.') a
// reload applies: routes and everything under them, STS, the upload id
// secrets and virtual hosts (a new router), the certificate files (a new
// certificate when TLS is on) and the engine's Tunables (tunablesFrom).
var reloadedKeys = []string{
	"buckets[].",
	"sts.",
	"server.virtual_host_domains",
	"server.upload_id_secret",
	"server.upload_id_secrets",
	"server.tls.cert_file",
	"server.tls.key_file",
	"server.max_header_bytes",
	"server.splice_threshold",
	"server.header_timeout_seconds",
	"server.idle_timeout_seconds",
	"server.body_timeout_seconds",
	"server.upstream_timeout_seconds",
	"server.limits.",
	"server.max_connections",
}

// inertKeys are accepted and validated but have no effect in this build,
// at start or on reload (see config.Ignored). None today.
var inertKeys = []string{}

// tunablesFrom returns the engine settings a reload applies. Settings
// without a configuration key (the engine's object size cap) stay at the
// engine's defaults, as at start.
func tunablesFrom(cfg *config.Config) engine.Tunables {
	s := &cfg.Server
	return engine.Tunables{
		MaxHeadSize:     int(s.MaxHeaderBytes),
		SpliceThreshold: int64(s.SpliceThreshold),
		HeaderTimeout:   s.HeaderTimeout,
		IdleTimeout:     s.IdleTimeout,
		BodyTimeout:     s.BodyTimeout,
		UpstreamTimeout: s.UpstreamTimeout,
		MaxConns:        s.MaxConnections,
	}
}

// restartNeeded lists the keys of restartKeys whose value in next differs
// from running (the configuration the process started with).
func restartNeeded(running, next *config.Config) []string {
	var out []string
	for _, k := range restartKeys {
		if !reflect.DeepEqual(k.get(running), k.get(next)) {
			out = append(out, k.key)
		}
	}
	return out
}

// keyIn reports whether key is one of list or under one of its prefixes
// ending in '.'.
func keyIn(key string, list []string) bool {
	for _, p := range list {
		if key == p || strings.HasSuffix(p, ".") && strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
