// Command loadgen is Mizuchi's PUT load generator.
//
// Each of -conns workers owns one raw keep-alive TCP connection and sends
// PUT <url>/<conn>-<seq> requests back to back: the head, then the body
// written from one shared pre-filled buffer (a 64 MiB body is the 1 MiB
// buffer written 64 times), then it parses the response head and drains its
// body. A run ends when -duration passes or -requests have been started,
// whichever is first; both bounds always apply.
//
// With -multipart-parts N each iteration of a worker is instead one whole S3
// multipart upload on its connection: POST <key>?uploads, N PUT
// <key>?partNumber=i&uploadId=ID of -size bytes each, and POST
// <key>?uploadId=ID with the CompleteMultipartUpload XML listing the parts'
// ETags. A failed step counts one error and ends that upload (it is not
// aborted); the worker goes on with the next. Requests, latencies and CPU
// per request still count HTTP requests; uploads and their create-to-complete
// latencies are reported besides.
//
// Besides rates and latency percentiles it reads /proc for the CPU time of
// itself and of every -pid process over the run, and samples their RSS every
// 100 ms. On a shared machine CPU per request and per GB are steadier than
// wall-clock rates; see bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

var (
	targetURL    = flag.String("url", "", "target prefix, e.g. http://127.0.0.1:8080/uploads/bench; each request PUTs <url>/<conn>-<seq>")
	size         = sizeFlag{n: 1 << 10}
	conns        = flag.Int("conns", 16, "concurrent keep-alive connections, one worker each")
	duration     = flag.Duration("duration", 10*time.Second, "run length; always applies, even with -requests (max 1h)")
	requests     = flag.Int64("requests", 0, "stop after this many requests were started (with -multipart-parts: uploads, each 2+N requests); 0 means no limit within -duration")
	keySet       = flag.Int64("keys", 0, "N >= 1: plain PUTs cycle over N keys <url>/k0 … k<N-1>, the same on every connection (requests repeat, e.g. to exercise a decision cache); 0 means a fresh key per request")
	mpParts      = flag.Int("multipart-parts", 0, "N >= 1: each iteration is one multipart upload (create, N parts of -size bytes, complete) to a fresh key; 0 means plain PUTs")
	expect100    = flag.Bool("expect100", false, "send Expect: 100-continue and wait for the 100 before the body")
	authMode     = flag.String("auth", "none", "request authentication: none, sigv4 (every request signed afresh, UNSIGNED-PAYLOAD) or jwt (Authorization: Bearer, one token for the run)")
	region       = flag.String("region", "us-east-1", "SigV4 credential-scope region, with -auth sigv4")
	accessKey    = flag.String("access-key", "benchak", "SigV4 access key id, with -auth sigv4")
	secretKey    = flag.String("secret-key", "benchsk", "SigV4 secret key, with -auth sigv4")
	jwtToken     = flag.String("jwt-token", "", "bearer token to send, with -auth jwt; exclusive with -jwt-secret")
	jwtSecret    = flag.String("jwt-secret", "", "with -auth jwt: mint one HS256 token at start (sub=bench, iat=now, exp=now+1h) with this secret")
	timeout      = flag.Duration("timeout", 30*time.Second, "per-request deadline covering connect, write and read")
	bufSize      = sizeFlag{n: 1 << 20}
	pids         pidFlag
	tags         tagFlag
	jsonOut      = flag.String("json", "", "write the result as JSON to this file")
	quiet        = flag.Bool("quiet", false, "do not print the human-readable block")
	allowNonLoop = flag.Bool("allow-nonloopback", false, "allow a -url host that is not a loopback address")
	freePorts    = flag.Int("free-ports", 0, "print this many currently free 127.0.0.1 TCP ports, one a line, and exit (for scripts)")
	caFile       = flag.String("cacert", "", "https:// -url: verify the server's certificate against the PEM certificates in this file instead of the system roots")
	insecure     = flag.Bool("insecure", false, "https:// -url: do not verify the server's certificate")
	tlsCipher    = flag.String("tls-cipher", "", "https:// -url: fail every handshake that does not negotiate this TLS 1.3 cipher suite, e.g. TLS_AES_128_GCM_SHA256")
	genCertDir   = flag.String("gen-cert", "", "write a fresh self-signed ECDSA P-256 certificate for 127.0.0.1, ::1 and localhost to DIR/cert.pem and its key to DIR/key.pem, and exit (for scripts)")
)

func init() {
	flag.Var(&size, "size", "body size per request: bytes or with a KiB, MiB, GiB (or KB, MB, GB) suffix")
	flag.Var(&bufSize, "buf", "size of the shared body buffer; larger bodies repeat it")
	flag.Var(&pids, "pid", "measure CPU and RSS of this process over the run: PID or ROLE=PID; repeatable, comma lists allowed")
	flag.Var(&tags, "tag", "KEY=VALUE copied into the JSON (repeatable); bench/report groups by workload, target and round")
}

