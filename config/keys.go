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
// Docs and the reload table are checked against it.
func Keys() []string {
	var out []string
	walkKeys(reflect.TypeFor[Config](), "", &out)
	sort.Strings(out)
	return out
}

func walkKeys(t reflect.Type, prefix string, out *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
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
			*out = append(*out, path)
		}
	}
}
