package upstream

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// One Builder signing across second boundaries (the x-amz-date is kept for
// a second) sends each request's own time and a signature over it.
func TestAppendHeadDatePerSecond(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AK", "SK", "")
	ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "bkt", "", true, creds, PoolConfig{})
	b := NewBuilder(sigv4.NewKeyCache(8))
	fresh := NewBuilder(sigv4.NewKeyCache(8))
	t0 := time.Date(2026, 12, 31, 23, 59, 58, 900e6, time.UTC)
	for _, d := range []time.Duration{0, 50 * time.Millisecond, 200 * time.Millisecond, time.Second, 1100 * time.Millisecond, -3 * time.Second, 0} {
		now := t0.Add(d)
		r := &Request{Method: []byte("PUT"), Key: []byte("k"), ContentLength: 0}
		got, err := b.AppendHead(context.Background(), nil, ep, r, now)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.AppendHead(context.Background(), nil, ep, r, now)
		if err != nil {
			t.Fatal(err)
		}
		fresh = NewBuilder(sigv4.NewKeyCache(8))
		if !bytes.Equal(got, want) {
			t.Fatalf("at %s: a reused Builder's head differs from a fresh one's:\n%s\n%s", now, got, want)
		}
		date := sigv4.AppendAmzDate(nil, now)
		if !bytes.Contains(got, append([]byte("\r\nx-amz-date: "), date...)) {
			t.Fatalf("at %s: the head does not carry x-amz-date %s:\n%s", now, date, got)
		}
	}
}
