//go:build !race

package main

import "testing"

// TestBuildHeadNoAllocs: building and authenticating a request head must not
// allocate once the worker's buffers have grown, so that the generator is not
// the bottleneck.
func TestBuildHeadNoAllocs(t *testing.T) {
	f := func(a *authConfig) {
		t.Helper()
		w := authWorker(t, a)
		w.buildHead() // grow buffers, derive and cache the signing key
		n := testing.AllocsPerRun(200, func() {
			w.seq++
			w.buildHead()
		})
		if n != 0 {
			t.Fatalf("unexpected allocations per head with -auth %s; got %v; want 0", a.mode, n)
		}
	}
	f(&authConfig{mode: "none"})
	f(&authConfig{mode: "sigv4", region: "us-east-1", accessKey: "benchak", secretKey: "benchsk"})
	f(&authConfig{mode: "jwt", jwtSecret: "s3cret"})
}
