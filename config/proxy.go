package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Client addresses behind a load balancer: PROXY protocol on the S3
// listener (server.proxy_protocol) and X-Forwarded-For from trusted
// proxies (server.trusted_proxies). Both are lists of CIDR prefixes or
// single addresses; an empty list turns the feature off. Neither is
// reloaded on SIGHUP: changing them needs a restart.

// ProxyProtocol is server.proxy_protocol.
type ProxyProtocol struct {
	// Trusted lists the networks (CIDR "10.0.0.0/8" or a single address
	// "192.0.2.10") of the load balancers that send a PROXY protocol header
	// (v1 or v2). When the list is not empty, every connection to the S3
	// listener must come from one of them and start with a valid header,
	// which sets the connection's client address; other connections are
	// closed unserved. Default: empty (off, no header expected).
	Trusted []string `yaml:"trusted"`
}

// Enabled reports whether PROXY protocol headers are expected.
func (p *ProxyProtocol) Enabled() bool { return len(p.Trusted) > 0 }

// ParsePrefixes parses a list of CIDR prefixes or single addresses (a
// single address is a /32 or /128). IPv4-mapped IPv6 addresses are
// unmapped, prefixes masked.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q: want an address/bits prefix like \"10.0.0.0/8\"", s)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid address %q: want an IP address or a CIDR prefix like \"10.0.0.0/8\"", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// validateClientAddr checks server.proxy_protocol.trusted and
// server.trusted_proxies.
func (c *Config) validateClientAddr(v *validator) {
	lists := []struct {
		key  string
		list []string
	}{
		{"server.proxy_protocol.trusted", c.Server.ProxyProtocol.Trusted},
		{"server.trusted_proxies", c.Server.TrustedProxies},
	}
	for _, l := range lists {
		for i, s := range l.list {
			if _, err := parsePrefix(s); err != nil {
				v.errorf(fmt.Sprintf("%s[%d]", l.key, i), "%v", err)
			}
		}
	}
}

// commaList is a flag holding a comma-separated list; an empty value is an
// empty list.
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }

func (l *commaList) Set(s string) error {
	*l = (*l)[:0]
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			*l = append(*l, e)
		}
	}
	return nil
}
