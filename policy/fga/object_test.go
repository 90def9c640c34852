package fga

import (
	"errors"
	"strings"
	"testing"
)

func TestTemplate_Success(t *testing.T) {
	f := func(tmpl, bucket, key, subject, want string) {
		t.Helper()
		tp, err := parseTemplate(tmpl)
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		if got := string(tp.expand(nil, bucket, key, subject)); got != want {
			t.Fatalf("unexpected expansion of %q; got %q; want %q", tmpl, got, want)
		}
	}
	f("bucket:{bucket}", "uploads", "a/b/c.txt", "alice", "bucket:uploads")
	f("object:{bucket}/{key}", "uploads", "a/b/c.txt", "alice", "object:uploads/a/b/c.txt")
	f("folder:{bucket}/{prefix}", "uploads", "a/b/c.txt", "alice", "folder:uploads/a/b")
	f("folder:{bucket}/{prefix}", "uploads", "c.txt", "alice", "folder:uploads/")
	f("folder:{prefix}", "uploads", "/c.txt", "alice", "folder:")
	f("home:{subject}", "uploads", "k", "alice", "home:alice")
	f("x:{bucket}{key}{prefix}{subject}lit", "b", "p/k", "s", "x:bp/kpslit")
	f("x:plain", "b", "k", "s", "x:plain")
	f("x:日本-{key}", "b", "語", "s", "x:日本-語")
}

func TestTemplate_Failure(t *testing.T) {
	f := func(tmpl, want string) {
		t.Helper()
		_, err := parseTemplate(tmpl)
		if !errors.Is(err, errTemplate) || !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error for %q; got %v; want substring %q", tmpl, err, want)
		}
	}
	f("", `want "<type>:<id>"`)
	f("bucket", `want "<type>:<id>"`)
	f(":{bucket}", `want "<type>:<id>"`)
	f("bucket:", `want "<type>:<id>"`)
	f("{bucket}:x", `want "<type>:<id>"`)
	f("a b:x", `want "<type>:<id>"`)
	f("bucket:{bucket", "unclosed placeholder")
	f("bucket:{Bucket}", "unknown placeholder {Bucket}")
	f("bucket:{}", "unknown placeholder {}")
	f("bucket:a:b", `invalid character in "a:b"`)
	f("bucket:a#b", `invalid character in "a#b"`)
	f("bucket:a b", `invalid character in "a b"`)
	f("bucket:a}", `invalid character in "a}"`)
}

func TestCheckObject(t *testing.T) {
	f := func(object, want string) {
		t.Helper()
		if got := checkObject(object, len("bucket:")); !strings.Contains(got, want) || (want == "") != (got == "") {
			t.Fatalf("unexpected reason for %q; got %q; want %q", object, got, want)
		}
	}
	f("bucket:uploads", "")
	f("bucket:a/b/ c", "not a valid OpenFGA object id")
	f("bucket:a:b", "not a valid OpenFGA object id")
	f("bucket:a#rel", "not a valid OpenFGA object id")
	f("bucket:a\tb", "not a valid OpenFGA object id")
	f("bucket:a\x00b", "not a valid OpenFGA object id")
	f("bucket:a\u00a0b", "not a valid OpenFGA object id") // no-break space
	f("bucket:a\xffb", "not a valid OpenFGA object id")
	f("bucket:", "not a valid OpenFGA object id")
	f("bucket:*", "not a valid OpenFGA object id")
	f("bucket:"+strings.Repeat("x", 249), "")
	f("bucket:"+strings.Repeat("x", 250), "longer than OpenFGA allows")
	f("bucket:"+strings.Repeat("語", 249), "")
}
