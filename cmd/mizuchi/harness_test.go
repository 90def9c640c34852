package main

// End-to-end harness: starts the real mizuchi binary in front of a real S3
// server (versitygw, which checks signatures) and reads objects back directly
// from the backend.
//
// Rules kept here: only loopback addresses, free ports picked by binding :0,
// bodies streamed from a deterministic generator (never a big file, never a
// big buffer), every wait bounded, every started process stopped at cleanup.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

const (
	versitygwVersion = "v1.8.0"
	readyTimeout     = 20 * time.Second
	stopGrace        = 5 * time.Second
	backendRegion    = "us-east-1"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// mizuchiBinary builds the gateway once per test run (lazily, so unit tests
// selected with -run do not pay for it) and returns its path.
func mizuchiBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "mizuchi-e2e-bin-")
		if buildErr != nil {
			return
		}
		bin := filepath.Join(buildDir, "mizuchi")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		args := []string{"build", "-o", bin}
		if raceBuild {
			args = append(args, "-race")
		}
		cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build failed: %v\n%s", err, out)
			return
		}
		buildBin = bin
	})
	if buildErr != nil {
		t.Fatalf("cannot build mizuchi: %v", buildErr)
	}
	return buildBin
}

// versitygwPath finds the versitygw binary: $MIZUCHI_VERSITYGW, then the cache
// of scripts/install-versitygw.sh, then $PATH. Without it the test fails in
// CI and is skipped elsewhere.
func versitygwPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MIZUCHI_VERSITYGW"); p != "" {
		if isExecutable(p) {
			return p
		}
		t.Fatalf("MIZUCHI_VERSITYGW=%q is not an executable file", p)
	}
	dir := os.Getenv("MIZUCHI_TOOLS")
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			if home, err := os.UserHomeDir(); err == nil {
				cache = filepath.Join(home, ".cache")
			}
		}
		if cache != "" {
			dir = filepath.Join(cache, "mizuchi", "bin")
		}
	}
	if dir != "" {
		if p := filepath.Join(dir, "versitygw-"+versitygwVersion); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("versitygw not found (set MIZUCHI_VERSITYGW or run scripts/install-versitygw.sh)")
	}
	t.Skip("versitygw not found; run `make test` (it installs versitygw " + versitygwVersion + ")")
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot pick a free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// syncBuffer collects a child's output for the test log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 { // keep the log bounded
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a started child process in its own process group.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error // valid after done is closed
}

func startProc(t testing.TB, name string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{
		name:   name,
		cmd:    exec.Command(bin, args...),
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	p.cmd.Env = childEnv()
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if raceBuild && strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", name)
		}
		if t.Failed() {
			t.Logf("%s %s\n--- %s stdout ---\n%s\n--- %s stderr ---\n%s", name, strings.Join(args, " "),
				name, p.stdout.String(), name, p.stderr.String())
		}
	})
	return p
}

