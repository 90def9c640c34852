package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
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

// TestE2EFDLimit runs the gateway with a low RLIMIT_NOFILE and opens more
// connections than its descriptor account carries. gnet stops its event loops when
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
	m := newAdminGauges(g)
	defer m.close()
	if v := m.get(t, "mizuchi_fds_limit"); v != fdAccounted {
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

	// Flood: more connections than the account allows, bounded in time,
	// in steps of fdStep that the event loops see (OnOpen) before the next:
	// gnet's acceptor takes connections ahead of the loops, and the
	// descriptors those hold are the reserve's (cmd/mizuchi/fdlimit.go),
	// which an unpaced flood on a busy machine may exceed.
	const fdStep = 16
	var extra []net.Conn
	defer func() {
		for _, c := range extra {
			c.Close()
		}
	}()
	accepted0 := m.get(t, "mizuchi_connections_accepted_total")
	deadline := time.Now().Add(time.Minute)
	for len(extra) < fdAccounted+4*fdStep && time.Now().Before(deadline) {
		for range fdStep {
			c, err := net.DialTimeout("tcp", g.addr, 5*time.Second)
			if err != nil {
				t.Fatalf("cannot dial the gateway: %v", err)
			}
			extra = append(extra, c)
		}
		want := accepted0 + float64(len(extra))
		if !waitUntil(30*time.Second, func() bool { return m.get(t, "mizuchi_connections_accepted_total") >= want }) {
			t.Fatalf("the event loops did not see %d new connections", len(extra))
		}
	}
	if len(extra) < fdAccounted+4*fdStep {
		t.Fatalf("opened only %d connections; want %d", len(extra), fdAccounted+4*fdStep)
	}
	// The account fills up with idle connections, one descriptor each.
	if !waitUntil(30*time.Second, func() bool { return m.get(t, "mizuchi_fds_accounted") >= fdAccounted }) {
		t.Fatalf("the descriptor account did not fill up; got %v; want %d", m.get(t, "mizuchi_fds_accounted"), fdAccounted)
	}
	active := m.get(t, "mizuchi_connections_active")
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
	refusedBefore := m.get(t, `mizuchi_limit_refusals_total{limit="fds"}`)
	if err := keeper.writePutHead("/fd/refused.bin", 1<<20, "Expect: 100-continue\r\n"); err != nil {
		t.Fatalf("cannot send the refused head: %v", err)
	}
	if ra := checkSlowDown(t, "an upload while descriptors are short", readWithin(t, keeper, 30*time.Second)); ra != 1 {
		t.Fatalf("Retry-After %d on a refused upload; want 1", ra)
	}
	keeper.expectClosed(t)
	b.checkAbsent(t, fdBucket, "refused.bin")
	if v := m.get(t, `mizuchi_limit_refusals_total{limit="fds"}`); v != refusedBefore+1 {
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
	if !waitUntil(30*time.Second, func() bool { return m.get(t, "mizuchi_connections_active") == 0 }) {
		t.Fatal("client connections still counted after they all closed")
	}
	base := m.get(t, "mizuchi_fds_accounted")
	if base >= 32 {
		t.Fatalf("descriptors accounted after the flood; got %v; want fewer than 32 (a leak?)", base)
	}
	seed := nextSeed()
	g.mustPut(t, "/fd/large.bin", seed, 4<<20, putOpts{})
	b.checkObject(t, fdBucket, "large.bin", seed, 4<<20)
	if !waitUntil(30*time.Second, func() bool { return m.get(t, "mizuchi_fds_accounted") <= base+1 }) {
		v := m.get(t, "mizuchi_fds_accounted")
		t.Fatalf("descriptors accounted after a spliced upload; got %v; want at most %v (its charge leaked?)", v, base+1)
	}
}

// adminGauges reads metrics over one kept-alive admin connection. Polling
// with g.metric opens a connection per read, and hundreds of idle admin
// connections would use up the descriptors the gateway keeps in reserve
// (outside its account) under this test's small RLIMIT_NOFILE.
type adminGauges struct {
	url string
	tr  *http.Transport
	c   *http.Client
}

func newAdminGauges(g *gateway) *adminGauges {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}
	return &adminGauges{url: "http://" + g.admin + "/metrics", tr: tr, c: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

func (m *adminGauges) close() { m.tr.CloseIdleConnections() }

// get returns the value of the line named exactly nameLabels; 0 if absent.
func (m *adminGauges) get(t testing.TB, nameLabels string) float64 {
	t.Helper()
	resp, err := m.c.Get(m.url)
	if err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("cannot read /metrics: status %d, %v", resp.StatusCode, err)
	}
	for line := range strings.Lines(string(body)) {
		if rest, ok := strings.CutPrefix(line, nameLabels+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("cannot parse metric line %q: %v", line, err)
			}
			return v
		}
	}
	return 0
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
	f(384, 256)       // 384 - 128
	f(2048, 1920)     // 2048 - 128
	f(20000, 18750)   // 20000 - 20000/16
	f(65536, 61440)   // 65536 - 4096
	f(100, 1)         // never below one
	f(1<<63, 1<<31-1) // RLIM_INFINITY
}
