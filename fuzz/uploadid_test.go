package fuzz

import (
	"bytes"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/policy/uploadid"
)

// FuzzSealUploadID seals random backend ids for random owners and requires
// that the token opens to the same id for the same owner before expiry,
// and fails after any single-byte change, any truncation, for any other
// owner and at expiry.
func FuzzSealUploadID(f *testing.F) {
	f.Add("2~kTqYiSN6nVRLvDHyLB5hBR2WIjV0ZvT", "uploads", "photos/a.jpg", "alice", uint16(0), byte(1), uint16(0))
	f.Add("VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA", "r", "日本語/ファイル", "", uint16(40), byte(0x80), uint16(17))
	f.Add("x", "", "k", "s", uint16(65535), byte(0xff), uint16(65535))
	f.Add("", "r", "k", "s", uint16(1), byte(2), uint16(3))

	const maxLen = 1100
	s, err := seal.New([][]byte{[]byte("fuzz-secret-new-0123456789abcdef"), []byte("fuzz-secret-old-0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2025, 3, 7, 9, 5, 1, 0, time.UTC)
	exp := now.Add(time.Hour)

	f.Fuzz(func(t *testing.T, id, route, key, subject string, pos uint16, delta byte, cut uint16) {
		if len(id) > maxLen || len(route) > 256 || len(key) > maxLen || len(subject) > 256 {
			t.Skip("input too large")
		}
		o := &uploadid.Owner{Route: route, Key: []byte(key), Subject: subject}
		tok, err := uploadid.Seal(nil, s, []byte(id), o, exp)
		if len(id) == 0 || len(id) > uploadid.MaxBackendID {
			if err != uploadid.ErrBackendID {
				t.Fatalf("unexpected error for a %d-byte backend id; got %v; want ErrBackendID", len(id), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		if len(tok) > uploadid.MaxTokenLen {
			t.Fatalf("token of %d bytes; want at most %d", len(tok), uploadid.MaxTokenLen)
		}
		got, err := uploadid.Open(nil, s, tok, o, now)
		if err != nil || string(got) != id {
			t.Fatalf("unexpected Open result; got %q, %v; want %q", got, err, id)
		}
		mustFail := func(what string, tok []byte, o *uploadid.Owner, now time.Time) {
			t.Helper()
			if got, err := uploadid.Open([]byte("keep"), s, tok, o, now); err != uploadid.ErrNoSuchUpload || string(got) != "keep" {
				t.Fatalf("%s: unexpected Open result; got %q, %v; want ErrNoSuchUpload", what, got, err)
			}
		}
		if delta == 0 {
			delta = 1
		}
		m := bytes.Clone(tok)
		m[int(pos)%len(m)] ^= delta
		mustFail("mutated token", m, o, now)
		mustFail("truncated token", tok[:int(cut)%len(tok)], o, now)
		mustFail("extended token", append(bytes.Clone(tok), tok[int(pos)%len(tok)]), o, now)
		mustFail("other route", tok, &uploadid.Owner{Route: route + "x", Key: o.Key, Subject: subject}, now)
		mustFail("other key", tok, &uploadid.Owner{Route: route, Key: append([]byte(key), 'x'), Subject: subject}, now)
		mustFail("other subject", tok, &uploadid.Owner{Route: route, Key: o.Key, Subject: subject + "x"}, now)
		if len(key) > 0 {
			// Moving a byte from the key to the subject.
			mustFail("shifted fields", tok, &uploadid.Owner{Route: route, Key: o.Key[:len(key)-1], Subject: key[len(key)-1:] + subject}, now)
		}
		mustFail("expired", tok, o, exp)
	})
}
