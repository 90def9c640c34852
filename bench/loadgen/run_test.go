package main

import (
	"context"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/bench/internal/s3sink"
)

func startSink(t *testing.T) *s3sink.Server {
	t.Helper()
	s, err := s3sink.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s
}

func testConfig(t *testing.T, s *s3sink.Server) *config {
	t.Helper()
	cfg := &config{
		size:     1 << 10,
		conns:    4,
		duration: time.Second,
		timeout:  5 * time.Second,
		bufSize:  1 << 20,
	}
	var err error
	if cfg.newSigner, err = newSigner(&authConfig{mode: "none"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := configFromURL(cfg, "http://"+s.Addr().String()+"/sink/bench/", false); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func checkResult(t *testing.T, res *result, s *s3sink.Server) {
	t.Helper()
	checkResultBytes(t, res, s, uint64(res.bodyBytes))
}

// checkResultBytes is checkResult where the sink read wantBytes body bytes.
func checkResultBytes(t *testing.T, res *result, s *s3sink.Server, wantBytes uint64) {
	t.Helper()
	if res.errTotal() != 0 {
		t.Fatalf("unexpected errors: %v", res.errs)
	}
	if res.ok <= 0 {
		t.Fatalf("unexpected request count; got %d; want > 0", res.ok)
	}
	if int64(len(res.latencies)) != res.ok {
		t.Fatalf("unexpected sample count; got %d; want %d", len(res.latencies), res.ok)
	}
	st := s.Stats()
	if int64(st.Requests) != res.ok {
		t.Fatalf("sink saw %d requests; loadgen counted %d", st.Requests, res.ok)
	}
	if st.BodyBytes != wantBytes {
		t.Fatalf("sink read %d body bytes; loadgen sent %d", st.BodyBytes, wantBytes)
	}
}

func TestRun_Duration(t *testing.T) {
	s := startSink(t)
	cfg := testConfig(t, s)
	start := time.Now()
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > cfg.duration+cfg.timeout {
		t.Fatalf("run took %s; want about %s", d, cfg.duration)
	}
	checkResult(t, res, s)
	if res.dials != int64(cfg.conns) {
		t.Fatalf("unexpected dials; got %d; want %d (keep-alive)", res.dials, cfg.conns)
	}
}

func TestRun_RequestsExpect100Large(t *testing.T) {
	s := startSink(t)
	cfg := testConfig(t, s)
	cfg.size = 3<<20 + 17 // not a multiple of the buffer
	cfg.bufSize = 1 << 20
	cfg.requests = 20
	cfg.expect100 = true
	cfg.duration = 10 * time.Second
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, s)
	if res.ok != cfg.requests {
		t.Fatalf("unexpected request count; got %d; want %d", res.ok, cfg.requests)
	}
}

func TestRun_Errors(t *testing.T) {
	s := startSink(t)
	cfg := testConfig(t, s)
	cfg.requests = 10
	s.Close() // a closed port exercises the dial-error path
	cfg.duration = 300 * time.Millisecond
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.ok != 0 || res.errs[errDial] == 0 {
		t.Fatalf("unexpected result: ok=%d errs=%v; want only dial errors", res.ok, res.errs)
	}
}

func TestConfigFromURL_Failure(t *testing.T) {
	f := func(u string) {
		t.Helper()
		if err := configFromURL(&config{}, u, false); err == nil {
			t.Fatalf("expecting error for %q", u)
		}
	}
	f("ftp://127.0.0.1:1/x")
	f("https://10.0.0.1/x")
	f("http://10.0.0.1:80/x")
	f("http://example.com/x")
	f("http://127.0.0.1:1/x?uploads")
	f("::")
}

func TestReservoir(t *testing.T) {
	w := newWorker(0, &config{}, nil, noAuth{}, 10)
	for i := range 1000 {
		w.record(time.Duration(i))
	}
	if len(w.lat) != 10 || w.seen != 1000 {
		t.Fatalf("unexpected reservoir: len %d seen %d", len(w.lat), w.seen)
	}
	late := 0
	for _, d := range w.lat {
		if d >= 10 {
			late++
		}
	}
	if late == 0 {
		t.Fatalf("reservoir kept only the first samples: %v", w.lat)
	}
}

// TestKeySet: with -keys N, plain PUTs cycle over N keys, the same on
// every connection; without it every request has its own key.
func TestKeySet(t *testing.T) {
	f := func(keys int64, worker int, want ...string) {
		t.Helper()
		w := newWorker(worker, &config{path: "/b/x", host: "h", keys: keys}, nil, noAuth{}, 10)
		for i, p := range want {
			w.seq = int64(i)
			w.buildHead()
			if got := string(w.info.path); got != p {
				t.Fatalf("keys=%d worker %d request %d: unexpected path; got %q; want %q", keys, worker, i, got, p)
			}
		}
	}
	f(3, 0, "/b/x/k0", "/b/x/k1", "/b/x/k2", "/b/x/k0")
	f(3, 5, "/b/x/k0", "/b/x/k1", "/b/x/k2", "/b/x/k0")
	f(0, 5, "/b/x/5-0", "/b/x/5-1", "/b/x/5-2")
}
