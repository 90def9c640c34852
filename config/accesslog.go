package config

import "strings"

// AccessLog is the access_log section: one line per request (refusals and
// unparsable heads included), written off the event loops. nil (no
// section) = off, as is enabled: false. The -access-log,
// -access-log-format and -access-log-output flags override it.
type AccessLog struct {
	// Enabled turns the access log on. Default false.
	Enabled bool `yaml:"enabled"`
	// Format is "logfmt" (key=value) or "json". Default "logfmt".
	Format string `yaml:"format"`
	// Output is "stdout", "stderr" or a file path; a file is appended to
	// and reopened on SIGHUP (for logrotate). Default "stderr".
	Output string `yaml:"output"`
	// Sample is the fraction of requests answered below 400 that are
	// logged, 0..1; answers of 400 or more are always logged. Default 1.
	Sample float64 `yaml:"sample"`
}

func (a *AccessLog) setDefaults() {
	*a = AccessLog{Format: "logfmt", Output: "stderr", Sample: 1}
}

// AccessLogFormats are the accepted access_log.format values.
var AccessLogFormats = []string{"logfmt", "json"}

func (c *Config) validateAccessLog(v *validator) {
	a := c.AccessLog
	if a == nil {
		return
	}
	if a.Format != "logfmt" && a.Format != "json" {
		v.errorf("access_log.format", "must be one of %s, got %q", strings.Join(AccessLogFormats, ", "), a.Format)
	}
	if strings.TrimSpace(a.Output) == "" {
		v.errorf("access_log.output", "must be stdout, stderr or a file path")
	}
	if !(a.Sample >= 0 && a.Sample <= 1) {
		v.errorf("access_log.sample", "must be between 0 and 1, got %v", a.Sample)
	}
}
