package fuzz

import (
	"path"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
)

// refKeyError is an obviously correct reimplementation of
// keytemplate.ValidateKey, on strings.
func refKeyError(key string, stored int) error {
	if max(stored, len(key)) > keytemplate.MaxKeyLen {
		return keytemplate.ErrKeyTooLong
	}
	return refKeyRules(key)
}

// refKeyRules is refKeyError without the length limit.
func refKeyRules(key string) error {
	if key == "" || !utf8.ValidString(key) {
		return keytemplate.ErrKeyInvalid
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f || r == 0xfffe || r == 0xffff {
			return keytemplate.ErrKeyInvalid
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return keytemplate.ErrKeyInvalid
		}
	}
	return nil
}

// FuzzValidateKey compares ValidateKey with refKeyError, and requires that a
// valid key never leaves its prefix under dot-segment normalization.
func FuzzValidateKey(f *testing.F) {
	for _, k := range []string{
		"a", "photos/a.jpg", "a//b", "/a", "a/", "...", "日本語", "../../other/x", "a/./b", "\x00",
		"\x7f", "\u0085", "\ufffe", "\uffff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc2",
	} {
		f.Add(k, uint16(len(k)))
	}
	f.Add(strings.Repeat("k", 1024), uint16(1025))

	f.Fuzz(func(t *testing.T, key string, stored uint16) {
		if len(key) > 2048 {
			t.Skip("input too large")
		}
		got := keytemplate.ValidateKey([]byte(key), int(stored))
		if want := refKeyError(key, int(stored)); got != want {
			t.Fatalf("unexpected result for %q (stored %d); got %v; want %v", key, stored, got, want)
		}
		if got == nil {
			if c := path.Clean("/prefix/" + key); c != "/prefix" && !strings.HasPrefix(c, "/prefix/") {
				t.Fatalf("valid key %q leaves its prefix: %q", key, c)
			}
		}
	})
}

// FuzzKeyTemplate fills random templates with random values and requires
// the package's guarantee: when Append succeeds and the client's key is
// valid, the stored key has only valid characters and no "." or ".."
// segment; a failed Append leaves dst unchanged; {key} copies the key.
func FuzzKeyTemplate(f *testing.F) {
	f.Add("{key}", "photos/a.jpg", "alice", "acme")
	f.Add("{subject}/{key}", "a/b", "alice", "acme")
	f.Add("{claims.tenant}/{date}/{key}", "x", "s", "t")
	f.Add("{route}/{claims.tenant}{key}", "/x", "s", "...")
	f.Add("{key}.bin", "a/", "s", "t")
	f.Add("{subject}{key}{subject}", "/", ".x", "t")
	f.Add("x/{claims.n}/{key}/y", "k", "s", "t")

	const maxLen = 512
	now := time.Date(2025, 3, 7, 9, 5, 1, 0, time.UTC)

	f.Fuzz(func(t *testing.T, tmpl, key, subject, claim string) {
		if len(tmpl) > maxLen || len(key) > maxLen || len(subject) > maxLen || len(claim) > maxLen {
			t.Skip("input too large")
		}
		tp, err := keytemplate.Compile(tmpl)
		if err != nil {
			return
		}
		v := &keytemplate.Vars{
			Key: []byte(key), Subject: subject, Now: now, Route: "uploads",
			Claims: map[string]any{"tenant": claim, "n": float64(len(claim)), "org": map[string]any{"team": claim}},
		}
		out, err := tp.Append([]byte("keep"), v)
		if err != nil {
			if string(out) != "keep" {
				t.Fatalf("dst changed on failure: %q", out)
			}
			return
		}
		stored := string(out[len("keep"):])
		if tp.IsIdentity() && stored != key {
			t.Fatalf("identity template changed %q to %q", key, stored)
		}
		if keytemplate.ValidateKey([]byte(key), len(key)) != nil {
			return
		}
		if refKeyRules(stored) != nil {
			t.Fatalf("template %q with key %q, subject %q, claim %q gave the invalid key %q", tmpl, key, subject, claim, stored)
		}
	})
}
