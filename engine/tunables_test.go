package engine

import (
	"testing"
	"time"
)

// TestTunables: New takes the reloadable settings from Config, SetTunables
// replaces them with defaults for zero values, and the derived buffer
// bound follows.
func TestTunables(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", MaxHeadSize: 2048, IdleTimeout: 3 * time.Second, MaxConns: 5}, NewRouter(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Tunables(); got.MaxHeadSize != 2048 || got.IdleTimeout != 3*time.Second || got.MaxConns != 5 || got.BodyTimeout != 60*time.Second {
		t.Fatalf("unexpected tunables from Config; got %+v", got)
	}
	old := s.tun()
	s.SetTunables(Tunables{MaxHeadSize: 1024, SpliceThreshold: 4096})
	got := s.Tunables()
	want := Tunables{MaxHeadSize: 1024, SpliceThreshold: 4096, HeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		BodyTimeout: 60 * time.Second, UpstreamTimeout: 5 * time.Minute, MaxConns: 10000, MaxObjectSize: 5 << 30,
		maxBuffered: 1024 + 4096 + 64<<10}
	if got != want {
		t.Fatalf("unexpected tunables after SetTunables; got %+v; want %+v", got, want)
	}
	if old.MaxHeadSize != 2048 {
		t.Fatalf("SetTunables changed the settings a reader holds; got %d; want 2048", old.MaxHeadSize)
	}
}
