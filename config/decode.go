package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one configuration problem, located by its key path
// ("buckets[0].s3.endpoint") and, when read from a file, its line.
type Error struct {
	Path string // key path; empty for the document itself
	Line int    // 1-based line in the file, 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	p := e.Path
	if p == "" {
		p = "config"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s: %s (line %d)", p, e.Msg, e.Line)
	}
	return p + ": " + e.Msg
}

// maxErrors bounds how many problems one Parse reports.
const maxErrors = 20

// Load reads the YAML file at path and parses it with the process
// environment (see Parse).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", err)
	}
	c, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("invalid config %s:\n%w", path, err)
	}
	return c, nil
}

// Parse decodes, completes and validates one YAML document. lookupEnv
// resolves ${VAR} references (nil means os.LookupEnv). Every problem found is
// reported, up to 20, each as an *Error joined with errors.Join.
func Parse(data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &Error{Msg: "the configuration is empty"}
		}
		return nil, fmt.Errorf("cannot parse YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, &Error{Line: extra.Line, Msg: "more than one YAML document"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	c := newConfig()
	d := &decoder{lookupEnv: lookupEnv, lines: map[string]int{}}
	d.decode(root, "", reflect.ValueOf(c).Elem(), "")
	if len(d.errs) > 0 {
		return nil, joinErrors(d.errs)
	}
	c.lines = d.lines
	c.finish()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func joinErrors(errs []error) error {
	if len(errs) > maxErrors {
		n := len(errs) - maxErrors
		errs = append(errs[:maxErrors:maxErrors], fmt.Errorf("... and %d more", n))
	}
	return errors.Join(errs...)
}

// decoder walks a yaml.Node tree into Go values by reflection, following the
// `yaml:"key[,unit]"` and `alias:"key[,unit]"` field tags, so every error
// carries its key path. Unit is "s" or "ms" for time.Duration fields.
type decoder struct {
	lookupEnv func(string) (string, bool)
	errs      []error
	lines     map[string]int
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{Path: path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[Size]()
)

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value, unit string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct:
		d.mapping(n, path, v)
		return
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		if isNull(n) {
			return
		}
		p := reflect.New(t.Elem())
		if df, ok := p.Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.decode(n, path, p.Elem(), unit)
		v.Set(p)
		return
	case t.Kind() == reflect.Slice:
		d.sequence(n, path, v)
		return
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		d.stringMap(n, path, v)
		return
	}
	s, null, ok := d.scalar(n, path, t)
	if !ok || null {
		return
	}
	switch {
	case t == durationType:
		dur, err := parseDuration(s, unit)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return
		}
		v.SetInt(int64(dur))
	case t == sizeType:
		sz, err := ParseSize(s)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return
		}
		v.SetInt(int64(sz))
	case t.Kind() == reflect.String:
		v.SetString(s)
	case t.Kind() == reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			d.errorf(n, path, "invalid boolean %q: want true or false", s)
			return
		}
		v.SetBool(b)
	case t.Kind() == reflect.Int:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
		if err != nil {
			d.errorf(n, path, "invalid integer %q", s)
			return
		}
		v.SetInt(i)
	case t.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n, path, "invalid number %q", s)
			return
		}
		v.SetFloat(f)
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			d.errorf(n, path, "invalid boolean %q: want true or false", s)
			return
		}
		v.Set(reflect.ValueOf(&b))
	default:
		panic("config: no decoder for " + t.String())
	}
}

// scalar returns the environment-expanded value of a scalar node. null is
// true for an empty or null value (the key keeps its default), including a
// plain value that expands to nothing, as `port: ${PORT:-}` would read in the
// original text-substituting loader.
func (d *decoder) scalar(n *yaml.Node, path string, t reflect.Type) (s string, null, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "must be %s, not %s", typeName(t), kindName(n))
		return "", false, false
	}
	if isNull(n) {
		return "", true, true
	}
	s, err := expandEnv(n.Value, d.lookupEnv)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return "", false, false
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 &&
		s != n.Value && isNullWord(s) {
		return "", true, true
	}
	return s, false, true
}

