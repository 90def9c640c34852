//go:build !race

package main

import "testing"

// raceBuild: see race_on_test.go.
const raceBuild = false

// rssChecked reports whether a bound on the gateway's RSS applies (see
// race_on_test.go).
func rssChecked(testing.TB) bool { return true }
