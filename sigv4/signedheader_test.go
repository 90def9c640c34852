package sigv4

import (
	"bytes"
	"testing"
)

// signedHeader finds a name in a SignedHeaders list exactly as splitting
// the list on ';' and comparing each entry (ignoring case) would.
func TestSignedHeader(t *testing.T) {
	split := func(sh, name []byte) bool {
		for _, n := range bytes.Split(sh, []byte(";")) {
			if equalFoldASCII(n, name) {
				return true
			}
		}
		return false
	}
	lists := []string{"", ";", "host", "host;x-amz-date", "host;x-amz-content-sha256;x-amz-date",
		"x-amz-date;host", "x-amz-datex;host", "host;x-amz-dat", "host;;x-amz-date;", "HOST;X-Amz-Date", "x-amz-date;x-amz-date"}
	names := []string{"host", "x-amz-date", "X-AMZ-DATE", "x-amz-dat", "x-amz-datex", "x-amz-content-sha256", "h", "x"}
	for _, sh := range lists {
		for _, name := range names {
			if got, want := signedHeader([]byte(sh), []byte(name)), split([]byte(sh), []byte(name)); got != want {
				t.Errorf("signedHeader(%q, %q); got %v; want %v", sh, name, got, want)
			}
		}
	}
}
