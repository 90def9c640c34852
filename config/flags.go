package config

import (
	"flag"
	"time"
)

// Flags are the tuning flags that override the configuration file. Register
// them on a FlagSet, parse it, then call Config.ApplyFlags after every Load
// (including SIGHUP reloads) and Config.Validate. Only flags given on the
// command line override; the others leave the file's values alone.
type Flags struct {
	Listen          string
	AdminListen     string
	Loops           int
	PipeSize        Size
	PipePool        int
	SpliceThreshold Size
	ZeroCopy        bool
	MaxConnections  int
	MaxHeaderBytes  Size
	HeaderTimeout   time.Duration
	IdleTimeout     time.Duration
	BodyTimeout     time.Duration
	ProxyTrusted    commaList // -proxy-protocol-trusted (config/proxy.go)
	TrustedProxies  commaList // -trusted-proxies
	UpstreamTimeout time.Duration
	Limits          LimitFlags // server.limits (limits.go)
	BufferBudget    Size       // -buffer-budget (config/memory.go)

	fs *flag.FlagSet
}

// Register defines the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.Listen, "listen", "",
		"S3 listen `address`, host:port. Overrides server.address (default 0.0.0.0:8080)")
	fs.StringVar(&f.AdminListen, "admin-listen", "",
		"Admin listen `address` for /metrics, /healthz, /readyz (and /debug/pprof/ with -pprof), host:port; an empty value disables the admin listener. "+
			"Overrides server.admin_address (default 127.0.0.1:<metrics.port> when metrics.enabled)")
	fs.IntVar(&f.Loops, "loops", 0,
		"Number of event loops; 0 means GOMAXPROCS. Overrides server.loops (default 0)")
	fs.Var(&f.PipeSize, "pipe-size",
		"Size of each splice pipe, a `size` of 4KiB..1GiB such as 65536, 64KiB or 1MiB. Non-root processes are limited by fs.pipe-max-size and "+
			"fs.pipe-user-pages-soft. Overrides server.zero_copy.pipe_buffer_size (default 1MiB)")
	fs.IntVar(&f.PipePool, "pipe-pool", 0,
		"Maximum number of pipe pairs kept for splicing. Overrides server.pipe_pool (default 256)")
	fs.Var(&f.SpliceThreshold, "splice-threshold",
		"Bodies of at least this size are spliced kernel-side, smaller ones relayed in the event loop; 0 splices all. "+
			"A `size` such as 262144 or 256KiB. Overrides server.splice_threshold (default 256KiB)")
	fs.BoolVar(&f.ZeroCopy, "zero-copy", false,
		"Use splice(2) for large bodies; -zero-copy=false forces the copy path everywhere. Overrides server.zero_copy.enabled (default true)")
	fs.IntVar(&f.MaxConnections, "max-connections", 0,
		"Maximum concurrent client connections. Overrides server.max_connections (default 10000)")
	fs.Var(&f.MaxHeaderBytes, "max-header-bytes",
		"Maximum size of a request head, a `size` of 1KiB..16MiB such as 65536 or 64KiB. Overrides server.max_header_bytes (default 64KiB)")
	fs.DurationVar(&f.HeaderTimeout, "header-timeout", 0,
		"Time allowed to receive a request head, e.g. 10s. Overrides server.header_timeout_seconds (default 10s)")
	fs.DurationVar(&f.IdleTimeout, "idle-timeout", 0,
		"Idle keep-alive connections are closed after this long, e.g. 60s. Overrides server.idle_timeout_seconds (default 60s)")
	fs.DurationVar(&f.BodyTimeout, "body-timeout", 0,
		"An upload is aborted when no body byte arrives for this long, e.g. 60s. Overrides server.body_timeout_seconds (default 60s)")
	fs.Var(&f.ProxyTrusted, "proxy-protocol-trusted",
		"Comma-separated `CIDRs` or addresses of load balancers that send a PROXY protocol header (v1 or v2); when set, every S3 connection must come from one and start with a header. "+
			"An empty value turns it off. Overrides server.proxy_protocol.trusted (default empty: off)")
	fs.Var(&f.TrustedProxies, "trusted-proxies",
		"Comma-separated `CIDRs` or addresses of proxies whose X-Forwarded-For header is believed. Overrides server.trusted_proxies (default empty: X-Forwarded-For ignored)")
	fs.DurationVar(&f.UpstreamTimeout, "upstream-timeout", 0,
		"Time allowed for the backend's reply once a request went out; then 504, e.g. 30s. Overrides server.upstream_timeout_seconds (default 5m)")
	f.Limits.register(fs)
	fs.Var(&f.BufferBudget, "buffer-budget",
		"Most request body bytes buffered in user space at once (auto-multipart part buffers, copy buffers); a request beyond it gets 503 SlowDown. "+
			"A `size` such as 256MiB. Overrides server.memory.buffer_budget (default 256MiB)")
}

