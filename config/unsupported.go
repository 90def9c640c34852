package config

// Unsupported lists, by key path, features that are configured but not
// implemented in this build. The binary must refuse to start (or to reload)
// when it is not empty rather than serve without them: a route configured
// with authentication, authorization or upload limits must never be served
// without them. The sts section is parsed and validated, but its endpoint
// is not served by this build yet: a configuration that enables it is
// refused rather than handing out nothing.
func (c *Config) Unsupported() []string {
	if c.STS != nil && c.STS.Enabled {
		return []string{"sts.enabled: the AssumeRoleWithWebIdentity endpoint is not served by this build"}
	}
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
