package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	slowBucket      = "slow"
	slowTimeout     = 4 * time.Second // -header-timeout and -body-timeout
	headerTricklers = 1000
	bodyTricklers   = 200 // half with a small (in-loop) body, half spliced
)

// raiseNoFile lifts the soft open-file limit to the hard one, for the test
// and the processes it starts; it skips the test when that is below need.
func raiseNoFile(t *testing.T, need uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			t.Fatal(err)
		}
	}
	if rl.Cur < need {
		t.Skipf("RLIMIT_NOFILE %d; need %d", rl.Cur, need)
	}
}

// trickler is one slow client connection: it sends its first bytes, then
// one byte a second, until the gateway closes the connection.
type trickler struct {
	c        net.Conn
	start    time.Time
	closedAt atomic.Int64 // Unix ns when the gateway closed or answered; 0 = open
	reply    atomic.Value // first bytes the gateway sent, if any
}

func startTrickler(addr string, first []byte, rest []byte, stop <-chan struct{}) (*trickler, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	tr := &trickler{c: c, start: time.Now()}
	if _, err := c.Write(first); err != nil {
		c.Close()
		return nil, err
	}
	go func() {
		buf := make([]byte, 512)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		n, _ := c.Read(buf)
		if n > 0 {
			tr.reply.Store(string(buf[:n]))
		}
		tr.closedAt.Store(time.Now().UnixNano())
	}()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 0; i < len(rest); i++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if tr.closedAt.Load() != 0 {
				return
			}
			if _, err := c.Write(rest[i : i+1]); err != nil {
				return
			}
		}
	}()
	return tr, nil
}

