//go:build !race

package upstream

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// tokenCreds hands out temporary credentials whose token the test changes.
type tokenCreds struct{ tok string }

func (c *tokenCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "SK", SessionToken: c.tok}, nil
}

// With temporary backend credentials the head carries the current session
// token, signed, and building it allocates nothing once the token is held.
func TestAppendHeadSessionToken(t *testing.T) {
	pc := &tokenCreds{tok: "token-one"}
	ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "bkt", "", true, pc, PoolConfig{})
	b := NewBuilder(sigv4.NewKeyCache(8))
	r := &Request{Method: []byte("PUT"), Key: []byte("k"), ContentLength: 0}
	now := time.Now()
	for _, tok := range []string{"token-one", "token-one", "token-two", "token-one"} {
		pc.tok = tok
		head, err := b.AppendHead(context.Background(), nil, ep, r, now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(head, []byte("\r\nx-amz-security-token: "+tok+"\r\n")) {
			t.Fatalf("the head does not carry token %s:\n%s", tok, head)
		}
		if !bytes.Contains(head, []byte("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,")) {
			t.Fatalf("the token is not signed:\n%s", head)
		}
	}
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() {
		var err error
		if dst, err = b.AppendHeadCached(dst[:0], ep, r, now); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("unexpected allocations per head; got %v; want 0", n)
	}
}
