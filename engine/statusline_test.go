package engine

import "testing"

// appendStatusLine gives, from the precomputed lines, exactly what
// formatting gives, and formats the codes the table does not hold.
func TestStatusLines(t *testing.T) {
	for code := range statusText {
		if got, want := string(appendStatusLine([]byte("x"), code)), "x"+string(appendStatusLineSlow(nil, code)); got != want {
			t.Fatalf("status %d; got %q; want %q", code, got, want)
		}
	}
	for _, tc := range []struct {
		code int
		want string
	}{
		{200, "HTTP/1.1 200 OK\r\n"},
		{503, "HTTP/1.1 503 Service Unavailable\r\n"},
		{299, "HTTP/1.1 299 Status\r\n"},
		{600, "HTTP/1.1 600 Status\r\n"},
		{-1, "HTTP/1.1 -1 Status\r\n"},
	} {
		if got := string(appendStatusLine(nil, tc.code)); got != tc.want {
			t.Errorf("status %d; got %q; want %q", tc.code, got, tc.want)
		}
	}
}
