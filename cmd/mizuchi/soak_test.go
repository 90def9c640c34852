//go:build soak

package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
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
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Run with `make soak` (SOAK_TIME=2m to shorten); not part of `make test`.
var soakTime = flag.Duration("soak", 10*time.Minute, "how long TestSoak runs its load")

const soakBucket = "soak-bucket"

var lastRawErr atomic.Value

// soakStats counts outcomes per operation.
type soakStats struct {
	mu sync.Mutex
	m  map[string]int
}

func (s *soakStats) add(op, outcome string) {
	s.mu.Lock()
	s.m[op+" "+outcome]++
	s.mu.Unlock()
}

// soakSample is the gateway's resource use at one moment.
type soakSample struct {
	fds, goroutines int
	rss             int64
}

func sampleSoak(t *testing.T, g *gateway) soakSample {
	t.Helper()
	rss, err := vmRSS(g.pid())
	if err != nil {
		t.Fatalf("cannot read RSS: %v", err)
	}
	return soakSample{fds: openFDs(t, g.pid()), goroutines: goroutines(t, g), rss: rss}
}

// goroutines reads the gateway's goroutine count from /debug/pprof.
func goroutines(t *testing.T, g *gateway) int {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + g.admin + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatalf("cannot read the goroutine profile: %v", err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "goroutine profile: total ")))
	if err != nil {
		t.Fatalf("unexpected goroutine profile head %q", line)
	}
	return n
}

// near reports whether after is back near before: descriptors and
// goroutines within a small delta, RSS within 2x or +64 MiB.
func (before soakSample) near(after soakSample) bool {
	return after.fds <= before.fds+8 && after.goroutines <= before.goroutines+10 &&
		after.rss <= max(2*before.rss, before.rss+64<<20)
}

// TestSoak runs mixed load against the real binary for -soak: small and
// large PutObjects, multipart uploads, chunked (spooled) parts, auth
// failures, slow and stalled clients, clients that reset mid-body, and
// backend faults (a fault proxy on one route). Afterwards, once the
// connections idled out, the gateway's descriptors, goroutines and RSS
// must be back near where they were before the load.
func TestSoak(t *testing.T) {
	b := startBackend(t, soakBucket)
	fp := newFaultInjector(t, b)
	fp.setRule(func(r proxyReq) fault {
		if !strings.Contains(r.uri, "/flt/") {
			return faultNone
		}
		switch r.n % 10 {
		case 2:
			return faultReset
		case 5:
			return faultSlowDown
		case 7:
			return faultRefuse
		}
		return faultNone
	})
	g := startGatewayWith(t, fp.via(b), gwOptions{
		args:       []string{"-pprof", "-idle-timeout", "3s", "-body-timeout", "3s"},
		serverYAML: fmt.Sprintf("  spool:\n    dir: %q\n    max_bytes: %d\n", t.TempDir(), 64*mib),
	},
		route{name: "an", pathPrefix: "/an", bucket: soakBucket, keyPrefix: "an/"},
		route{name: "flt", pathPrefix: "/flt", bucket: soakBucket, keyPrefix: "flt/"},
		route{name: "sp", pathPrefix: "/sp", bucket: soakBucket, keyPrefix: "sp/", extra: "" +
			"    auth:\n      enabled: true\n      sigv4:\n" +
			"        region: us-east-1\n" +
			"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n"})
	stats := &soakStats{m: map[string]int{}}

	// Warm up with one round of every load, then take the baseline once
	// the connections idled out.
	soakRound(t, g, stats, 0)
	time.Sleep(5 * time.Second) // idle_timeout is 3s: the warm-up connections close
	before := sampleSoak(t, g)

	deadline := time.Now().Add(*soakTime)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 1; time.Now().Before(deadline) && !t.Failed(); i++ {
				soakRound(t, g, stats, w*1_000_000+i)
			}
		}(w)
	}
	wg.Wait()
	loaded := sampleSoak(t, g)

	// The connections idle out (as for the baseline); then poll until the
	// gateway is back near the baseline or two minutes passed.
	time.Sleep(5 * time.Second)
	var after soakSample
	settle := time.Now().Add(2 * time.Minute)
	for {
		after = sampleSoak(t, g)
		if before.near(after) || time.Now().After(settle) {
			break
		}
		time.Sleep(time.Second)
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "soak %v\n%-12s %10s %10s %10s\n", *soakTime, "", "before", "end of load", "after")
	fmt.Fprintf(&sb, "%-12s %10d %10d %10d\n", "fds", before.fds, loaded.fds, after.fds)
	fmt.Fprintf(&sb, "%-12s %10d %10d %10d\n", "goroutines", before.goroutines, loaded.goroutines, after.goroutines)
	fmt.Fprintf(&sb, "%-12s %10.1f %10.1f %10.1f\n", "rss_mib", float64(before.rss)/mib, float64(loaded.rss)/mib, float64(after.rss)/mib)
	keys := make([]string, 0, len(stats.m))
	for k := range stats.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "  %-32s %d\n", k, stats.m[k])
	}
	t.Log("\n" + sb.String())
	if g.proc.exited() {
		t.Fatalf("the gateway exited")
	}
	if !before.near(after) {
		t.Fatalf("resources did not return near the baseline: before %+v, after %+v; descriptors now:\n%s", before, after, fdTargets(g.pid()))
	}
}

