package main

import (
	"fmt"
	"time"
)

// reqInfo describes the request a signer authenticates. Its byte slices are
// borrowed from the worker and valid only during the call.
type reqInfo struct {
	method        string
	host          string // Host header value
	path          []byte // escaped path, no query
	query         []byte // raw query, may be empty
	contentLength int64
	now           time.Time
}

// signer adds authentication headers to one request head. It is called once
// per request on the worker's goroutine (one signer per worker, so it may keep
// scratch buffers), must append complete "Name: value\r\n" lines to dst and
// should not allocate: the generator must not become the bottleneck.
//
// Planned modes: "sigv4" (Authorization with x-amz-content-sha256:
// UNSIGNED-PAYLOAD, derived key cached per day) and "jwt" (a pre-minted bearer
// token). Only "none" exists today.
type signer interface {
	appendAuth(dst []byte, r *reqInfo) []byte
}

// newSigner returns a constructor for the -auth mode, so each worker gets its own.
func newSigner(mode string) (func() signer, error) {
	switch mode {
	case "none":
		return func() signer { return noAuth{} }, nil
	case "sigv4", "jwt":
		return nil, fmt.Errorf("-auth %s is not implemented yet; only -auth none is", mode)
	}
	return nil, fmt.Errorf("unknown -auth mode %q; want none", mode)
}

type noAuth struct{}

func (noAuth) appendAuth(dst []byte, _ *reqInfo) []byte { return dst }
