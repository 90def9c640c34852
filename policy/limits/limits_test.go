package limits

import (
	"strings"
	"testing"
)

func TestMatchContentType_Success(t *testing.T) {
	f := func(patterns, ct string) {
		t.Helper()
		var ps []string
		if patterns != "" {
			ps = strings.Split(patterns, ",")
		}
		if !MatchContentType(ps, []byte(ct)) {
			t.Fatalf("%q must match %q", patterns, ct)
		}
	}
	f("", "")
	f("", "anything at all")
	f("*", "")
	f("*/*", "")
	f("*", "image/png")
	f("*/*", "x/y")
	f("image/*", "image/png")
	f("image/*", "IMAGE/PNG")
	f("Image/PNG", "image/png")
	f("image/*", "image/svg+xml; charset=utf-8")
	f("image/*", "  image/png  ;q=1")
	f("image/*", "\timage/png")
	f("application/pdf", "application/pdf")
	f("text/plain,application/pdf", "application/pdf")
	f("application/vnd.ms-*", "application/vnd.ms-excel")
	f("application/*+json", "application/ld+json")
	f("application/*+json", "application/+json")
	f("*/json", "application/json")
	f("a*b*c/*", "axxbyyc/z")
	f("image/*", "image/")
}

func TestMatchContentType_Failure(t *testing.T) {
	f := func(patterns, ct string) {
		t.Helper()
		if MatchContentType(strings.Split(patterns, ","), []byte(ct)) {
			t.Fatalf("%q must not match %q", patterns, ct)
		}
	}
	f("image/*", "")
	f("image/*", "   ")
	f("image/*", "; charset=utf-8")
	f("image/*", "image")
	f("image/*", "imagex/png")
	f("image/*", "text/plain")
	f("image/*", "image/png/x")
	f("image/png", "image/pngx")
	f("image/png", "image/pn")
	f("application/pdf", "application/pdf2")
	f("application/*+json", "application/json")
	f("*/json", "application/xml")
	f("image/*,application/pdf", "text/html")
	f("a*b*c/*", "axxbyy/z")
}

func TestValidatePattern(t *testing.T) {
	for _, p := range []string{"*", "*/*", "image/*", "application/pdf", "application/vnd.ms-*", "application/*+json", "Text/Plain"} {
		if err := ValidatePattern(p); err != nil {
			t.Fatalf("unexpected error for %q: %s", p, err)
		}
	}
	for _, p := range []string{"", "image", "/png", "image/", "image/png/x", "image/png; charset=utf-8", "image /png", "image/p\"ng", "*x"} {
		if err := ValidatePattern(p); err == nil {
			t.Fatalf("pattern %q must be refused", p)
		}
	}
}

func TestLimits(t *testing.T) {
	f := func(got, want int64) {
		t.Helper()
		if got != want {
			t.Fatalf("unexpected limit; got %d; want %d", got, want)
		}
	}
	f(ObjectLimit(0), 5<<40)
	f(ObjectLimit(-1), 5<<40)
	f(ObjectLimit(1<<20), 1<<20)
	f(ObjectLimit(6<<40), 5<<40)
	f(PartLimit(0), 5<<30)
	f(PartLimit(100<<20), 100<<20)
	f(PartLimit(6<<30), 5<<30)
	if CheckSize(10, 10) != nil || CheckSize(11, 10) != ErrTooLarge || CheckSize(-1, 10) != nil {
		t.Fatalf("unexpected CheckSize results")
	}
}
