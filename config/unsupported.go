package config

import "fmt"

// Unsupported lists, by key path, combinations of settings this build
// cannot serve safely. The binary must refuse to start (or to reload) when
// it is not empty rather than serve them unprotected. Today: STS
// credentials are verified on routes with authentication only, so a role
// that names a route without it is listed (its sessions would not be
// checked at all).
func (c *Config) Unsupported() []string {
	var out []string
	if s := c.STS; s != nil && s.Enabled {
		anonymous := map[string]bool{}
		for i := range c.Buckets {
			if !c.Buckets[i].Auth.Enabled {
				anonymous[c.Buckets[i].Name] = true
			}
		}
		for i, r := range s.Roles {
			for j, name := range r.Routes {
				if anonymous[name] {
					out = append(out, fmt.Sprintf("sts.roles[%d].routes[%d]: bucket %q has auth disabled; "+
						"STS credentials are served on authenticated routes only (enable auth on it)", i, j, name))
				}
			}
		}
	}
	return out
}

// Ignored lists, by key path, settings accepted for compatibility with the
// original format that have no effect in this build; the binary should log
// them as warnings.
func (c *Config) Ignored() []string {
	return nil // none today: tracing is implemented
}
