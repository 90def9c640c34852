package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef")
	secretB = []byte("fedcba9876543210fedcba9876543210-B")
)

func mustNew(t testing.TB, secrets ...[]byte) *Sealer {
	t.Helper()
	s, err := New(secrets)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	return s
}

func TestNew_Failure(t *testing.T) {
	f := func(secrets [][]byte, want error) {
		t.Helper()
		s, err := New(secrets)
		if !errors.Is(err, want) || s != nil {
			t.Fatalf("unexpected result; got %v, %v; want %v", s, err, want)
		}
	}
	f(nil, ErrNoSecret)
	f([][]byte{}, ErrNoSecret)
	f([][]byte{secretA[:31]}, ErrShortSecret)
	f([][]byte{secretA, []byte("short")}, ErrShortSecret)
}

func TestSealOpen_Success(t *testing.T) {
	s := mustNew(t, secretA)
	f := func(purpose, plain, ad string) {
		t.Helper()
		tok := s.Seal([]byte("prefix:"), purpose, []byte(plain), []byte(ad))
		if !bytes.HasPrefix(tok, []byte("prefix:")) {
			t.Fatalf("Seal must append to dst; got %q", tok)
		}
		tok = tok[len("prefix:"):]
		if len(tok) != SealedLen(len(plain)) {
			t.Fatalf("unexpected token length; got %d; want %d", len(tok), SealedLen(len(plain)))
		}
		if strings.Trim(string(tok), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("token %q is not URL-safe base64 without padding", tok)
		}
		if len(plain) >= 8 && bytes.Contains(tok, []byte(plain)) {
			t.Fatalf("token %q shows the plaintext", tok)
		}
		got, err := s.Open([]byte("x"), purpose, tok, []byte(ad))
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		if string(got) != "x"+plain {
			t.Fatalf("unexpected plaintext; got %q; want %q", got, "x"+plain)
		}
		// Tokens are randomized.
		if tok2 := s.Seal(nil, purpose, []byte(plain), []byte(ad)); bytes.Equal(tok, tok2) {
			t.Fatalf("two seals gave the same token %q", tok)
		}
	}
	f("upload-id", "", "")
	f("upload-id", "a", "")
	f("upload-id", "backend-id-1234", "route\x00key")
	f("sts", strings.Repeat("z", 4000), strings.Repeat("a", 3000))
}

func TestOpen_Failure(t *testing.T) {
	s := mustNew(t, secretA)
	tok := string(s.Seal(nil, "p", []byte("hello, world"), []byte("ad")))
	f := func(purpose, token, ad string) {
		t.Helper()
		dst := []byte("keep")
		got, err := s.Open(dst, purpose, []byte(token), []byte(ad))
		if err != ErrInvalid {
			t.Fatalf("unexpected error; got %v; want ErrInvalid", err)
		}
		if string(got) != "keep" {
			t.Fatalf("dst changed on failure: %q", got)
		}
	}
	f("p", tok, "AD")                    // other ad
	f("p", tok, "")                      // no ad
	f("q", tok, "ad")                    // other purpose
	f("p", tok[:len(tok)-1], "ad")       // truncated
	f("p", tok[1:], "ad")                // truncated at the front
	f("p", tok+"A", "ad")                // extended
	f("p", tok+"AA", "ad")               // extended
	f("p", tok[:20]+"\n"+tok[20:], "ad") // CR/LF are not ignored
	f("p", tok[:20]+"\r"+tok[20:], "ad")
	f("p", tok+"=", "ad")             // padding
	f("p", tok[:5]+"+"+tok[6:], "ad") // standard alphabet
	f("p", tok[:5]+"/"+tok[6:], "ad")
	f("p", "", "ad")
	f("p", "AAAA", "ad")
	f("p", strings.Repeat("A", 60), "ad")
	f("p", strings.Repeat("A", MaxTokenLen+4), "ad")
	// Another version byte.
	raw, _ := enc.DecodeString(tok)
	raw[0] = version + 1
	f("p", enc.EncodeToString(raw), "ad")

	// Another secret.
	other := mustNew(t, secretB)
	if _, err := other.Open(nil, "p", []byte(tok), []byte("ad")); err != ErrInvalid {
		t.Fatalf("unexpected error; got %v; want ErrInvalid", err)
	}
}

func TestOpen_EveryByteMutation(t *testing.T) {
	s := mustNew(t, secretA)
	for _, n := range []int{0, 1, 2, 3, 10} { // every length mod 3
		tok := s.Seal(nil, "p", bytes.Repeat([]byte{'v'}, n), nil)
		for i := range tok {
			for _, c := range []byte("AQgw_-9z=.\n") {
				if c == tok[i] {
					continue
				}
				m := bytes.Clone(tok)
				m[i] = c
				if _, err := s.Open(nil, "p", m, nil); err != ErrInvalid {
					t.Fatalf("token with byte %d set to %q opened (n=%d)", i, c, n)
				}
			}
		}
	}
}

func TestRotation(t *testing.T) {
	old := mustNew(t, secretA)
	rotated := mustNew(t, secretB, secretA)
	tokOld := old.Seal(nil, "p", []byte("v"), nil)
	tokNew := rotated.Seal(nil, "p", []byte("v"), nil)
	if got, err := rotated.Open(nil, "p", tokOld, nil); err != nil || string(got) != "v" {
		t.Fatalf("the rotated sealer must open old tokens; got %q, %v", got, err)
	}
	if got, err := rotated.Open(nil, "p", tokNew, nil); err != nil || string(got) != "v" {
		t.Fatalf("unexpected result; got %q, %v", got, err)
	}
	if _, err := old.Open(nil, "p", tokNew, nil); err != ErrInvalid {
		t.Fatalf("the new secret must seal; got %v", err)
	}
}

func TestPurposeCacheBounded(t *testing.T) {
	s := mustNew(t, secretA)
	for i := range maxPurposes + 10 {
		p := "p" + strings.Repeat("x", i)
		tok := s.Seal(nil, p, []byte("v"), nil)
		if got, err := s.Open(nil, p, tok, nil); err != nil || string(got) != "v" {
			t.Fatalf("unexpected result for purpose %d; got %q, %v", i, got, err)
		}
	}
	if n := len(*s.keys.Load()); n != maxPurposes {
		t.Fatalf("unexpected cache size; got %d; want %d", n, maxPurposes)
	}
}

func BenchmarkOpen(b *testing.B) {
	s := mustNew(b, secretB, secretA)
	tok := s.Seal(nil, "p", bytes.Repeat([]byte{'x'}, 100), []byte("route/key/subject"))
	dst := make([]byte, 0, 2*len(tok))
	ad := []byte("route/key/subject")
	b.ReportAllocs()
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		if _, err := s.Open(dst, "p", tok, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	s := mustNew(b, secretA)
	pt := bytes.Repeat([]byte{'x'}, 100)
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		s.Seal(dst, "p", pt, nil)
	}
}