// soakRound runs each kind of load once. Statuses that must not vary fail
// the test; the fault route's outcomes are only counted.
func soakRound(t *testing.T, g *gateway, st *soakStats, i int) {
	expect := func(op string, got, want int) {
		if got != want {
			t.Errorf("%s: unexpected status; got %d; want %d", op, got, want)
		}
		st.add(op, strconv.Itoa(got))
	}
	// Small PutObjects on one keep-alive connection.
	c := g.dialRaw(t)
	for k := 0; k < 20; k++ {
		expect("put_small", rawPut(c, fmt.Sprintf("/an/small-%d-%d", i, k), 1+int64(k)*3000).status, 200)
	}
	// A large PutObject (detached, spliced).
	expect("put_large", rawPut(c, fmt.Sprintf("/an/large-%d", i), 24*mib+5).status, 200)
	c.Close()

	// A multipart upload through the SDK, and an auth failure.
	cl := mpClient(g, clientAK, clientSK)
	key := fmt.Sprintf("mp-%d", i)
	id := spoolCreate(t, cl, key)
	var parts []types.CompletedPart
	for n := int32(1); n <= 2; n++ {
		out, err := cl.UploadPart(context.Background(), &s3.UploadPartInput{Bucket: aws.String("sp"), Key: aws.String(key), UploadId: aws.String(id),
			PartNumber: aws.Int32(n), Body: bytes.NewReader(genBytes(uint64(i)+uint64(n), 5*mib))})
		if err != nil {
			t.Errorf("UploadPart: %v", err)
			st.add("multipart", "part_error")
			return
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	// A third part, chunked of unknown length: spooled.
	_, fin := chunkedPart(t, g, key, id, 3, "UNSIGNED-PAYLOAD", uint64(i), 3*mib+1)
	r := fin()
	expect("upload_part_chunked", r.status, 200)
	parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(3), ETag: aws.String(r.header.Get("ETag"))})
	_, err := cl.CompleteMultipartUpload(context.Background(), &s3.CompleteMultipartUploadInput{Bucket: aws.String("sp"), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Errorf("CompleteMultipartUpload: %v", err)
		st.add("multipart", "error")
	} else {
		st.add("multipart", "200")
	}
	bad := mpClient(g, clientAK, "wrong-secret")
	_, err = bad.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("sp"), Key: aws.String("denied"), Body: strings.NewReader("x")})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("PutObject with a wrong secret: got %v; want SignatureDoesNotMatch", err)
	}
	st.add("auth_failure", "403")

	// A slow client: 256 KiB in 16 KiB pieces every 50 ms.
	c = g.dialRaw(t)
	if err := c.writePutHead(fmt.Sprintf("/an/slow-%d", i), 256<<10, ""); err == nil {
		src := newGen(uint64(i), 256<<10)
		buf := make([]byte, 16<<10)
		for {
			n, err := io.ReadFull(src, buf)
			if n > 0 {
				c.Write(buf[:n])
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				break
			}
		}
		r, err := c.readResponse("PUT")
		if err != nil {
			t.Errorf("slow client: %v", err)
		}
		expect("slow_client", r.status, 200)
	}
	c.Close()

	// A client that stalls mid-body: 408 RequestTimeout after body_timeout.
	c = g.dialRaw(t)
	c.writePutHead(fmt.Sprintf("/an/stall-%d", i), 1*mib, "")
	c.Write(make([]byte, 100<<10))
	r, err = c.readResponse("PUT")
	if err != nil {
		t.Errorf("stalled client: %v", err)
	}
	expect("stalled_client", r.status, 400)
	c.Close()

	// A client that resets mid-body (detached and in-loop sizes).
	for _, n := range []int64{8 * mib, 100 << 10} {
		c = g.dialRaw(t)
		c.writePutHead(fmt.Sprintf("/an/reset-%d-%d", i, n), n, "")
		c.Write(make([]byte, n/2))
		if tc, ok := c.Conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
		st.add("client_reset", "sent")
	}

	// Backend faults: outcomes vary (200, 502, 503); a response must
	// come. A fresh connection each: a fault reply closes it.
	for k := 0; k < 6; k++ {
		n := int64(64 << 10)
		if k%2 == 1 {
			n = 1 * mib
		}
		c = g.dialRaw(t)
		r := rawPut(c, fmt.Sprintf("/flt/f-%d-%d", i, k), n)
		c.Close()
		st.add("backend_fault", strconv.Itoa(r.status))
		if r.status == 0 {
			t.Errorf("backend fault: no reply to a PUT of %d bytes: %v", n, lastRawErr.Load())
		}
	}
}

// rawPut sends a PUT of n generated bytes on c and reads the reply; status
// 0 when there was none.
func rawPut(c *rawConn, path string, n int64) putResult {
	// A write error may come from a refusal sent early (the gateway stops
	// reading): the reply is read all the same.
	_ = c.writePut(path, uint64(n), n)
	r, err := c.readResponse("PUT")
	if err != nil {
		lastRawErr.Store(err.Error())
		return putResult{}
	}
	return r
}

// fdTargets lists what pid's descriptors point at, for a failure message.
func fdTargets(pid int) string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	var sb strings.Builder
	for _, e := range ents {
		target, _ := os.Readlink(dir + "/" + e.Name())
		fmt.Fprintf(&sb, "  %s -> %s\n", e.Name(), target)
	}
	return sb.String()
}
