package main

import "testing"

func TestParseSize_Success(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, err := parseSize(in)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", in, err)
		}
		if got != want {
			t.Fatalf("unexpected size for %q; got %d; want %d", in, got, want)
		}
	}
	f("0", 0)
	f("1", 1)
	f("1024", 1024)
	f("17B", 17)
	f("1KiB", 1024)
	f("64MiB", 64<<20)
	f("2GiB", 2<<30)
	f("1KB", 1000)
	f("5MB", 5e6)
	f("1GB", 1e9)
}

func TestParseSize_Failure(t *testing.T) {
	f := func(in string) {
		t.Helper()
		if got, err := parseSize(in); err == nil {
			t.Fatalf("expecting error for %q; got %d", in, got)
		}
	}
	f("")
	f("KiB")
	f("abc")
	f("-1")
	f("-1KiB")
	f("+1")
	f("1.5MiB")
	f("1TiB")
	f("1 KiB ")
	f("99999999999GiB")
}

func TestFormatSize(t *testing.T) {
	f := func(in int64, want string) {
		t.Helper()
		if got := formatSize(in); got != want {
			t.Fatalf("unexpected result for %d; got %q; want %q", in, got, want)
		}
	}
	f(0, "0B")
	f(1000, "1000B")
	f(1024, "1KiB")
	f(64<<20, "64MiB")
	f(3<<30, "3GiB")
	f(1536, "1536B")
}