// ApplyFlags copies the flags that were set on the command line into c.
// It does not validate: call c.Validate afterwards. A nil f, or one never
// registered, changes nothing.
func (c *Config) ApplyFlags(f *Flags) {
	if f == nil || f.fs == nil {
		return
	}
	s := &c.Server
	f.fs.Visit(func(fl *flag.Flag) {
		if p, ok := flagPaths[fl.Name]; ok {
			delete(c.lines, p) // errors must not point at the file's line
		}
		switch fl.Name {
		case "listen":
			s.Address = f.Listen
		case "admin-listen":
			s.AdminAddress = f.AdminListen
		case "loops":
			s.Loops = f.Loops
		case "pipe-size":
			s.ZeroCopy.PipeBufferSize = f.PipeSize
		case "pipe-pool":
			s.PipePool = f.PipePool
		case "splice-threshold":
			s.SpliceThreshold = f.SpliceThreshold
		case "zero-copy":
			s.ZeroCopy.Enabled = f.ZeroCopy
		case "max-connections":
			s.MaxConnections = f.MaxConnections
		case "max-header-bytes":
			s.MaxHeaderBytes = f.MaxHeaderBytes
		case "header-timeout":
			s.HeaderTimeout = f.HeaderTimeout
		case "idle-timeout":
			s.IdleTimeout = f.IdleTimeout
		case "body-timeout":
			s.BodyTimeout = f.BodyTimeout
		case "proxy-protocol-trusted":
			s.ProxyProtocol.Trusted = append([]string(nil), f.ProxyTrusted...)
		case "trusted-proxies":
			s.TrustedProxies = append([]string(nil), f.TrustedProxies...)
		case "upstream-timeout":
			s.UpstreamTimeout = f.UpstreamTimeout
		case "buffer-budget":
			s.Memory.BufferBudget = f.BufferBudget
		}
		f.Limits.apply(&s.Limits, fl.Name)
	})
}

// flagPaths maps each flag to the key path it overrides.
var flagPaths = map[string]string{
	"listen":           "server.address",
	"admin-listen":     "server.admin_address",
	"loops":            "server.loops",
	"pipe-size":        "server.zero_copy.pipe_buffer_size",
	"pipe-pool":        "server.pipe_pool",
	"splice-threshold": "server.splice_threshold",
	"zero-copy":        "server.zero_copy.enabled",
	"max-connections":  "server.max_connections",
	"max-header-bytes": "server.max_header_bytes",
	"header-timeout":   "server.header_timeout_seconds",
	"idle-timeout":     "server.idle_timeout_seconds",
	"body-timeout":     "server.body_timeout_seconds",
	"upstream-timeout": "server.upstream_timeout_seconds",

	"proxy-protocol-trusted": "server.proxy_protocol.trusted",
	"trusted-proxies":        "server.trusted_proxies",
	"buffer-budget":          "server.memory.buffer_budget",
}
