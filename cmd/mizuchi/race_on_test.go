//go:build race

package main

import "testing"

// raceBuild: under `go test -race` the harness builds the gateway with the
// race detector too, and a reported race fails the test that started it.
const raceBuild = true

// rssChecked reports whether a bound on the gateway's RSS applies: not
// under the race detector, whose shadow memory is several times the heap.
func rssChecked(t testing.TB) bool {
	t.Helper()
	t.Log("the RSS bound is not checked: the gateway runs under the race detector")
	return false
}
