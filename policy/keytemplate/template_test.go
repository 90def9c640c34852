package keytemplate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2025, 3, 7, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600)) // 2025-03-08 in UTC

func vars() *Vars {
	return &Vars{
		Key:     []byte("photos/a.jpg"),
		Subject: "alice",
		Claims: map[string]any{
			"tenant": "acme", "n": float64(42), "big": float64(1e21), "frac": 1.5, "neg": float64(-7),
			"jn": json.Number("12"), "i": 3, "i64": int64(-4), "u64": uint64(5),
			"org":    map[string]any{"team": "blue", "deep": map[string]any{"x": "y"}},
			"org.id": "flat", "b": true, "arr": []any{"a"}, "nil": nil, "empty": "", "slash": "a/b",
			"dot": ".", "dotdot": "..", "dots": "...", "ctl": "a\x00", "nan": nan(),
			"https://example.com/tenant": "urlclaim",
		},
		Now:   now,
		Route: "uploads",
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestCompile_Failure(t *testing.T) {
	f := func(tmpl, want string) {
		t.Helper()
		tp, err := Compile(tmpl)
		if !errors.Is(err, ErrSyntax) || tp != nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected result for %q; got %v, %v; want ErrSyntax with %q", tmpl, tp, err, want)
		}
	}
	f("", "empty")
	f("{subject}", "{key} is missing")
	f("static", "{key} is missing")
	f("{key", "'{' without '}'")
	f("{key}{", "'{' without '}'")
	f("{{key}}", "'{' without '}'")
	f("{key}}", "'}' without '{'")
	f("}{key}", "'}' without '{'")
	f("{}/{key}", "unknown placeholder {}")
	f("{Key}", "unknown placeholder {Key}")
	f("{user}/{key}", "unknown placeholder {user}")
	f("{claims}/{key}", "unknown placeholder {claims}")
	f("{claims.}/{key}", "invalid claim name")
	f("{claims.a..b}/{key}", "invalid claim name")
	f("{claims.a.}/{key}", "invalid claim name")
	f("./{key}", `"." path segment`)
	f("../{key}", `".." path segment`)
	f("a/../{key}", `".." path segment`)
	f("{key}/..", `".." path segment`)
	f("{subject}/./{key}", `"." path segment`)
	f("{subject}.{key}", "dots only next to a placeholder")
	f("{subject}/...{key}", "dots only next to a placeholder")
	f("{key}...", "dots only next to a placeholder")
	f("a\x00/{key}", "control character")
	f("a\n{key}", "control character")
	f("\xc0\xaf{key}", "invalid UTF-8")
	f(strings.Repeat("x", MaxKeyLen)+"{key}", "longer than 1024 bytes")
}

func TestCompile_Success(t *testing.T) {
	f := func(tmpl string, identity bool) {
		t.Helper()
		tp, err := Compile(tmpl)
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		if tp.IsIdentity() != identity || tp.String() != tmpl {
			t.Fatalf("unexpected template %q; IsIdentity %v; want %v", tp, tp.IsIdentity(), identity)
		}
	}
	f(Default, true)
	f("{key}{key}", false)
	f("{subject}/{key}", false)
	f("incoming/{key}", false)
	f("{key}.bin", false)
	f(".../{key}", false) // "..." is a name, away from a placeholder
	f("a.../{key}", false)
	f("{claims.tenant}/{date}/{key}", false)
	f("{route}/{claims.org.team}/{subject}/{key}", false)
	f("tenants/{claims.https://example.com/tenant}/{key}", false)
}

func TestAppend_Success(t *testing.T) {
	f := func(tmpl string, edit func(v *Vars), want string) {
		t.Helper()
		tp, err := Compile(tmpl)
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		v := vars()
		if edit != nil {
			edit(v)
		}
		got, err := tp.Append([]byte("pre/"), v)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", tmpl, err)
		}
		if string(got) != "pre/"+want {
			t.Fatalf("unexpected key for %q; got %q; want %q", tmpl, got, "pre/"+want)
		}
	}
	f("{key}", nil, "photos/a.jpg")
	f("{key}", func(v *Vars) { v.Key = []byte("../\x00 not checked here") }, "../\x00 not checked here")
	f("{subject}/{key}", nil, "alice/photos/a.jpg")
	f("{claims.tenant}/{date}/{key}", nil, "acme/2025-03-08/photos/a.jpg")
	f("{route}/{key}", nil, "uploads/photos/a.jpg")
	f("{key}/{key}", nil, "photos/a.jpg/photos/a.jpg")
	f("x{subject}y{key}z", nil, "xaliceyphotos/a.jpgz")
	f("{claims.n}/{claims.neg}/{claims.frac}/{claims.big}/{key}", nil, "42/-7/1.5/1e+21/photos/a.jpg")
	f("{claims.jn}-{claims.i}-{claims.i64}-{claims.u64}/{key}", nil, "12-3--4-5/photos/a.jpg")
	f("{claims.org.team}/{key}", nil, "blue/photos/a.jpg")
	f("{claims.org.deep.x}/{key}", nil, "y/photos/a.jpg")
	f("{claims.org.id}/{key}", nil, "flat/photos/a.jpg") // the flat name wins
	f("{claims.https://example.com/tenant}/{key}", nil, "urlclaim/photos/a.jpg")
	f("{claims.dots}/{key}", nil, ".../photos/a.jpg")
	f("{subject}/{key}", func(v *Vars) { v.Subject = "用户 ü" }, "用户 ü/photos/a.jpg")
	f("{date}/{key}", func(v *Vars) { v.Now = time.Date(9, 1, 2, 0, 0, 0, 0, time.UTC) }, "0009-01-02/photos/a.jpg")
	f("{date}/{key}", func(v *Vars) { v.Now = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) }, "9999-12-31/photos/a.jpg")
}

