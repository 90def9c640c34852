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

// fdNoFile is the RLIMIT_NOFILE the gateway runs with: with -pipe-pool 8
// its connection cap is (384 - 128 - 16) / 3 = 80 (cmd/mizuchi/fdlimit.go).
const fdNoFile = 384

// TestE2EFDLimit runs the gateway with a low RLIMIT_NOFILE and opens far
// more connections than the limit carries. gnet stops its event loops when
// accept(2) fails with EMFILE; the gateway caps its connections below the
// limit instead, so it must stay up, not spin, keep serving the
// connections it has, refuse the rest with 503, and serve new clients once
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
	if !strings.Contains(g.proc.stderr.String(), "max_connections lowered to fit the open file limit") {
		t.Fatalf("no log line about the lowered connection cap:\n%s", g.proc.stderr.String())
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
	// A connection above the cap is answered 503 SlowDown and closed.
	late := g.dialRaw(t)
	late.SetReadDeadline(time.Now().Add(30 * time.Second))
	r, err := late.readResponse("PUT")
	if err != nil {
		t.Fatalf("a connection above the cap got no reply: %v", err)
	}
	if code := checkS3Error(t, "connection above the cap", r, false); r.status != 503 || code != "SlowDown" {
		t.Fatalf("unexpected reply above the cap; got %s; want 503 SlowDown", r)
	}
	if g.proc.exited() {
		t.Fatalf("the gateway exited under descriptor pressure:\n%s", g.proc.stderr.String())
	}
	if n := openFDs(t, pid); n >= fdNoFile {
		t.Fatalf("the gateway holds %d descriptors; want fewer than %d", n, fdNoFile)
	}

	// No busy loop while the flood stays open: CPU time over a 2 s window
	// is well under one core.
	cpu0, wall0 := procCPU(t, pid), time.Now()
	time.Sleep(2 * time.Second) // the measurement window
	cpu, wall := procCPU(t, pid)-cpu0, time.Since(wall0)
	t.Logf("%d connections open; gateway CPU %v over %v", len(extra), cpu, wall.Round(time.Millisecond))
	if cpu > wall/2 {
		t.Fatalf("the gateway used %v of CPU in %v; want under half (a busy loop?)", cpu, wall)
	}

	// The connection it had is still served.
	if r := put(keeper, "during.bin"); r.status != 200 {
		t.Fatalf("PUT on a held connection during the flood: %s", r)
	}
	if g.proc.exited() {
		t.Fatalf("the gateway exited:\n%s", g.proc.stderr.String())
	}

	// Once the flood is gone, new clients are served again.
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

func TestFDConnCap(t *testing.T) {
	f := func(nofile uint64, pipePool, want int) {
		t.Helper()
		if got := fdConnCap(nofile, pipePool); got != want {
			t.Fatalf("unexpected cap for nofile %d, pipe pool %d; got %d; want %d", nofile, pipePool, got, want)
		}
	}
	f(384, 8, 80)          // (384 - 128 - 16) / 3
	f(1024, 256, 128)      // (1024 - 128 - 512) / 3
	f(1024, 0, 298)        // zero copy off: no pipes
	f(65536, 256, 21632)   // above the default max_connections
	f(100, 8, 1)           // never below one
	f(1<<63, 256, 1<<31-1) // RLIM_INFINITY
}
