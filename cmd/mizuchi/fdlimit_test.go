package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const fdBucket = "fd-bucket"

// fdNoFile is the RLIMIT_NOFILE the gateway runs with: its descriptor
// account may hold 384 - 128 = 256 descriptors (cmd/mizuchi/fdlimit.go).
// The static cap this account replaced allowed (384 - 128 - 2×8) / 3 = 80
// client connections with -pipe-pool 8.
const (
	fdNoFile    = 384
	fdAccounted = fdNoFile - fdReserve
	fdOldCap    = 80
)

// TestE2EFDLimit runs the gateway with a low RLIMIT_NOFILE and opens far
// more connections than the limit carries. gnet stops its event loops when
// accept(2) fails with EMFILE; the gateway counts the descriptors its
// connections use instead. Idle connections cost one descriptor each, so
// it must hold about as many idle connections as the account allows (far
// more than the old static cap of three per connection), refuse the rest
// with 503 SlowDown, refuse an upload that needs a backend connection
// while descriptors are short with 503 SlowDown before 100 Continue
// (storing nothing), stay up without spinning, and serve new clients once
// the extra connections are gone.
func TestE2EFDLimit(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
	b := startBackend(t, fdBucket)
	g := &gateway{addr: freeAddr(t), admin: freeAddr(t), scheme: "http"}
	g.cfg = filepath.Join(t.TempDir(), "mizuchi.yaml")
	cfg := gatewayConfigTLS(b, g.addr, g.admin, nil, nil, route{name: "fd", pathPrefix: "/fd", bucket: fdBucket})
	if err := os.WriteFile(g.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	nf := strconv.Itoa(fdNoFile)
	g.proc = startProc(t, "mizuchi", prlimit, "--nofile="+nf+":"+nf, mizuchiBinary(t),
		"-config", g.cfg, "-listen", g.addr, "-admin-listen", g.admin, "-pipe-pool", "8")
	if err := g.waitReady(t); err != nil {
		t.Fatalf("mizuchi did not become ready: %v\n%s", err, g.proc.stderr.String())
	}
	g.client = newHTTPClient()
	pid := g.pid()
	if !strings.Contains(g.proc.stderr.String(), "max_connections is above what the open file limit carries") {
		t.Fatalf("no log line about the descriptor limit:\n%s", g.proc.stderr.String())
	}
	if v, _ := g.metric(t, "mizuchi_fds_limit"); v != fdAccounted {
		t.Fatalf("unexpected mizuchi_fds_limit; got %v; want %d", v, fdAccounted)
	}

	put := func(c *rawConn, key string) putResult {
		t.Helper()
		seed := nextSeed()
		if err := c.writePut("/fd/"+key, seed, 1000); err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		r, err := c.readResponse("PUT")
		if err != nil {
			t.Fatalf("PUT %s: no response: %v", key, err)
		}
		if r.status == 200 {
			b.checkObject(t, fdBucket, key, seed, 1000)
		}
		return r
	}
	keeper := g.dialRaw(t)
	if r := put(keeper, "before.bin"); r.status != 200 {
		t.Fatalf("PUT before the flood: %s", r)
	}

	// Flood: more connections than the descriptors allow, bounded in time.
	var extra []net.Conn
	defer func() {
		for _, c := range extra {
			c.Close()
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for len(extra) < 2*fdNoFile && time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", g.addr, 5*time.Second)
		if err != nil {
			break
		}
		extra = append(extra, c)
	}
	if len(extra) < fdNoFile {
		t.Fatalf("opened only %d connections; want at least %d", len(extra), fdNoFile)
	}
	// The account fills up with idle connections, one descriptor each.
	metricAtLeast(t, g, "mizuchi_fds_accounted", fdAccounted)
	active, _ := g.metric(t, "mizuchi_connections_active")
	t.Logf("%d idle connections accepted with RLIMIT_NOFILE %d (the static cap allowed %d)", int(active), fdNoFile, fdOldCap)
	if active < fdAccounted-16 {
		t.Fatalf("the gateway holds %v connections; want at least %d (one descriptor per idle connection)", active, fdAccounted-16)
	}

	// A connection above the limit is answered 503 SlowDown and closed.
	late := g.dialRaw(t)
	if ra := checkSlowDown(t, "a connection above the descriptor limit", readWithin(t, late, 30*time.Second)); ra != 1 {
		t.Fatalf("Retry-After %d on a refused connection; want 1", ra)
	}
	late.expectClosed(t)
	if g.proc.exited() {
		t.Fatalf("the gateway exited under descriptor pressure:\n%s", g.proc.stderr.String())
	}
	if n := openFDs(t, pid); n >= fdNoFile {
		t.Fatalf("the gateway holds %d descriptors; want fewer than %d", n, fdNoFile)
	}

	// An upload on a connection it holds needs a backend connection, a
	// pipe and the socket's duplicates: descriptors are short, so it is
	// refused with 503 SlowDown before 100 Continue and any body byte.
	refusedBefore, _ := g.metric(t, `mizuchi_limit_refusals_total{limit="fds"}`)
	if err := keeper.writePutHead("/fd/refused.bin", 1<<20, "Expect: 100-continue\r\n"); err != nil {
		t.Fatalf("cannot send the refused head: %v", err)
	}
	if ra := checkSlowDown(t, "an upload while descriptors are short", readWithin(t, keeper, 30*time.Second)); ra != 1 {
		t.Fatalf("Retry-After %d on a refused upload; want 1", ra)
	}
	keeper.expectClosed(t)
	b.checkAbsent(t, fdBucket, "refused.bin")
	if v, _ := g.metric(t, `mizuchi_limit_refusals_total{limit="fds"}`); v != refusedBefore+1 {
		t.Fatalf("unexpected fds refusals; got %v; want %v", v, refusedBefore+1)
	}

	// No busy loop while the flood stays open: CPU time over a 2 s window
	// is well under one core.
	cpu0, wall0 := procCPU(t, pid), time.Now()
	time.Sleep(2 * time.Second) // the measurement window
	cpu, wall := procCPU(t, pid)-cpu0, time.Since(wall0)
	t.Logf("%d connections dialed; gateway CPU %v over %v", len(extra), cpu, wall.Round(time.Millisecond))
	if cpu > wall/2 {
		t.Fatalf("the gateway used %v of CPU in %v; want under half (a busy loop?)", cpu, wall)
	}
	if g.proc.exited() {
		t.Fatalf("the gateway exited:\n%s", g.proc.stderr.String())
	}

	// Once the flood is gone, new clients are served again, and the
	// account is back to a handful of descriptors.
	for _, c := range extra {
		c.Close()
	}
	extra = nil
	deadline = time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		c := g.dialRaw(t)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		r := put(c, fmt.Sprintf("after-%d.bin", i))
		c.Close()
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new client served after the flood closed; last %s", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The account is back to a handful of descriptors, and a spliced
	// upload (detached socket, pipe, backend connection) gives its charge
	// back: afterwards at most one more idle backend connection counts.
	if !waitUntil(30*time.Second, func() bool { v, _ := g.metric(t, "mizuchi_connections_active"); return v == 0 }) {
		t.Fatal("client connections still counted after they all closed")
	}
	base, _ := g.metric(t, "mizuchi_fds_accounted")
	if base >= 32 {
		t.Fatalf("descriptors accounted after the flood; got %v; want fewer than 32 (a leak?)", base)
	}
	seed := nextSeed()
	g.mustPut(t, "/fd/large.bin", seed, 4<<20, putOpts{})
	b.checkObject(t, fdBucket, "large.bin", seed, 4<<20)
	if !waitUntil(30*time.Second, func() bool { v, _ := g.metric(t, "mizuchi_fds_accounted"); return v <= base+1 }) {
		v, _ := g.metric(t, "mizuchi_fds_accounted")
		t.Fatalf("descriptors accounted after a spliced upload; got %v; want at most %v (its charge leaked?)", v, base+1)
	}
}

// openFDs counts the descriptors pid holds.
func openFDs(t testing.TB, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("cannot list descriptors: %v", err)
	}
	return len(ents)
}

func TestFDLimit(t *testing.T) {
	f := func(nofile uint64, want int64) {
		t.Helper()
		if got := fdLimit(nofile); got != want {
			t.Fatalf("unexpected limit for nofile %d; got %d; want %d", nofile, got, want)
		}
	}
	f(384, 256)
	f(20000, 19872)
	f(100, 1)         // never below one
	f(1<<63, 1<<31-1) // RLIM_INFINITY
}