// childEnv is the environment for children: no proxies, no CA bundle.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "AWS_CA_BUNDLE":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopGrace, then SIGKILLs the process group.
func (p *proc) stop() {
	if p.exited() {
		p.killGroup()
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.killGroup()
}

// killGroup kills what is left of the child's own process group (for example
// the versitygw that mizuchi's dev mode started).
func (p *proc) killGroup() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// waitHTTP polls url until check accepts the response or the timeout passes.
func waitHTTP(t testing.TB, p *proc, url string, timeout time.Duration, check func(*http.Response) bool) error {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited early: %v", p.name, p.err)
		}
		resp, err := c.Get(url)
		if err == nil {
			ok := check(resp)
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if ok {
				return nil
			}
			last = fmt.Errorf("unexpected status %d", resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %v", url, timeout, last)
}

// backend is a running versitygw.
type backend struct {
	addr     string
	endpoint string
	dataDir  string
	ak, sk   string
	proc     *proc
	s3       *s3.Client
}

// startBackend starts versitygw on a free port with a temp data dir and
// throwaway keys, and creates the given buckets.
func startBackend(t testing.TB, buckets ...string) *backend {
	t.Helper()
	vgw := versitygwPath(t)
	b := &backend{
		dataDir: t.TempDir(),
		ak:      "AKTEST" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10),
		sk:      "sk-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-throwaway",
	}
	for _, bucket := range buckets {
		if err := os.Mkdir(filepath.Join(b.dataDir, bucket), 0o755); err != nil {
			t.Fatalf("cannot create bucket dir: %v", err)
		}
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken meanwhile
		b.addr = freeAddr(t)
		b.endpoint = "http://" + b.addr
		b.proc = startProc(t, "versitygw", vgw, "--access", b.ak, "--secret", b.sk, "--port", b.addr, "posix", b.dataDir)
		err = waitHTTP(t, b.proc, b.endpoint+"/", readyTimeout, func(*http.Response) bool { return true })
		if err == nil {
			break
		}
		b.proc.stop()
	}
	if err != nil {
		t.Fatalf("versitygw did not start: %v", err)
	}
	b.s3 = s3.New(s3.Options{
		Region:                     backendRegion,
		BaseEndpoint:               aws.String(b.endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(b.ak, b.sk, ""),
		HTTPClient:                 &http.Client{Transport: &http.Transport{Proxy: nil}},
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return b
}

// objectSHA streams an object from the backend and returns its SHA-256 (hex)
// and size.
func (b *backend) objectSHA(t testing.TB, bucket, key string) (string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("cannot get %s/%q from the backend: %v", bucket, key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		t.Fatalf("cannot read %s/%q from the backend: %v", bucket, key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// checkObject fails the test unless the backend holds bucket/key with the
// generator's content for (seed, size).
func (b *backend) checkObject(t testing.TB, bucket, key string, seed uint64, size int64) {
	t.Helper()
	got, n := b.objectSHA(t, bucket, key)
	if n != size {
		t.Fatalf("unexpected size of %s/%q on the backend; got %d; want %d", bucket, key, n, size)
	}
	if want := genSHA(seed, size); got != want {
		t.Fatalf("unexpected sha256 of %s/%q on the backend; got %s; want %s", bucket, key, got, want)
	}
}

// exists reports whether the backend holds bucket/key.
func (b *backend) exists(t testing.TB, bucket, key string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey") {
		return false
	}
	t.Fatalf("cannot head %s/%q on the backend: %v", bucket, key, err)
	return false
}

func (b *backend) checkAbsent(t testing.TB, bucket, key string) {
	t.Helper()
	if b.exists(t, bucket, key) {
		t.Fatalf("object %s/%q exists on the backend; want none", bucket, key)
	}
}

// remove deletes an object on the backend (to keep big test data off disk).
func (b *backend) remove(t testing.TB, bucket, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Errorf("cannot delete %s/%q on the backend: %v", bucket, key, err)
	}
}

// route is one bucket entry of the gateway config.
type route struct {
	name, pathPrefix, bucket, keyPrefix string
	extra                               string // more YAML for the bucket entry, each line indented by 4 spaces
}

// gatewayConfigTLS renders a YAML config for routes onto backend b, with
// server.tls when tc is not nil.
func gatewayConfigTLS(b *backend, listen, admin string, tc *testCerts, vhostDomains []string, routes ...route) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "server:\n  address: %q\n  upload_id_secret: %q\n", listen, testUploadIDSecret)
	if len(vhostDomains) > 0 {
		fmt.Fprintf(&sb, "  virtual_host_domains: [%s]\n", strings.Join(vhostDomains, ", "))
	}
	if tc != nil {
		fmt.Fprintf(&sb, "  tls:\n    cert_file: %q\n    key_file: %q\n", tc.certFile, tc.keyFile)
	}
	sb.WriteString("buckets:\n")
	for _, r := range routes {
		fmt.Fprintf(&sb, "  - name: %s\n    path_prefix: %s\n    s3:\n", r.name, r.pathPrefix)
		fmt.Fprintf(&sb, "      bucket: %s\n      region: %s\n      endpoint: %s\n", r.bucket, backendRegion, b.endpoint)
		fmt.Fprintf(&sb, "      access_key: %s\n      secret_key: %s\n      key_prefix: %q\n", b.ak, b.sk, r.keyPrefix)
		sb.WriteString(r.extra)
	}
	fmt.Fprintf(&sb, "metrics:\n  enabled: true\n  port: %s\n", portOf(admin))
	return sb.String()
}

// testUploadIDSecret seals multipart upload ids in every test gateway
// (required once a route has more than one identity).
const testUploadIDSecret = "e2e-upload-id-secret-0123456789abcdef0123456789"

// gateway is a running mizuchi.
type gateway struct {
	addr   string // S3 listener
	admin  string // admin listener
	proc   *proc
	client *http.Client // trusts the gateway's CA when scheme is "https"

	scheme string // "http" or "https" (the S3 listener; admin is always http)
	caPEM  []byte // PEM of the throwaway CA that signed the gateway's certificate (https only)
	caFile string // caPEM written to a file (https only)
	certs  *testCerts
	cfg    string // path of the configuration file
}

// gwOptions are the knobs of startGatewayWith.
type gwOptions struct {
	tls  bool     // serve HTTPS with a throwaway CA (see gateway.caPEM, caFile)
	args []string // extra command-line flags, e.g. "-header-timeout", "2s"
	// vhostDomains sets server.virtual_host_domains (bucket.<domain> addressing)
	vhostDomains []string
	// uploadIDSecrets replaces server.upload_id_secret (testUploadIDSecret)
	// with server.upload_id_secrets (the rotation list); nil keeps it.
	uploadIDSecrets []string
	// yaml is appended to the configuration (top-level sections, e.g. tracing).
	yaml string
	// serverYAML is added to the server section (lines indented by 2 spaces).
	serverYAML string
}

// startGateway writes a config for routes and starts mizuchi on free ports.
func startGateway(t testing.TB, b *backend, routes ...route) *gateway {
	t.Helper()
	return startGatewayWith(t, b, gwOptions{}, routes...)
}

// startGatewayWith is startGateway with options.
func startGatewayWith(t testing.TB, b *backend, o gwOptions, routes ...route) *gateway {
	t.Helper()
	bin := mizuchiBinary(t)
	dir := t.TempDir()
	var tc *testCerts
	if o.tls {
		tc = newTestCerts(t, dir)
	}
	var g *gateway
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		g = &gateway{addr: freeAddr(t), admin: freeAddr(t), scheme: "http", certs: tc}
		if tc != nil {
			g.scheme, g.caPEM, g.caFile = "https", tc.caPEM, tc.caFile
		}
		g.cfg = filepath.Join(dir, "mizuchi.yaml")
		cfg := gatewayConfigTLS(b, g.addr, g.admin, tc, o.vhostDomains, routes...)
		if o.uploadIDSecrets != nil {
			cfg = strings.Replace(cfg, fmt.Sprintf("  upload_id_secret: %q\n", testUploadIDSecret),
				fmt.Sprintf("  upload_id_secrets: [%s]\n", strings.Join(o.uploadIDSecrets, ", ")), 1)
		}
		cfg += o.yaml
		cfg = strings.Replace(cfg, "server:\n", "server:\n"+o.serverYAML, 1)
		if werr := os.WriteFile(g.cfg, []byte(cfg), 0o600); werr != nil {
			t.Fatalf("cannot write config: %v", werr)
		}
		args := append([]string{"-config", g.cfg, "-listen", g.addr, "-admin-listen", g.admin}, o.args...)
		g.proc = startProc(t, "mizuchi", bin, args...)
		err = g.waitReady(t)
		if err == nil {
			break
		}
		g.proc.stop()
		if !strings.Contains(g.proc.stderr.String(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("mizuchi did not become ready: %v\n--- stderr ---\n%s", err, g.proc.stderr.String())
	}
	g.client = newHTTPClient()
	if tc != nil {
		g.client.Transport.(*http.Transport).TLSClientConfig = g.tlsConfig()
	}
	return g
}

// endpoint is the S3 listener's base URL, scheme://host:port.
func (g *gateway) endpoint() string {
	if g.scheme == "" {
		return "http://" + g.addr
	}
	return g.scheme + "://" + g.addr
}

// tlsConfig trusts the gateway's CA only (never AWS_CA_BUNDLE or the system
// pool); nil for an http gateway.
func (g *gateway) tlsConfig() *tls.Config {
	if len(g.caPEM) == 0 {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(g.caPEM)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// sighup sends SIGHUP and waits until logLine appears in the log once more
// than before (a reload's outcome: "configuration reloaded" or "reload
// refused").
func (g *gateway) sighup(t testing.TB, logLine string) {
	t.Helper()
	n := strings.Count(g.proc.stderr.String(), logLine)
	if err := g.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(g.proc.stderr.String(), logLine) == n {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log after SIGHUP:\n%s", logLine, g.proc.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *gateway) waitReady(t testing.TB) error {
	return waitHTTP(t, g.proc, "http://"+g.admin+"/readyz", readyTimeout, func(r *http.Response) bool { return r.StatusCode == 200 })
}

func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			MaxIdleConnsPerHost:   64,
			ExpectContinueTimeout: 5 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			DisableCompression:    true,
		},
		Timeout: 10 * time.Minute,
	}
}

func (g *gateway) pid() int { return g.proc.cmd.Process.Pid }

// metric returns the value of the metric line whose name and labels are
// exactly nameLabels (e.g. `mizuchi_body_bytes_total{path="splice"}`); a
// missing line reads as 0 and found=false.
func (g *gateway) metric(t testing.TB, nameLabels string) (v float64, found bool) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + g.admin + "/metrics")
	if err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unexpected /metrics status; got %d; want 200", resp.StatusCode)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, nameLabels+" ")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			t.Fatalf("cannot parse metric line %q: %v", line, err)
		}
		return v, true
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	return 0, false
}

// vmRSS returns the resident set size of pid in bytes.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}

// gen produces n deterministic pseudo-random bytes (xorshift64*) for seed;
// the bytes do not depend on how Read calls are sized.
type gen struct {
	state uint64
	left  int64
	cur   [8]byte
	off   int
}

func newGen(seed uint64, n int64) *gen {
	return &gen{state: seed*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D, left: n, off: 8}
}

func (g *gen) next() uint64 {
	x := g.state
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	g.state = x
	return x * 0x2545F4914F6CDD1D
}

func (g *gen) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n := 0
	for n < len(p) {
		if g.off < 8 {
			c := copy(p[n:], g.cur[g.off:])
			n += c
			g.off += c
			continue
		}
		if len(p)-n >= 8 {
			binary.LittleEndian.PutUint64(p[n:], g.next())
			n += 8
			continue
		}
		binary.LittleEndian.PutUint64(g.cur[:], g.next())
		g.off = 0
	}
	g.left -= int64(n)
	return n, nil
}

