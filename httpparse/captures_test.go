package httpparse

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const capturesDir = "../../shared/testdata/client-captures"

// captureHead is one request head rebuilt from a capture log.
type captureHead struct {
	where              string // file:line
	method, uri, host  string
	cl                 int64
	chunked, expect100 bool
	head               string
}

// readCaptures rebuilds the request heads in the capture logs. A block is
//
//	---- METHOD URI VERSION -> STATUS (body read N bytes)
//	Name: value            (one line per field, as the server saw them)
//	(Transfer-Encoding: [chunked])   (the server strips this field; restored)
//	body head: ... / body tail: ...  (ignored)
//
// The logging server was Go's net/http, which served HTTPS clients over
// HTTP/2; those heads are replayed as HTTP/1.1 with the same fields.
func readCaptures(t *testing.T) []captureHead {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(capturesDir, "*.log"))
	if err != nil {
		t.Fatalf("cannot list captures: %s", err)
	}
	if len(files) == 0 {
		t.Skipf("no client captures in %s", capturesDir)
	}
	var heads []captureHead
	for _, file := range files {
		fd, err := os.Open(file)
		if err != nil {
			t.Fatalf("cannot open capture: %s", err)
		}
		sc := bufio.NewScanner(fd)
		sc.Buffer(nil, 1<<20)
		var cur *captureHead
		var sb strings.Builder
		flush := func() {
			if cur != nil {
				sb.WriteString("\r\n")
				cur.head = sb.String()
				heads = append(heads, *cur)
				cur = nil
			}
			sb.Reset()
		}
		line := 0
		for sc.Scan() {
			line++
			s := sc.Text()
			switch {
			case strings.HasPrefix(s, "---- "):
				flush()
				rl, _, _ := strings.Cut(s[len("---- "):], " -> ")
				parts := strings.Split(rl, " ")
				if len(parts) != 3 {
					t.Fatalf("%s:%d: unexpected request line %q", file, line, rl)
				}
				cur = &captureHead{where: filepath.Base(file) + ":" + strconv.Itoa(line), method: parts[0], uri: parts[1], cl: -1}
				sb.WriteString(parts[0] + " " + parts[1] + " HTTP/1.1\r\n")
			case cur == nil || strings.HasPrefix(s, "body "):
				// body excerpts
			case s == "(Transfer-Encoding: [chunked])":
				cur.chunked = true
				sb.WriteString("Transfer-Encoding: chunked\r\n")
			default:
				name, value, ok := strings.Cut(s, ": ")
				if !ok {
					t.Fatalf("%s:%d: unexpected line %q", file, line, s)
				}
				switch strings.ToLower(name) {
				case "host":
					cur.host = value
				case "content-length":
					cur.cl, _ = strconv.ParseInt(value, 10, 64)
				case "expect":
					cur.expect100 = strings.EqualFold(value, "100-continue")
				}
				sb.WriteString(s + "\r\n")
			}
		}
		flush()
		if err := sc.Err(); err != nil {
			t.Fatalf("cannot read %s: %s", file, err)
		}
		fd.Close()
	}
	return heads
}

func TestRequestParse_ClientCaptures(t *testing.T) {
	heads := readCaptures(t)
	if len(heads) < 100 {
		t.Fatalf("unexpectedly few capture heads; got %d", len(heads))
	}
	var r Request
	for _, h := range heads {
		n, err := r.Parse([]byte(h.head))
		if err != nil {
			t.Fatalf("%s: unexpected error: %s\n%s", h.where, err, h.head)
		}
		if n != len(h.head) {
			t.Fatalf("%s: unexpected n; got %d; want %d", h.where, n, len(h.head))
		}
		if string(r.Method) != h.method || string(r.URI) != h.uri || string(r.Host) != h.host {
			t.Fatalf("%s: unexpected request line or host; got %q %q %q", h.where, r.Method, r.URI, r.Host)
		}
		if r.ContentLength != h.cl || r.Chunked != h.chunked || r.Expect100 != h.expect100 {
			t.Fatalf("%s: unexpected framing; got cl=%d chunked=%v expect=%v; want cl=%d chunked=%v expect=%v",
				h.where, r.ContentLength, r.Chunked, r.Expect100, h.cl, h.chunked, h.expect100)
		}
		if string(r.Path)+queryWithMark(r.Query) != h.uri {
			t.Fatalf("%s: path and query do not rebuild the URI; got %q + %q", h.where, r.Path, r.Query)
		}
		for len(r.Query) > 0 {
			var k, v []byte
			k, v, r.Query = NextParam(r.Query)
			if _, err := AppendUnescapeQuery(nil, k); err != nil {
				t.Fatalf("%s: cannot unescape query key %q", h.where, k)
			}
			if _, err := AppendUnescapeQuery(nil, v); err != nil {
				t.Fatalf("%s: cannot unescape query value %q", h.where, v)
			}
		}
		if _, err := AppendUnescape(nil, r.Path); err != nil {
			t.Fatalf("%s: cannot unescape path %q", h.where, r.Path)
		}
	}
}

func queryWithMark(q []byte) string {
	if q == nil {
		return ""
	}
	return "?" + string(q)
}
