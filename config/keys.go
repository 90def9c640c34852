package config

import (
	"reflect"
	"sort"
	"strings"
	"time"
)

// Keys lists every configuration key as a YAML path, sorted: sections
// joined with '.', "[]" after a list of sections ("buckets[].name"),
// pointers to sections followed ("sts.enabled"). Lists of scalars, maps
// and durations are leaves. Aliases (the `alias` tag) are not listed.
// docs/CONFIG.md and the reload table of cmd/mizuchi are checked against it.
func Keys() []string {
	fields := keyFields()
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		out = append(out, f.path)
	}
	return out
}

// keyField is one leaf key: its path, Go type and duration unit ("s",
// "ms" or "").
type keyField struct {
	path string
	typ  reflect.Type
	unit string
}

// keyFields returns the leaf keys of Config sorted by path.
func keyFields() []keyField {
	var out []keyField
	walkKeys(reflect.TypeFor[Config](), "", &out)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func walkKeys(t reflect.Type, prefix string, out *[]keyField) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, unit, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		path := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]():
			walkKeys(ft, path+".", out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			walkKeys(ft.Elem(), path+"[].", out)
		default:
			*out = append(*out, keyField{path: path, typ: f.Type, unit: unit})
		}
	}
}