// medianPut does sequential small PutObjects for d (at least 20, at most
// max) and returns their median latency.
func medianPut(t *testing.T, g *gateway, prefix string, d time.Duration, max int) (time.Duration, int) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}, Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	body := bytes.Repeat([]byte("x"), 4<<10)
	var lat []time.Duration
	end := time.Now().Add(d)
	for i := 0; i < max && (i < 20 || time.Now().Before(end)); i++ {
		req, _ := http.NewRequest(http.MethodPut, "http://"+g.addr+"/slow/"+prefix+strconv.Itoa(i%10), bytes.NewReader(body))
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("well-behaved PUT %d: %v", i, err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if resp.StatusCode != 200 {
			t.Fatalf("well-behaved PUT %d: status %d", i, resp.StatusCode)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], len(lat)
}

// TestE2ESlowClients: 1,000 connections trickling a head one byte a second
// and 200 uploads trickling their body are cut off by the header and body
// timeouts, store nothing, and barely slow a well-behaved client down.
func TestE2ESlowClients(t *testing.T) {
	raiseNoFile(t, 3*(headerTricklers+bodyTricklers))
	b := startBackend(t, slowBucket)
	g := startGatewayWith(t, b, gwOptions{args: []string{
		"-header-timeout", slowTimeout.String(), "-body-timeout", slowTimeout.String(), "-max-connections", "5000",
	}}, route{name: "slow", pathPrefix: "/slow", bucket: slowBucket})

	medianPut(t, g, "warm-", 0, 20)
	base, nBase := medianPut(t, g, "base-", 2*time.Second, 400)

	stop := make(chan struct{})
	defer close(stop)
	var mu sync.Mutex
	var heads, bodies []*trickler
	var bodyKeys []string
	host := "Host: " + g.addr + "\r\n"
	headRest := []byte("UT /slow/never HTTP/1.1\r\n" + host + "Content-Length: 1\r\n\r\n")
	var wg sync.WaitGroup
	var dialErr atomic.Value
	crowdStart := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < headerTricklers+bodyTricklers; i += 8 {
				var tr *trickler
				var err error
				if i < headerTricklers {
					tr, err = startTrickler(g.addr, []byte("P"), headRest, stop)
				} else {
					size := 1000 // in the loop's buffer
					if i%2 == 0 {
						size = 1 << 20 // spliced
					}
					key := fmt.Sprintf("trickle-%d", i)
					head := "PUT /slow/" + key + " HTTP/1.1\r\n" + host + "Content-Length: " + strconv.Itoa(size) + "\r\n\r\nab"
					tr, err = startTrickler(g.addr, []byte(head), bytes.Repeat([]byte("z"), 60), stop)
					mu.Lock()
					bodyKeys = append(bodyKeys, key)
					mu.Unlock()
				}
				if err != nil {
					dialErr.Store(err)
					return
				}
				mu.Lock()
				if i < headerTricklers {
					heads = append(heads, tr)
				} else {
					bodies = append(bodies, tr)
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		t.Fatalf("cannot open the slow connections: %v", err)
	}
	for _, tr := range append(append([]*trickler{}, heads...), bodies...) {
		defer tr.c.Close()
	}
	opened := time.Since(crowdStart)
	// Measure while the crowd trickles (it is cut off at slowTimeout).
	window := slowTimeout - opened - 500*time.Millisecond
	if window < 500*time.Millisecond {
		window = 500 * time.Millisecond
	}
	active, _ := g.metric(t, "mizuchi_connections_active")
	with, nWith := medianPut(t, g, "crowd-", window, 400)
	factor := float64(with) / float64(base)
	t.Logf("well-behaved PutObject median: %v alone (%d PUTs), %v beside %d trickling heads and %d trickling bodies (%d PUTs, %v after opening them in %v; %v connections active): factor %.2f",
		base, nBase, with, headerTricklers, bodyTricklers, nWith, window.Round(time.Millisecond), opened.Round(time.Millisecond), active, factor)
	switch {
	case opened > slowTimeout/2:
		// A very busy machine: the first slow connections were cut off
		// before the measurement; the figure above says little.
		t.Logf("opening the crowd took %v; latency bound not checked", opened)
	case active < headerTricklers:
		t.Fatalf("only %v connections active while the crowd trickled; want at least %d", active, headerTricklers)
	case factor > 3 && with-base > 20*time.Millisecond:
		t.Fatalf("the slow crowd slowed a well-behaved client down %.2fx (%v -> %v); want at most 3x", factor, base, with)
	}

	// Every slow connection is cut off: by the header timeout (closed, no
	// reply) or the body timeout (closed, or a 400 RequestTimeout).
	limit := slowTimeout + 3*time.Second // the sweeper runs once a second
	deadline := time.Now().Add(limit + 10*time.Second)
	waitClosed := func(what string, trs []*trickler) {
		for _, tr := range trs {
			for tr.closedAt.Load() == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s: a connection opened %v ago is still open; want it cut off after %v", what, time.Since(tr.start).Round(time.Millisecond), slowTimeout)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	waitClosed("trickling heads", heads)
	waitClosed("trickling bodies", bodies)
	var worst time.Duration
	replies := map[string]int{}
	for _, tr := range append(append([]*trickler{}, heads...), bodies...) {
		if d := time.Duration(tr.closedAt.Load() - tr.start.UnixNano()); d > worst {
			worst = d
		}
		if r, _ := tr.reply.Load().(string); r != "" {
			st := r[:min(len(r), 12)]
			replies[st]++
			if st != "HTTP/1.1 400" && st != "HTTP/1.1 408" {
				t.Fatalf("a slow client got %q; want a close or 400/408 RequestTimeout", r)
			}
		}
	}
	t.Logf("slow connections cut off after at most %v; replies: %v", worst.Round(time.Millisecond), replies)
	if worst > limit+opened {
		t.Fatalf("a slow connection lived %v; want at most %v", worst, limit+opened)
	}
	for _, key := range bodyKeys {
		b.checkAbsent(t, slowBucket, key)
	}
}

// fdCount returns the number of open descriptors of pid.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("cannot list the gateway's descriptors: %v", err)
	}
	return len(ents)
}

// TestE2EClientResetMidBody: a client that resets its connection (SO_LINGER
// 0) after part of a spliced body or of a small in-loop body stores
// nothing, and the gateway gives everything back: no request in flight, no
// detached connection, no pipe in use, no descriptor more than before.
func TestE2EClientResetMidBody(t *testing.T) {
	b := startBackend(t, slowBucket)
	g := startGatewayWith(t, b, gwOptions{args: []string{"-body-timeout", "30s"}},
		route{name: "slow", pathPrefix: "/slow", bucket: slowBucket})
	// Warm up both paths (pooled and in-loop backend connections exist).
	for i := 0; i < 3; i++ {
		g.mustPut(t, "/slow/warm-small", 1, 10<<10, putOpts{})
		g.mustPut(t, "/slow/warm-large", 1, 2<<20, putOpts{expect: true})
	}
	g.client.CloseIdleConnections()
	// One kept-alive admin connection for every read of /metrics, so the
	// reads do not add descriptors to the count.
	mc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
	defer mc.CloseIdleConnections()
	metric := func(name string) float64 { return adminMetric(t, mc, g, name) }
	gauges := []string{"mizuchi_requests_inflight", "mizuchi_connections_detached", "mizuchi_pipes_in_use", "mizuchi_connections_active"}
	settled := func(fds0 int) (bool, string) {
		state := ""
		ok := true
		for _, name := range gauges {
			v := metric(name)
			state += fmt.Sprintf("%s=%v ", name, v)
			ok = ok && v == 0
		}
		fds := fdCount(t, g.pid())
		state += fmt.Sprintf("fds=%d (baseline %d)", fds, fds0)
		return ok && fds <= fds0, state
	}
	wait := func(what string, fds0 int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			ok, state := settled(fds0)
			if ok {
				t.Logf("%s: settled: %s", what, state)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the gateway did not give its resources back: %s", what, state)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("baseline", 1<<30)
	fds0 := fdCount(t, g.pid())
	f := func(name string, size, sent int64) {
		t.Run(name, func(t *testing.T) {
			key := "reset-" + name
			c := g.dialRaw(t)
			if err := c.writePutHead("/slow/"+key, size, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(genBytes(9, sent)); err != nil {
				t.Fatal(err)
			}
			// Let the gateway start relaying before the reset.
			inflight := "mizuchi_connections_detached" // spliced by a worker
			if size < 256<<10 {
				inflight = "mizuchi_connections_active"
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				if metric(inflight) >= 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the request never reached the gateway (%s stays 0)", inflight)
				}
				time.Sleep(10 * time.Millisecond)
			}
			_ = c.Conn.(*net.TCPConn).SetLinger(0)
			c.Close()
			wait(name, fds0)
			b.checkAbsent(t, slowBucket, key)
		})
	}
	f("spliced", 16<<20, 3<<20)
	f("small", 100<<10, 10<<10)
	// The gateway still serves.
	g.mustPut(t, "/slow/after", 2, 10<<10, putOpts{})
}

// adminMetric reads one unlabelled or labelled metric line (exact name and
// labels) from the gateway's /metrics over c; a missing line reads as 0.
func adminMetric(t *testing.T, c *http.Client, g *gateway, nameLabels string) float64 {
	t.Helper()
	resp, err := c.Get("http://" + g.admin + "/metrics")
	if err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
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