var (
	shaCacheMu sync.Mutex
	shaCache   = map[[2]uint64]string{}
)

// genSHA returns the hex SHA-256 of the generator's output for (seed, n).
func genSHA(seed uint64, n int64) string {
	k := [2]uint64{seed, uint64(n)}
	shaCacheMu.Lock()
	s, ok := shaCache[k]
	shaCacheMu.Unlock()
	if ok {
		return s
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(h, newGen(seed, n), buf); err != nil {
		panic(err)
	}
	s = hex.EncodeToString(h.Sum(nil))
	shaCacheMu.Lock()
	shaCache[k] = s
	shaCacheMu.Unlock()
	return s
}

// hashedGen is a gen that also hashes what it produced and, once all n
// bytes were read, records the digest for genSHA: an upload then pays for
// generating its body once.
type hashedGen struct {
	*gen
	seed uint64
	n    int64
	h    hash.Hash
}

func newHashedGen(seed uint64, n int64) io.Reader {
	return &hashedGen{gen: newGen(seed, n), seed: seed, n: n, h: sha256.New()}
}

func (g *hashedGen) Read(p []byte) (int, error) {
	n, err := g.gen.Read(p)
	if g.h == nil {
		return n, err
	}
	g.h.Write(p[:n])
	if err == io.EOF {
		s := hex.EncodeToString(g.h.Sum(nil))
		g.h = nil
		shaCacheMu.Lock()
		shaCache[[2]uint64{g.seed, uint64(g.n)}] = s
		shaCacheMu.Unlock()
	}
	return n, err
}

// genBytes returns a small generated body in memory (tests keep n small).
func genBytes(seed uint64, n int64) []byte {
	b, _ := io.ReadAll(newGen(seed, n))
	return b
}

// s3EscapePath percent-encodes each path segment per RFC 3986 (unreserved
// characters kept, '/' kept), as S3 clients do.
func s3EscapePath(p string) string {
	const hexdig = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '-' || c == '_' || c == '.' || c == '~' ||
			(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexdig[c>>4])
		sb.WriteByte(hexdig[c&15])
	}
	return sb.String()
}

