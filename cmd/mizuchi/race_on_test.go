//go:build race

package main

// raceBuild: under `go test -race` the harness builds the gateway with the
// race detector too, and a reported race fails the test that started it.
const raceBuild = true
