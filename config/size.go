package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a byte count. In YAML and on the command line it is an integer
// ("1048576", "0x100000", "1_048_576") or a number with a unit, optionally
// separated by a space and matched case-insensitively:
//
//	B                 1
//	KB, MB, GB, TB    10^3, 10^6, 10^9, 10^12 (SI, as VictoriaMetrics' flags)
//	KiB, MiB, GiB, TiB 2^10, 2^20, 2^30, 2^40
//
// so "64KiB" is 65536 and "1MB" is 1000000. Fractions are allowed when the
// result is a whole number of bytes ("1.5KiB"). Sizes are never negative.
// *Size implements flag.Value.
type Size int64

var sizeUnits = []struct {
	name string
	mult float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"b", 1},
}

// ParseSize parses a size as described at Size.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("invalid size %q: empty", s)
	}
	if n, err := strconv.ParseInt(t, 0, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("invalid size %q: must not be negative", s)
		}
		return Size(n), nil
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.' || t[i] == '_' || t[i] == '-' || t[i] == '+') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult := 0.0
	for _, u := range sizeUnits {
		if unit == u.name {
			mult = u.mult
			break
		}
	}
	if mult == 0 || num == "" {
		return 0, fmt.Errorf("invalid size %q: want bytes or a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", s)
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(num, "_", ""), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: bad number %q", s, num)
	}
	if f < 0 {
		return 0, fmt.Errorf("invalid size %q: must not be negative", s)
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("invalid size %q: not a whole number of bytes", s)
	}
	return Size(v), nil
}

// String formats the size with the largest binary unit that divides it
// exactly ("64KiB", "1MiB", "1000000").
func (s Size) String() string {
	n := int64(s)
	for _, u := range []struct {
		name  string
		shift uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// Set implements flag.Value.
func (s *Size) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = n
	return nil
}