func main() {
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *freePorts > 0 {
		if err := printFreePorts(*freePorts); err != nil {
			log.Error("cannot find free ports", "err", err)
			os.Exit(1)
		}
		return
	}
	if *genCertDir != "" {
		if err := genCert(*genCertDir); err != nil {
			log.Error("cannot write the certificate", "err", err)
			os.Exit(1)
		}
		return
	}

	cfg := &config{
		size:      size.n,
		parts:     *mpParts,
		keys:      *keySet,
		conns:     *conns,
		duration:  *duration,
		requests:  *requests,
		expect100: *expect100,
		timeout:   *timeout,
		bufSize:   int(min(bufSize.n, 1<<30)),
	}
	var err error
	auth := &authConfig{
		mode:      *authMode,
		region:    *region,
		accessKey: *accessKey,
		secretKey: *secretKey,
		jwtToken:  *jwtToken,
		jwtSecret: *jwtSecret,
	}
	if cfg.newSigner, err = newSigner(auth, time.Now()); err != nil {
		log.Error("bad flags", "err", err)
		os.Exit(2)
	}
	if err := configFromURL(cfg, *targetURL, *allowNonLoop); err != nil {
		log.Error("bad flags", "err", err)
		os.Exit(2)
	}
	tlsOpts := tlsOptions{caFile: *caFile, insecure: *insecure, cipherName: *tlsCipher}
	if cfg.https {
		host, _, _ := net.SplitHostPort(cfg.addr)
		if cfg.tls, cfg.tlsCipher, err = clientTLS(tlsOpts, host); err != nil {
			log.Error("bad flags", "err", err)
			os.Exit(2)
		}
		cfg.tlsVerify = tlsOpts.verify()
	} else if tlsOpts != (tlsOptions{}) {
		log.Error("bad flags", "err", "-cacert, -insecure and -tls-cipher need an https:// -url")
		os.Exit(2)
	}
	if err := cfg.validate(); err != nil {
		log.Error("bad flags", "err", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	rep, err := measure(ctx, cfg, pids)
	if err != nil {
		log.Error("run failed", "err", err)
		os.Exit(1)
	}
	rep.URL = *targetURL
	rep.Auth = *authMode
	if len(tags) > 0 {
		rep.Tags = tags
	}
	if !*quiet {
		writeText(os.Stdout, rep)
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			log.Error("cannot write -json", "err", err)
			os.Exit(1)
		}
	}
}

// measure runs cfg while watching the given processes, and builds the report.
func measure(ctx context.Context, cfg *config, specs []pidSpec) (*report, error) {
	rep := &report{
		StartedAt:   time.Now().UTC(),
		Size:        cfg.size,
		Conns:       cfg.conns,
		DurationSec: cfg.duration.Seconds(),
		MaxRequests: cfg.requests,
		Expect100:   cfg.expect100,
	}
	// The readings start once every connection is open (see run).
	var (
		watch     *pidWatch
		hostStart hostCPU
		selfStart time.Duration
		hostErr   error
		selfErr   error
	)
	cfg.onStart = func() {
		watch = startPidWatch(specs)
		hostStart, hostErr = readHostCPU()
		selfStart, selfErr = procCPU(0)
	}

	res, err := run(ctx, cfg)
	if watch == nil { // run failed before it started
		if err == nil {
			err = errors.New("the run did not start")
		}
		return nil, err
	}

	selfEnd, selfErr2 := procCPU(0)
	hostEnd, hostErr2 := readHostCPU()
	watch.finish()
	if err != nil {
		return nil, err
	}
	if cfg.https {
		rep.TLS = newTLSReport(cfg.tlsVerify, res)
	}

	rep.ElapsedSec = res.elapsed.Seconds()
	rep.Requests = res.ok
	rep.Errors = res.errs
	rep.ErrorTotal = res.errTotal()
	if len(res.firstErr) > 0 {
		rep.ErrorFirst = res.firstErr
	}
	rep.Dials = res.dials
	if s := res.elapsed.Seconds(); s > 0 {
		rep.ReqPerSec = float64(res.ok) / s
		rep.MBPerSec = float64(res.bodyBytes) / 1e6 / s
	}
	rep.Latency = summarize(res.latencies)
	if cfg.parts > 0 {
		mp := &multipartReport{Parts: cfg.parts, Uploads: res.uploads}
		if s := res.elapsed.Seconds(); s > 0 {
			mp.UploadsPerSec = float64(res.uploads) / s
		}
		mp.Latency = summarize(res.uploadLatencies)
		rep.Multipart = mp
	}

	rep.Generator = procReport{PID: os.Getpid(), Role: "generator"}
	if selfErr != nil || selfErr2 != nil {
		rep.Generator.Error = "cannot read /proc/self/stat"
	} else {
		fillPerWork(&rep.Generator, selfEnd-selfStart, res)
	}
	for _, p := range watch.procs {
		pr := procReport{PID: p.pid, Role: p.role, Comm: p.comm}
		if p.err != nil {
			pr.Error = p.err.Error()
		} else {
			fillPerWork(&pr, p.cpuEnd-p.cpuStart, res)
			pr.PeakRSSBytes = p.maxRSS
			pr.VmHWMBytes = p.hwm
		}
		rep.Procs = append(rep.Procs, pr)
	}
	if hostErr == nil && hostErr2 == nil {
		n := hostCPUs()
		h := &hostReport{
			CPUs:         n,
			CapacitySec:  res.elapsed.Seconds() * float64(n),
			AccountedSec: (hostEnd.total - hostStart.total).Seconds(),
			BusySec:      (hostEnd.busy - hostStart.busy).Seconds(),
			StealSec:     (hostEnd.steal - hostStart.steal).Seconds(),
		}
		if h.AccountedSec > 0 {
			h.BusyFraction = h.BusySec / h.AccountedSec
		}
		if hostStart.psiOK && hostEnd.psiOK && res.elapsed > 0 {
			h.PSIAvailable = true
			h.PSISomeFrac = float64(hostEnd.psiSome-hostStart.psiSome) / float64(res.elapsed)
		}
		rep.Host = h
	}
	return rep, nil
}

func printFreePorts(n int) error {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// tagFlag collects -tag KEY=VALUE pairs.
type tagFlag map[string]string

func (f *tagFlag) String() string {
	var parts []string
	for k, v := range *f {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (f *tagFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("cannot parse tag %q: want KEY=VALUE", v)
	}
	if *f == nil {
		*f = make(tagFlag)
	}
	(*f)[k] = val
	return nil
}
