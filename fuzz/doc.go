// Package fuzz holds cross-package fuzz targets. Each target feeds the same
// input to one of Mizuchi's hand-written parsers and to a reference
// implementation (net/http for httpparse) and fails when they disagree on
// an input both accept, when ours accepts what the reference rejects
// outside a documented list of deliberate differences, or when ours panics.
//
// The package has no non-test code. Run a target with
//
//	go test -run x -fuzz FuzzRequestHead -fuzztime 1m ./fuzz/
//
// Crashers found by the fuzzer are kept as seeds in testdata/fuzz/.
package fuzz