// shaMode says what x-amz-content-sha256 a test PUT carries.
type shaMode int

const (
	shaAbsent shaMode = iota
	shaHex
	shaUnsigned
)

func (m shaMode) String() string {
	switch m {
	case shaHex:
		return "hex"
	case shaUnsigned:
		return "unsigned"
	}
	return "absent"
}

// putOpts are the knobs of a test PUT through the gateway.
type putOpts struct {
	expect bool    // send Expect: 100-continue
	sha    shaMode // x-amz-content-sha256
	header http.Header
}

// putResult is a small, fully read response.
type putResult struct {
	status int
	header http.Header
	body   []byte
}

func (r putResult) String() string {
	return fmt.Sprintf("status %d, body %q", r.status, r.body)
}

// put uploads n generated bytes for seed to path (already escaped) through g.
func (g *gateway) put(t testing.TB, path string, seed uint64, n int64, o putOpts) putResult {
	t.Helper()
	var body io.Reader = http.NoBody
	if n > 0 {
		body = newHashedGen(seed, n)
	}
	return g.putReader(t, path, body, n, o, seed)
}

func (g *gateway) putReader(t testing.TB, path string, body io.Reader, n int64, o putOpts, seed uint64) putResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, g.endpoint()+"/", body)
	if err != nil {
		t.Fatalf("cannot build request: %v", err)
	}
	req.URL.Opaque = path
	req.ContentLength = n
	if n == 0 {
		req.Body = http.NoBody
	}
	for k, vs := range o.header {
		req.Header[k] = vs
	}
	if o.expect {
		req.Header.Set("Expect", "100-continue")
	}
	switch o.sha {
	case shaHex:
		req.Header.Set("X-Amz-Content-Sha256", genSHA(seed, n))
	case shaUnsigned:
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("PUT %s (%d bytes) failed: %v", path, n, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("cannot read response of PUT %s: %v", path, err)
	}
	return putResult{status: resp.StatusCode, header: resp.Header, body: rb}
}

