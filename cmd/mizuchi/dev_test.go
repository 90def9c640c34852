package main

import "testing"

// TestDialable: the development banner prints URLs a client can use.
func TestDialable(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := dialable(in); got != want {
			t.Fatalf("unexpected address; got %q; want %q", got, want)
		}
	}
	f("127.0.0.1:8080", "127.0.0.1:8080")
	f("0.0.0.0:8080", "127.0.0.1:8080")
	f("[::]:8080", "127.0.0.1:8080")
	f(":8080", "127.0.0.1:8080")
	f("10.1.2.3:80", "10.1.2.3:80")
	f("gw.example.com:8080", "gw.example.com:8080")
}
