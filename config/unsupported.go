package config

// Unsupported lists, by key path, features that are configured but not
// implemented in this build. The binary must refuse to start (or to reload)
// when it is not empty rather than serve without them: a route configured
// with authentication, authorization or upload limits must never be served
// without them. Every feature of the format is implemented today (upload
// key templates, limits and sealed upload ids included), so the list is
// empty; the check stays for features added later.
func (c *Config) Unsupported() []string {
	return nil
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
