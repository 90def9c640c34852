package httpparse

import "net/netip"

// ParseAddr parses an IPv4 address in dotted decimal ("203.0.113.7") or an
// IPv6 address in RFC 4291 text form ("2001:db8::1", "::ffff:192.0.2.1")
// from a byte slice, without allocating. It accepts what netip.ParseAddr
// accepts except zones ("fe80::1%eth0"): leading zeros in IPv4 octets are
// rejected, as netip does, since some parsers read them as octal.
func ParseAddr(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			return parseIPv4(b)
		case ':':
			return parseIPv6(b)
		}
	}
	return netip.Addr{}, false
}

// parseIPv4 parses exactly four dotted decimal octets.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	n, ok := parseIPv4Into(b, &ip)
	if !ok || n != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// parseIPv4Into parses four dotted decimal octets at the start of b and
// returns how many bytes they took.
func parseIPv4Into(b []byte, ip *[4]byte) (int, bool) {
	i := 0
	for k := 0; k < 4; k++ {
		if k > 0 {
			if i >= len(b) || b[i] != '.' {
				return 0, false
			}
			i++
		}
		start, v := i, 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			v = v*10 + int(b[i]-'0')
			i++
			if v > 255 || i-start > 3 {
				return 0, false
			}
		}
		if i == start || (i-start > 1 && b[start] == '0') {
			return 0, false
		}
		ip[k] = byte(v)
	}
	return i, true
}

// parseIPv6 is netip's parseIPv6 on bytes, without zones.
func parseIPv6(b []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1 // position of the "::", if any
	i := 0
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis = 0
		i = 2
		if i == len(b) {
			return netip.IPv6Unspecified(), true
		}
	}
	k := 0 // bytes of ip filled
	for k < 16 {
		// One group of up to four hex digits, or an embedded IPv4 address.
		off, v := 0, 0
		for ; i+off < len(b); off++ {
			c := b[i+off]
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 + int(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 + int(c-'a'+10)
			case c >= 'A' && c <= 'F':
				v = v<<4 + int(c-'A'+10)
			default:
				goto end
			}
			if off > 3 {
				return netip.Addr{}, false
			}
		}
	end:
		if off == 0 {
			return netip.Addr{}, false
		}
		if i+off < len(b) && b[i+off] == '.' {
			// An embedded IPv4 address: the last 4 bytes.
			if ellipsis < 0 && k != 12 || k > 12 {
				return netip.Addr{}, false
			}
			var v4 [4]byte
			n, ok := parseIPv4Into(b[i:], &v4)
			if !ok || i+n != len(b) {
				return netip.Addr{}, false
			}
			copy(ip[k:], v4[:])
			k += 4
			i = len(b)
			break
		}
		ip[k], ip[k+1] = byte(v>>8), byte(v)
		k += 2
		i += off
		if i == len(b) {
			break
		}
		if b[i] != ':' || i+1 == len(b) {
			return netip.Addr{}, false
		}
		i++
		if b[i] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = k
			i++
			if i == len(b) {
				break
			}
		}
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	if k < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - k
		for j := k - 1; j >= ellipsis; j-- {
			ip[j+n] = ip[j]
		}
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(ip), true
}
