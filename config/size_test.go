package config

import (
	"strings"
	"testing"
)

func TestParseSize_Success(t *testing.T) {
	f := func(in string, want Size) {
		t.Helper()
		got, err := ParseSize(in)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", in, err)
		}
		if got != want {
			t.Fatalf("unexpected size for %q; got %d; want %d", in, got, want)
		}
	}
	f("0", 0)
	f("512", 512)
	f("1_048_576", 1<<20)
	f("0x100000", 1<<20)
	f("512B", 512)
	f("64KiB", 64<<10)
	f("64 KiB", 64<<10)
	f("1MiB", 1<<20)
	f("1mib", 1<<20)
	f("1GiB", 1<<30)
	f("2TiB", 2<<40)
	f("1KB", 1000)
	f("1MB", 1000000)
	f("1GB", 1000000000)
	f("1.5KiB", 1536)
	f(" 4KiB ", 4096)
}

func TestParseSize_Failure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := ParseSize(in)
		if err == nil {
			t.Fatalf("expecting an error for %q", in)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
	}
	f("", "empty")
	f("-1", "negative")
	f("-1KiB", "negative")
	f("1K", "want bytes or a number with")
	f("MiB", "want bytes or a number with")
	f("1XB", "want bytes or a number with")
	f("1.1B", "whole number")
	f("1..2KiB", "bad number")
	f("99999999TiB", "too large")
}

func TestSizeString(t *testing.T) {
	f := func(in Size, want string) {
		t.Helper()
		if got := in.String(); got != want {
			t.Fatalf("unexpected string; got %q; want %q", got, want)
		}
	}
	f(0, "0")
	f(512, "512")
	f(1000000, "1000000")
	f(64<<10, "64KiB")
	f(1<<20, "1MiB")
	f(3<<30, "3GiB")
}
