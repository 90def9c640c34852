package config

import (
	"bufio"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// configDoc is the operator's configuration reference.
const configDoc = "../docs/CONFIG.md"

// sharedSections are documented once: a key under the first prefix is
// documented by the row of the same key under the second.
var sharedSections = [][2]string{
	{"buckets[].authz.engines[].opa.", "buckets[].authz.opa."},
	{"buckets[].authz.engines[].openfga.", "buckets[].authz.openfga."},
	{"sts.jwt.", "buckets[].auth.jwt."},
}

// docType is how docs/CONFIG.md names the type of a key.
func docType(f keyField) string {
	switch {
	case f.typ == reflect.TypeFor[time.Duration]() && f.unit == "ms":
		return "milliseconds"
	case f.typ == reflect.TypeFor[time.Duration]():
		return "seconds"
	case f.typ == reflect.TypeFor[Size]():
		return "size"
	case f.typ == reflect.TypeFor[[]string]():
		return "list of strings"
	case f.typ.Kind() == reflect.Map:
		return "map"
	case f.typ.Kind() == reflect.Bool, f.typ.Kind() == reflect.Pointer && f.typ.Elem().Kind() == reflect.Bool:
		return "bool"
	case f.typ.Kind() == reflect.Int:
		return "int"
	case f.typ.Kind() == reflect.Float64:
		return "number"
	case f.typ.Kind() == reflect.String:
		return "string"
	}
	return f.typ.String()
}

// docRow is one table row of docs/CONFIG.md: | `key` | type | default | example | meaning |
type docRow struct {
	line  int
	cells []string
}

func readConfigDoc(t *testing.T) (map[string]docRow, string) {
	t.Helper()
	data, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatalf("cannot read %s: %v", configDoc, err)
	}
	rows := map[string]docRow{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		key := strings.Trim(cells[0], "`")
		if _, dup := rows[key]; dup {
			t.Errorf("%s:%d: %s documented twice", configDoc, n, key)
		}
		rows[key] = docRow{line: n, cells: cells}
	}
	return rows, string(data)
}

// TestConfigDoc: docs/CONFIG.md has one row per configuration key, with
// the key's type, a default, an example and a meaning, and no row for a
// key that does not exist.
func TestConfigDoc(t *testing.T) {
	rows, text := readConfigDoc(t)
	documented := map[string]bool{}
	var missing []string
	for _, f := range keyFields() {
		key := f.path
		for _, s := range sharedSections {
			if rest, ok := strings.CutPrefix(key, s[0]); ok {
				key = s[1] + rest
				if !strings.Contains(text, "`"+strings.TrimSuffix(s[0], ".")+"`") {
					t.Errorf("%s does not say that %s takes the keys of %s", configDoc, s[0], s[1])
				}
			}
		}
		r, ok := rows[key]
		if !ok {
			missing = append(missing, f.path)
			continue
		}
		documented[key] = true
		if len(r.cells) != 5 {
			t.Errorf("%s:%d: %s: want 5 cells (key, type, default, example, meaning); got %d", configDoc, r.line, key, len(r.cells))
			continue
		}
		if want := docType(f); r.cells[1] != want {
			t.Errorf("%s:%d: %s: unexpected type; got %q; want %q", configDoc, r.line, key, r.cells[1], want)
		}
		for i, c := range r.cells[2:] {
			if c == "" {
				t.Errorf("%s:%d: %s: empty %s", configDoc, r.line, key, []string{"default", "example", "meaning"}[i])
			}
		}
	}
	var stale []string
	for k, r := range rows {
		if !documented[k] {
			stale = append(stale, k+" (line "+strconv.Itoa(r.line)+")")
		}
	}
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("keys missing from %s: %q", configDoc, missing)
	}
	if len(stale) > 0 {
		t.Errorf("%s documents keys that do not exist: %q", configDoc, stale)
	}
}
