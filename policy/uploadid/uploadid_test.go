package uploadid

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/seal"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef")
	secretB = []byte("fedcba9876543210fedcba9876543210-B")
	t0      = time.Date(2025, 3, 7, 9, 5, 1, 0, time.UTC)
	owner   = Owner{Route: "uploads", Key: []byte("photos/a.jpg"), Subject: "alice"}
)

func mustSealer(t testing.TB, secrets ...[]byte) *seal.Sealer {
	t.Helper()
	s, err := seal.New(secrets)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	return s
}

func mustSeal(t testing.TB, s *seal.Sealer, id string, o Owner, exp time.Time) []byte {
	t.Helper()
	tok, err := Seal(nil, s, []byte(id), &o, exp)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	return tok
}

func TestMaxTokenLen(t *testing.T) {
	if MaxTokenLen != seal.SealedLen(expiryLen+MaxBackendID) || MaxTokenLen >= 1024 {
		t.Fatalf("unexpected MaxTokenLen %d; want %d, under 1 KiB", MaxTokenLen, seal.SealedLen(expiryLen+MaxBackendID))
	}
	s := mustSealer(t, secretA)
	tok := mustSeal(t, s, strings.Repeat("x", MaxBackendID), owner, t0)
	if len(tok) != MaxTokenLen {
		t.Fatalf("unexpected token length; got %d; want %d", len(tok), MaxTokenLen)
	}
}

func TestSealOpen_Success(t *testing.T) {
	s := mustSealer(t, secretA)
	f := func(id string, o Owner) {
		t.Helper()
		tok, err := Seal([]byte("pre"), s, []byte(id), &o, t0.Add(time.Hour))
		if err != nil || !bytes.HasPrefix(tok, []byte("pre")) {
			t.Fatalf("unexpected result; got %q, %v", tok, err)
		}
		tok = tok[3:]
		if len(tok) > MaxTokenLen || len(id) >= 8 && bytes.Contains(tok, []byte(id)) {
			t.Fatalf("unexpected token %q", tok)
		}
		got, err := Open([]byte("x"), s, tok, &o, t0.Add(time.Hour-time.Second))
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		if string(got) != "x"+id {
			t.Fatalf("unexpected backend id; got %q; want %q", got, "x"+id)
		}
	}
	f("2~kTqYiSN6nVRLvDHyLB5hBR2WIjV0ZvT", owner)
	f("VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA", Owner{Route: "r", Key: []byte("k")})
	f(strings.Repeat("z", MaxBackendID), Owner{Route: "r", Key: bytes.Repeat([]byte("k"), 1024), Subject: strings.Repeat("s", 300)})
	f("a", Owner{})
}

func TestOpen_Failure(t *testing.T) {
	s := mustSealer(t, secretA)
	exp := t0.Add(time.Hour)
	tok := string(mustSeal(t, s, "backend-id", owner, exp))
	f := func(s *seal.Sealer, token string, o Owner, now time.Time) {
		t.Helper()
		got, err := Open([]byte("keep"), s, []byte(token), &o, now)
		if err != ErrNoSuchUpload || string(got) != "keep" {
			t.Fatalf("unexpected result; got %q, %v; want ErrNoSuchUpload", got, err)
		}
	}
	f(s, tok, Owner{Route: "other", Key: owner.Key, Subject: "alice"}, t0)
	f(s, tok, Owner{Route: "uploads", Key: []byte("photos/b.jpg"), Subject: "alice"}, t0)
	f(s, tok, Owner{Route: "uploads", Key: []byte("photos/a.jpg"), Subject: "bob"}, t0)
	f(s, tok, Owner{Route: "uploads", Key: []byte("photos/a.jpg")}, t0)
	f(s, tok, owner, exp)                // expired at exp
	f(s, tok, owner, exp.Add(time.Hour)) // and after
	f(s, tok[:len(tok)-1], owner, t0)
	f(s, tok+"A", owner, t0)
	f(s, "", owner, t0)
	f(s, "backend-id", owner, t0) // a raw backend id
	f(s, strings.Repeat("A", MaxTokenLen+1), owner, t0)
	f(mustSealer(t, secretB), tok, owner, t0)

	// Field boundaries are bound: moving bytes between fields fails.
	o := Owner{Route: "ab", Key: []byte("c"), Subject: "d"}
	tok = string(mustSeal(t, s, "id", o, exp))
	f(s, tok, Owner{Route: "a", Key: []byte("bc"), Subject: "d"}, t0)
	f(s, tok, Owner{Route: "ab", Key: []byte("cd"), Subject: ""}, t0)
	f(s, tok, Owner{Route: "ab", Key: []byte(""), Subject: "cd"}, t0)

	// A token of another seal purpose with the same secret.
	other := s.Seal(nil, "sts", []byte("\x7f\x00\x00\x00\x00\x00\x00\x00id"), nil)
	f(s, string(other), Owner{}, t0)
}

func TestSeal_Failure(t *testing.T) {
	s := mustSealer(t, secretA)
	f := func(id string) {
		t.Helper()
		got, err := Seal([]byte("keep"), s, []byte(id), &owner, t0)
		if !errors.Is(err, ErrBackendID) || string(got) != "keep" {
			t.Fatalf("unexpected result; got %q, %v; want ErrBackendID", got, err)
		}
	}
	f("")
	f(strings.Repeat("x", MaxBackendID+1))
}

func TestRotation(t *testing.T) {
	tok := mustSeal(t, mustSealer(t, secretA), "id", owner, t0.Add(time.Hour))
	got, err := Open(nil, mustSealer(t, secretB, secretA), tok, &owner, t0)
	if err != nil || string(got) != "id" {
		t.Fatalf("unexpected result; got %q, %v", got, err)
	}
}

func BenchmarkOpen(b *testing.B) {
	s := mustSealer(b, secretA)
	tok := mustSeal(b, s, "2~kTqYiSN6nVRLvDHyLB5hBR2WIjV0ZvT-abcdefghijklmnopqrstuvwxyz", owner, t0.Add(time.Hour))
	dst := make([]byte, 0, 3<<10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(dst, s, tok, &owner, t0); err != nil {
			b.Fatal(err)
		}
	}
}
