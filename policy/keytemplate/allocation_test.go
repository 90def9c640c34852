//go:build !race

package keytemplate

import "testing"

func TestNoAllocs(t *testing.T) {
	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Fatalf("unexpected allocations in %s; got %v; want 0", name, n)
		}
	}
	v := vars()
	dst := make([]byte, 0, 256)
	def, _ := Compile(Default)
	f("Append {key}", func() { _, _ = def.Append(dst, v) })
	full, _ := Compile("{route}/{claims.tenant}/{claims.n}/{claims.org.team}/{date}/{subject}/{key}")
	f("Append with every placeholder", func() {
		if _, err := full.Append(dst, v); err != nil {
			panic(err)
		}
	})
	key := []byte("日本語/ファイル/\u00a0/a.jpg")
	f("ValidateKey", func() {
		if err := ValidateKey(key, len(key)); err != nil {
			panic(err)
		}
	})
	bad := []byte("a/\xc0\xaf")
	f("ValidateKey failure", func() { _ = ValidateKey(bad, len(bad)) })
}
