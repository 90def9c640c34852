package keytemplate

import (
	"strings"
	"testing"
)

func TestValidateKey_Success(t *testing.T) {
	f := func(key string) {
		t.Helper()
		if err := ValidateKey([]byte(key), len(key)); err != nil {
			t.Fatalf("unexpected error for %q: %s", key, err)
		}
	}
	f("a")
	f("photos/2024/a.jpg")
	f("a//b")      // empty segments are kept
	f("/a")        // leading slash
	f("a/")        // trailing slash
	f("//")        // only slashes
	f("...")       // three dots is a name
	f(".a/..b/c.") // dots within segments
	f("a/.../b")
	f("日本語/ファイル.txt")
	f("Ünïcödé ☃ 🎉")
	f("a b+c%2Fd~e!'()*;:@&=$,?#[]")
	f("\u00a0") // NBSP is not a control character
	f("\u00a0\ufffd\ufffd")
	f("\U0010fffd") // highest non-noncharacter plane 16
	f(strings.Repeat("k", MaxKeyLen))
	f(strings.Repeat("日", MaxKeyLen/3))
}

func TestValidateKey_Failure(t *testing.T) {
	f := func(key string, stored int, want error) {
		t.Helper()
		if err := ValidateKey([]byte(key), stored); err != want {
			t.Fatalf("unexpected error for %q; got %v; want %v", key, err, want)
		}
	}
	invalid := func(key string) { t.Helper(); f(key, len(key), ErrKeyInvalid) }
	invalid("")
	// Dot segments.
	invalid(".")
	invalid("..")
	invalid("./a")
	invalid("../a")
	invalid("a/.")
	invalid("a/..")
	invalid("a/./b")
	invalid("a/../b")
	invalid("//..//")
	invalid("../../other/x") // what "..%2F..%2Fother%2Fx" decodes to
	// Control characters.
	invalid("a\x00b")
	invalid("\x01")
	invalid("a\nb")
	invalid("a\rb")
	invalid("a\tb")
	invalid("\x1f")
	invalid("a\x7fb")
	invalid("\u0080")
	invalid("a\u0085b") // NEL
	invalid("\u009b[31m")
	invalid("\u009f")
	invalid("\ufffe")
	invalid("a\uffff")
	// Invalid UTF-8.
	invalid("\xff")
	invalid("a\xfe")
	invalid("\x80")
	invalid("\xc3")             // truncated
	invalid("\xe6\x97")         // truncated
	invalid("\xc0\xaf")         // overlong '/'
	invalid("\xc1\xbf")         // overlong
	invalid("\xe0\x80\xaf")     // overlong '/'
	invalid("..\xc0\xaf..")     // overlong '/' between dots
	invalid("\xf0\x80\x80\xaf") // overlong '/'
	invalid("\xc0\x80")         // overlong NUL (modified UTF-8)
	invalid("\xed\xa0\x80")     // surrogate U+D800
	invalid("\xed\xbf\xbf")     // surrogate U+DFFF
	invalid("\xf4\x90\x80\x80") // above U+10FFFF
	invalid("\xf8\x88\x80\x80\x80")

	// Length: as stored.
	f(strings.Repeat("k", MaxKeyLen+1), MaxKeyLen+1, ErrKeyTooLong)
	f("k", MaxKeyLen+1, ErrKeyTooLong)
	f(strings.Repeat("k", MaxKeyLen+1), 0, ErrKeyTooLong) // stored below the key itself
	f(strings.Repeat("\x00", MaxKeyLen+1), MaxKeyLen+1, ErrKeyTooLong)
}

func BenchmarkValidateKey(b *testing.B) {
	key := []byte("uploads/2025/03/07/some-user-id/photos/IMG_20250307_090501.jpg")
	b.ReportAllocs()
	b.SetBytes(int64(len(key)))
	for b.Loop() {
		if err := ValidateKey(key, len(key)+8); err != nil {
			b.Fatal(err)
		}
	}
}