func TestAppend_Failure(t *testing.T) {
	f := func(tmpl string, edit func(v *Vars)) {
		t.Helper()
		tp, err := Compile(tmpl)
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		v := vars()
		if edit != nil {
			edit(v)
		}
		got, err := tp.Append([]byte("keep"), v)
		if err != ErrInvalid || string(got) != "keep" {
			t.Fatalf("unexpected result for %q; got %q, %v; want ErrInvalid", tmpl, got, err)
		}
	}
	f("{subject}/{key}", func(v *Vars) { v.Subject = "" })
	f("{subject}/{key}", func(v *Vars) { v.Subject = "alice/x" })
	f("{subject}/{key}", func(v *Vars) { v.Subject = "." })
	f("{subject}/{key}", func(v *Vars) { v.Subject = ".." })
	f("{subject}/{key}", func(v *Vars) { v.Subject = "a\x00" })
	f("{subject}/{key}", func(v *Vars) { v.Subject = "a\u0085" })
	f("{subject}/{key}", func(v *Vars) { v.Subject = "\xff" })
	f("{route}/{key}", func(v *Vars) { v.Route = ".." })
	f("{route}/{key}", func(v *Vars) { v.Route = "" })
	f("{date}/{key}", func(v *Vars) { v.Now = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })
	f("{date}/{key}", func(v *Vars) { v.Now = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) })
	for _, c := range []string{"missing", "b", "arr", "nil", "empty", "slash", "dot", "dotdot", "ctl", "nan", "org", "org.missing", "org.team.x", "tenant.x"} {
		f("{claims."+c+"}/{key}", nil)
	}
	f("{claims.tenant}/{key}", func(v *Vars) { v.Claims = nil })
	f("{key}/{subject}", func(v *Vars) { v.Subject = "" }) // after the key too
}

func BenchmarkAppend(b *testing.B) {
	tp, _ := Compile("{claims.tenant}/{date}/{subject}/{key}")
	v := vars()
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.Append(dst, v); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppend_NoDotSegments checks the package guarantee exhaustively on
// small inputs: every template of up to 5 tokens that compiles, filled with
// values that pass and a key that passes ValidateKey, yields a key without
// a "." or ".." segment.
func TestAppend_NoDotSegments(t *testing.T) {
	tokens := []string{"{key}", "{subject}", "{claims.tenant}", ".", "/", "x"}
	values := []string{".", "..", "...", "x", ".x", "x."}
	var keys []string
	for _, k := range []string{"x", "/", ".x", "x.", "...", "/x", "x/", "//", "./x", "x/.."} {
		if ValidateKey([]byte(k), len(k)) == nil {
			keys = append(keys, k)
		}
	}
	var walk func(tmpl string, n int)
	checked := 0
	walk = func(tmpl string, n int) {
		if tp, err := Compile(tmpl); err == nil {
			for _, k := range keys {
				for _, s := range values {
					for _, c := range values {
						v := &Vars{Key: []byte(k), Subject: s, Claims: map[string]any{"tenant": c}}
						out, err := tp.Append(nil, v)
						if err == nil && hasDotSegment(out) {
							t.Fatalf("template %q with key %q, subject %q, claim %q gave %q", tmpl, k, s, c, out)
						}
						checked++
					}
				}
			}
		}
		if n == 5 {
			return
		}
		for _, tok := range tokens {
			walk(tmpl+tok, n+1)
		}
	}
	walk("", 0)
	if checked == 0 {
		t.Fatalf("nothing checked")
	}
}
