package upstream

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// Unsigned header lines (the engine's traceparent) reach the backend
// outside the signature; a client's own traceparent is never forwarded.
func TestAppendHead_Unsigned(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AK", "SK", "")
	ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "b", "", true, creds, PoolConfig{})
	var creq httpparse.Request
	if _, err := creq.Parse([]byte("PUT /u/k HTTP/1.1\r\nHost: gw\r\ntraceparent: 00-11111111111111111111111111111111-2222222222222222-01\r\nContent-Length: 0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	f := func(unsigned, want string) {
		t.Helper()
		b := NewBuilder(sigv4.NewKeyCache(8))
		head, err := b.AppendHead(context.Background(), nil, ep, &Request{
			Method: creq.Method, Key: []byte("k"), ContentLength: 0, Headers: creq.Headers, Unsigned: []byte(unsigned),
		}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("upstream head does not parse: %s\n%s", err, head)
		}
		if got := hr.Header.Get("Traceparent"); got != want {
			t.Fatalf("unexpected upstream traceparent; got %q; want %q", got, want)
		}
		if a := hr.Header.Get("Authorization"); strings.Contains(a, "traceparent") {
			t.Fatalf("traceparent must not be signed: %s", a)
		}
	}
	f("", "")
	f("traceparent: 00-33333333333333333333333333333333-4444444444444444-01\r\n", "00-33333333333333333333333333333333-4444444444444444-01")
}
