//go:build !race

package engine

import "testing"

// Reading the reloadable settings on the loop, as OnTraffic does per read
// event, allocates nothing, also while a reload swaps them.
func TestTunablesNoAllocs(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0"}, NewRouter(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	head := []byte("PUT /uploads/key HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n")
	sc := s.scratch.Get().(*loopScratch)
	defer s.scratch.Put(sc)
	s.SetTunables(Tunables{MaxHeadSize: 1024})
	n := testing.AllocsPerRun(200, func() {
		tn := s.tun()
		sc.req.MaxHeadSize = tn.MaxHeadSize
		if _, err := sc.req.Parse(head); err != nil {
			t.Fatal(err)
		}
		if tn.maxBuffered == 0 || tn.SpliceThreshold == 0 || tn.HeaderTimeout == 0 {
			t.Fatal("tunables without defaults")
		}
	})
	if n != 0 {
		t.Fatalf("unexpected allocations; got %v; want 0", n)
	}
}
