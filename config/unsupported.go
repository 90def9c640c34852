package config

import "fmt"

// Unsupported lists, by key path, features that are configured but not
// implemented in this build. The binary must refuse to start (or to reload)
// when it is not empty rather than serve without them: a route configured
// with authentication must never be served unauthenticated.
func (c *Config) Unsupported() []string {
	var out []string
	for i := range c.Buckets {
		b := &c.Buckets[i]
		if b.Authz.Enabled {
			out = append(out, fmt.Sprintf("buckets[%d].authz.enabled: authorization (%s) is not implemented in this build (bucket %q)", i, b.Authz.Type, b.Name))
		}
	}
	return out
}

// Ignored lists, by key path, settings accepted for compatibility with the
// original format that have no effect in this build; the binary should log
// them as warnings.
func (c *Config) Ignored() []string {
	var out []string
	if c.Tracing.Enabled {
		out = append(out, "tracing.enabled: OpenTelemetry tracing is not implemented in this build; no traces are exported")
	}
	return out
}
