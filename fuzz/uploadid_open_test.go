package fuzz

import (
	"bytes"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/policy/uploadid"
)

// FuzzOpenUploadID complements FuzzSealUploadID (round trip and mutations
// of tokens it made) with what a client can send: arbitrary bytes as a
// token never open, never panic and leave dst as it was; and with secret
// rotation, a token sealed under the old secret opens under [new, old],
// one sealed under the new secret does not open under the old alone, and
// Seal and Open append after what dst already holds.
func FuzzOpenUploadID(f *testing.F) {
	f.Add([]byte(""), "2~kTqYiSN6nVRLvDHyLB5hBR2WIjV0ZvT", "uploads", "photos/a.jpg", "alice")
	f.Add([]byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "x", "r", "k", "")
	f.Add([]byte("not base64 !!"), "id", "", "", "s")
	f.Add(bytes.Repeat([]byte("_-"), uploadid.MaxTokenLen), "id", "r", "k", "s")

	oldS, err := seal.New([][]byte{[]byte("fuzz-secret-old-0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	rotated, err := seal.New([][]byte{[]byte("fuzz-secret-new-0123456789abcdef"), []byte("fuzz-secret-old-0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2025, 3, 7, 9, 5, 1, 0, time.UTC)
	exp := now.Add(time.Hour)

	f.Fuzz(func(t *testing.T, token []byte, id, route, key, subject string) {
		if len(token) > 2*uploadid.MaxTokenLen || len(id) > uploadid.MaxBackendID || len(route) > 256 || len(key) > 1100 || len(subject) > 256 {
			t.Skip("input too large")
		}
		o := &uploadid.Owner{Route: route, Key: []byte(key), Subject: subject}
		for _, s := range []*seal.Sealer{oldS, rotated} {
			dst := append(make([]byte, 0, 64), "keep"...)
			got, err := uploadid.Open(dst, s, token, o, now)
			if err != uploadid.ErrNoSuchUpload || string(got) != "keep" {
				t.Fatalf("arbitrary token opened; got %q, %v; want ErrNoSuchUpload\ntoken %q", got, err, token)
			}
		}
		if id == "" {
			return
		}
		tok, err := uploadid.Seal(nil, oldS, []byte(id), o, exp)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if got, err := uploadid.Open([]byte("p:"), rotated, tok, o, now); err != nil || string(got) != "p:"+id {
			t.Fatalf("old token under the rotated secrets; got %q, %v; want %q", got, err, "p:"+id)
		}
		tok2, err := uploadid.Seal([]byte("prefix:"), rotated, []byte(id), o, exp)
		if err != nil || !bytes.HasPrefix(tok2, []byte("prefix:")) {
			t.Fatalf("Seal after a prefix; got %q, %v", tok2, err)
		}
		tok2 = tok2[len("prefix:"):]
		if got, err := uploadid.Open(nil, rotated, tok2, o, now); err != nil || string(got) != id {
			t.Fatalf("new token; got %q, %v; want %q", got, err, id)
		}
		if _, err := uploadid.Open(nil, oldS, tok2, o, now); err != uploadid.ErrNoSuchUpload {
			t.Fatalf("new token opened with the old secret alone; got %v; want ErrNoSuchUpload", err)
		}
	})
}