func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "must be a mapping, not %s", kindName(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[int]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			d.errorf(kn, path, "keys must be strings, not %s", kindName(kn))
			continue
		}
		key := kn.Value
		p := joinPath(path, key)
		f, ok := fields[key]
		if !ok {
			msg := "unknown key"
			if s := suggest(key, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(kn, p, "%s", msg)
			continue
		}
		if prev, dup := seen[f.index]; dup {
			if prev == key {
				d.errorf(kn, p, "duplicate key")
			} else {
				d.errorf(kn, p, "conflicts with %s", joinPath(path, prev))
			}
			continue
		}
		seen[f.index] = key
		d.lines[p] = kn.Line
		d.lines[joinPath(path, f.primary)] = kn.Line
		d.decode(vn, p, v.Field(f.index), f.unit)
	}
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		return
	}
	et := v.Type().Elem()
	if n.Kind == yaml.ScalarNode && et.Kind() == reflect.String {
		// A single string where a list of strings is expected
		// (audience: "x").
		s, null, ok := d.scalar(n, path, et)
		if ok && !null {
			v.Set(reflect.ValueOf([]string{s}))
		}
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "must be a list, not %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, en := range n.Content {
		e := out.Index(i)
		if df, ok := e.Addr().Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.decode(en, fmt.Sprintf("%s[%d]", path, i), e, "")
	}
	v.Set(out)
}

// stringMap decodes a mapping with free-form keys (sts required_claims)
// into a map keyed by string. Keys are taken literally (no ${VAR}); each
// value is decoded as the map's element type.
func (d *decoder) stringMap(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "must be a mapping, not %s", kindName(n))
		return
	}
	t := v.Type()
	out := reflect.MakeMapWithSize(t, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			d.errorf(kn, path, "keys must be strings, not %s", kindName(kn))
			continue
		}
		p := joinPath(path, kn.Value)
		k := reflect.ValueOf(kn.Value).Convert(t.Key())
		if out.MapIndex(k).IsValid() {
			d.errorf(kn, p, "duplicate key")
			continue
		}
		d.lines[p] = kn.Line
		e := reflect.New(t.Elem()).Elem()
		d.decode(vn, p, e, "")
		out.SetMapIndex(k, e)
	}
	v.Set(out)
}

type fieldInfo struct {
	index   int
	unit    string
	primary string // the field's main key, for aliases
}

func structFields(t reflect.Type) map[string]fieldInfo {
	m := make(map[string]fieldInfo, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		name, unit, _ := strings.Cut(tag, ",")
		m[name] = fieldInfo{index: i, unit: unit, primary: name}
		if a := f.Tag.Get("alias"); a != "" {
			an, au, _ := strings.Cut(a, ",")
			m[an] = fieldInfo{index: i, unit: au, primary: name}
		}
	}
	return m
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isNullWord(s string) bool {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// parseDuration reads a number of units ("10", "1.5") or a Go duration
// ("10s", "1m30s"). Negative durations are refused.
func parseDuration(s, unit string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var dur time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		u := time.Second
		if unit == "ms" {
			u = time.Millisecond
		}
		if math.Abs(f*float64(u)) > math.MaxInt64 {
			return 0, fmt.Errorf("invalid duration %q: too large", s)
		}
		dur = time.Duration(f * float64(u))
	} else {
		var err error
		if dur, err = time.ParseDuration(s); err != nil {
			word := "seconds"
			if unit == "ms" {
				word = "milliseconds"
			}
			return 0, fmt.Errorf("invalid duration %q: want a number of %s or a duration like \"10s\"", s, word)
		}
	}
	if dur < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return dur, nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration"
	case t == sizeType:
		return "a size"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool, reflect.Pointer:
		return "a boolean"
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Map:
		return "a mapping"
	}
	return t.String()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "an empty document"
}

// suggest returns the known key closest to an unknown one, if it is close.
func suggest(key string, fields map[string]fieldInfo) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if dd := editDistance(key, k); dd < bestD {
			best, bestD = k, dd
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
