package engine

import "testing"

// Text placed in XML replies (a Location built from the client's Host
// field, a key) is valid XML whatever bytes it holds.
func TestAppendXMLEscaped(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(appendXMLEscaped(nil, in)); got != want {
			t.Fatalf("unexpected escape of %q (string); got %q; want %q", in, got, want)
		}
		if got := string(appendXMLEscaped(nil, []byte(in))); got != want {
			t.Fatalf("unexpected escape of %q ([]byte); got %q; want %q", in, got, want)
		}
	}
	f("", "")
	f("a<b>&\"'", "a&lt;b&gt;&amp;&quot;&apos;")
	f("a\tb\nc\rd\x00e\x1f", "a\tb\nc?d?e?")
	f("caf\u00e9 \u65e5\u672c \U0001F600 \ufffd \x7f \u0085", "caf\u00e9 \u65e5\u672c \U0001F600 \ufffd \x7f \u0085")
	f("h\xff", "h?")
	f("\xc3", "?")
	f("\xc3(", "?(")
	f("\xe6\x97", "??")
	f("\xed\xa0\x80", "???") // a surrogate
	f("a\ufffeb\uffffc", "a?b?c")
	f("\xf4\x90\x80\x80", "????") // beyond U+10FFFF
}