// mustPut uploads and fails the test unless the gateway answers 200.
func (g *gateway) mustPut(t testing.TB, path string, seed uint64, n int64, o putOpts) putResult {
	t.Helper()
	r := g.put(t, path, seed, n, o)
	if r.status != http.StatusOK {
		t.Fatalf("unexpected PUT %s (%d bytes, expect=%v, sha=%s) result: %s", path, n, o.expect, o.sha, r)
	}
	return r
}

// do sends an arbitrary request to the gateway and reads the (small) answer.
func (g *gateway) do(t testing.TB, method, path string, body []byte, hdr http.Header) putResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rb io.Reader = http.NoBody
	if body != nil {
		rb = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.endpoint()+"/", rb)
	if err != nil {
		t.Fatalf("cannot build request: %v", err)
	}
	req.URL.Opaque = path
	req.ContentLength = int64(len(body))
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s failed: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("cannot read response of %s %s: %v", method, path, err)
	}
	return putResult{status: resp.StatusCode, header: resp.Header, body: data}
}

// rawConn is a hand-driven client connection to the gateway.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

// dialRaw connects to the S3 listener (over TLS for an https gateway).
func (g *gateway) dialRaw(t testing.TB) *rawConn {
	t.Helper()
	var c net.Conn
	var err error
	if tc := g.tlsConfig(); tc != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", g.addr, tc)
	} else {
		c, err = net.DialTimeout("tcp", g.addr, 5*time.Second)
	}
	if err != nil {
		t.Fatalf("cannot dial the gateway: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	return &rawConn{Conn: c, br: bufio.NewReaderSize(c, 64<<10)}
}

// writePutHead writes a PUT head for path with Content-Length n.
func (c *rawConn) writePutHead(path string, n int64, extra string) error {
	head := "PUT " + path + " HTTP/1.1\r\nHost: " + c.RemoteAddr().String() +
		"\r\nContent-Length: " + strconv.FormatInt(n, 10) + "\r\n" + extra + "\r\n"
	_, err := io.WriteString(c, head)
	return err
}

// writePut writes a whole PUT (head and generated body).
func (c *rawConn) writePut(path string, seed uint64, n int64) error {
	if err := c.writePutHead(path, n, ""); err != nil {
		return err
	}
	_, err := io.CopyBuffer(c, newHashedGen(seed, n), make([]byte, 256<<10))
	return err
}

// readResponse reads one response and its (small) body.
func (c *rawConn) readResponse(method string) (putResult, error) {
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return putResult{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return putResult{}, err
	}
	return putResult{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// expectClosed fails unless the peer closes the connection within a few
// seconds without sending anything more.
func (c *rawConn) expectClosed(t testing.TB) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	n, err := c.br.Read(b[:])
	if n > 0 {
		t.Fatalf("unexpected data after the response; want the connection closed")
	}
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open; want it closed (err %v)", err)
	}
}

// checkS3Error fails unless r is an S3 XML error with a 4xx/5xx status and a
// request id; it returns the <Code>.
func checkS3Error(t testing.TB, what string, r putResult, head bool) string {
	t.Helper()
	if r.status < 400 || r.status > 599 {
		t.Fatalf("%s: unexpected status; got %s; want 4xx/5xx", what, r)
	}
	if r.header.Get("X-Amz-Request-Id") == "" {
		t.Fatalf("%s: missing x-amz-request-id header (%s)", what, r)
	}
	if head {
		return ""
	}
	s := string(r.body)
	i := strings.Index(s, "<Error>")
	j := strings.Index(s, "<Code>")
	k := strings.Index(s, "</Code>")
	if i < 0 || j < i || k < j {
		t.Fatalf("%s: body is not an S3 XML error: %s", what, r)
	}
	return s[j+len("<Code>") : k]
}

// sampleRSS returns the process's RSS now and a function that stops
// sampling it (every 20 ms) and returns the peak seen.
func sampleRSS(t testing.TB, pid int) (before int64, peak func() int64) {
	t.Helper()
	before, err := vmRSS(pid)
	if err != nil {
		t.Fatalf("cannot read gateway RSS: %v", err)
	}
	var max atomic.Int64
	max.Store(before)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if rss, err := vmRSS(pid); err == nil && rss > max.Load() {
					max.Store(rss)
				}
			}
		}
	}()
	return before, func() int64 {
		close(stop)
		<-sampled
		return max.Load()
	}
}
