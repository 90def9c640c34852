//go:build !race

package engine

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/engine/accesslog"
	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// What the loop adds per request for the access log and the error format
// allocates nothing: noting the head (Accept), a JSON error, the key id,
// the client address and a record formatted and queued.
func TestAccessLogLoopNoAllocs(t *testing.T) {
	l, err := accesslog.New(accesslog.Config{Format: accesslog.FormatJSON, Output: filepath.Join(t.TempDir(), "access.log"), Sample: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := &Server{cfg: Config{AccessLog: l}}
	head := []byte("PUT /uploads/key.bin?X-Amz-Credential=AKID%2F20260101&X-Amz-Signature=00 HTTP/1.1\r\nHost: h\r\n" +
		"Accept: application/json, */*;q=0.1\r\nContent-Length: 10\r\n\r\n")
	sc := &loopScratch{req: httpparse.Request{MaxHeadSize: 1 << 16}}
	if _, err := sc.req.Parse(head); err != nil {
		t.Fatal(err)
	}
	sc.out = make([]byte, 0, 4096)
	sc.id = appendRequestID(sc.id[:0])
	st := &connState{client: netip.MustParseAddr("2001:db8::7")}
	step := func() {
		s.noteRequest(sc)
		if !sc.acc.json {
			t.Fatal("Accept not noted")
		}
		sc.out = appendErrorResponseAs(sc.out[:0], sc.acc.json, "AccessDenied", 403, "Access Denied", sc.id, sc.req.Path, false, nil, nil)
		r := accesslog.Record{Time: time.Now(), ID: sc.id, Method: sc.req.Method, Path: sc.req.Path, Op: "PutObject",
			Status: 403, Code: "AccessDenied", BytesIn: bytesIn(&sc.req), Body: accesslog.BodyNone, AccessKey: credentialKey(&sc.req),
			Client: st.clientAddr()}
		l.Log(&r)
	}
	for i := 0; i < 3000; i++ {
		step() // warms the logger's free list
	}
	// Let the writer catch up: every buffer is back on the free list, which
	// holds more than the measured steps can take while the writer lags.
	for deadline := time.Now().Add(10 * time.Second); l.Queued() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the access log writer did not catch up")
		}
		time.Sleep(time.Millisecond)
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
