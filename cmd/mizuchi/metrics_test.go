package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const metricsBucket = "metrics-bucket"

// TestE2EMetrics runs a known sequence of requests through a SigV4 route
// and checks that /metrics moved by exactly what happened: request counters
// by operation and status, body bytes, authentication outcomes by reason,
// latency histogram counts, the in-flight gauges during an upload and the
// backend connection gauges; then the same for an auto-multipart upload.
// Every scrape is parsed with Prometheus's own text parser and checked
// against docs/METRICS.md.
func TestE2EMetrics(t *testing.T) {
	b := startBackend(t, metricsBucket)
	g := startGateway(t, b, route{name: "m", pathPrefix: "/m", bucket: metricsBucket, keyPrefix: "m/", extra: "" +
		"    auth:\n      enabled: true\n      sigv4:\n" +
		"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n"},
		route{name: "amp", pathPrefix: "/amp", bucket: metricsBucket, keyPrefix: "amp/",
			extra: "    upload: {multipart_threshold: 5MiB, part_size: 5MiB, concurrent_parts: 2}\n"})
	doc := docFamilies(t)
	before := scrapeMetrics(t, g, doc)

	wantBytes := metricsPuts(t, g, b, doc)
	// One PutObject signed with a wrong secret.
	req := sdkSigned(t, g, "/m/denied.bin", genBytes(4, 2<<10), clientAK, "not-the-secret", backendRegion, time.Now())
	if r := send(t, g, req); checkS3Error(t, "wrong secret", r, false) != "SignatureDoesNotMatch" {
		t.Fatalf("PutObject with a wrong secret: %s", r)
	}
	b.checkAbsent(t, metricsBucket, "m/denied.bin")
	wantBytes += metricsMultipart(t, g, b)
	// A read, refused before authentication.
	if r := doSigned(t, g, http.MethodGet, "/m/put0.bin", nil); checkS3Error(t, "GetObject", r, false) != "AccessDenied" {
		t.Fatalf("GetObject: %s", r)
	}

	// Every gauge back to rest (nothing in flight, every backend
	// connection still open is idle), then the deltas.
	after := waitMetrics(t, g, doc, "nothing in flight", func(m samples) bool {
		return m.sum(`mizuchi_inflight_uploads`, "") == 0 && m[`mizuchi_requests_inflight`] == 0 &&
			m[`mizuchi_upstream_connections_open{route="m",path="worker"}`] == m[`mizuchi_upstream_connections_idle{route="m",path="worker"}`] &&
			m[`mizuchi_upstream_connections_open{route="m",path="loop"}`] == m[`mizuchi_upstream_connections_idle{route="m",path="loop"}`]
	})
	checkDeltas(t, before, after, []delta{
		{series: `mizuchi_requests_total{route="m",op="PutObject",status="200"}`, want: 3},
		{series: `mizuchi_requests_total{route="m",op="PutObject",status="403"}`, want: 1},
		{series: `mizuchi_requests_total{route="m",op="CreateMultipartUpload",status="200"}`, want: 1},
		{series: `mizuchi_requests_total{route="m",op="UploadPart",status="200"}`, want: 2},
		{series: `mizuchi_requests_total{route="m",op="CompleteMultipartUpload",status="200"}`, want: 1},
		{series: `mizuchi_requests_total{route="m",op="Read",status="403"}`, want: 1},
		{series: `mizuchi_auth_success_total{method="sigv4"}`, want: 7},
		{series: `mizuchi_auth_failures_total{method="sigv4",reason="signature"}`, want: 1},
		{series: `mizuchi_request_duration_seconds_count{route="m",op="PutObject"}`, want: 3},
		{series: `mizuchi_request_duration_seconds_count{route="m",op="CreateMultipartUpload"}`, want: 1},
		{series: `mizuchi_request_duration_seconds_count{route="m",op="UploadPart"}`, want: 2},
		{series: `mizuchi_request_duration_seconds_count{route="m",op="CompleteMultipartUpload"}`, want: 1},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="m",op="PutObject"}`, want: 3},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="m",op="CreateMultipartUpload"}`, want: 1},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="m",op="UploadPart"}`, want: 2},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="m",op="CompleteMultipartUpload"}`, want: 1},
		{series: `mizuchi_upstream_errors_total`, want: 0},
		{series: `mizuchi_client_aborts_total`, want: 0},
		// In all: nothing else was counted.
		{family: "mizuchi_requests_total", want: 9},
		{family: "mizuchi_auth_failures_total", want: 1},
		{family: "mizuchi_auth_success_total", want: 7},
		{family: "mizuchi_body_bytes_total", want: wantBytes},
		{family: "mizuchi_request_duration_seconds_count", want: 7},
		{family: "mizuchi_upstream_request_duration_seconds_count", want: 7},
	})
	// A request's time includes its backend request's.
	for _, op := range []string{"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"} {
		lbl := `{route="m",op="` + op + `"}`
		req := after[`mizuchi_request_duration_seconds_sum`+lbl] - before[`mizuchi_request_duration_seconds_sum`+lbl]
		up := after[`mizuchi_upstream_request_duration_seconds_sum`+lbl] - before[`mizuchi_upstream_request_duration_seconds_sum`+lbl]
		if up <= 0 || req < up {
			t.Errorf("%s: request time %v s, backend time %v s; want 0 < backend <= request", op, req, up)
		}
	}
	testMetricsAutoMP(t, g, b, doc, after)
}

// metricsPuts sends three PutObjects: two small ones relayed from the
// event loop's buffer, one of 1 MiB whose body leaves the loop; that one is
// sent in two halves, and the in-flight gauges are read in between. It
// returns the body bytes sent.
func metricsPuts(t *testing.T, g *gateway, b *backend, doc map[string]string) float64 {
	puts := []int{1 << 10, 100 << 10, 1 << 20}
	var sent float64
	for i, n := range puts[:2] {
		r := doSigned(t, g, http.MethodPut, fmt.Sprintf("/m/put%d.bin", i), genBytes(uint64(i+1), int64(n)))
		if r.status != 200 {
			t.Fatalf("PutObject of %d bytes: %s", n, r)
		}
		sent += float64(n)
	}
	big := genBytes(3, int64(puts[2]))
	c := g.dialRaw(t)
	writeSignedHead(t, c, sdkSigned(t, g, "/m/put2.bin", big, clientAK, clientSK, backendRegion, time.Now()), int64(len(big)), false)
	if _, err := c.Write(big[:300<<10]); err != nil {
		t.Fatal(err)
	}
	// ... and the worker relaying it holds a backend connection.
	waitMetrics(t, g, doc, "one PutObject in flight on a backend connection", func(m samples) bool {
		return m[`mizuchi_inflight_uploads{kind="put"}`] == 1 && m[`mizuchi_requests_inflight`] == 1 &&
			m[`mizuchi_inflight_uploads{kind="part"}`] == 0 && m[`mizuchi_inflight_uploads{kind="other"}`] == 0 &&
			m[`mizuchi_upstream_connections_open{route="m",path="worker"}`]-m[`mizuchi_upstream_connections_idle{route="m",path="worker"}`] == 1
	})
	if _, err := c.Write(big[300<<10:]); err != nil {
		t.Fatal(err)
	}
	if r, err := c.readResponse(http.MethodPut); err != nil || r.status != 200 {
		t.Fatalf("PutObject of 1 MiB: %v %s", err, r)
	}
	sent += float64(len(big))
	for i, n := range puts {
		if _, size := b.objectSHA(t, metricsBucket, fmt.Sprintf("m/put%d.bin", i)); size != int64(n) {
			t.Fatalf("stored put%d.bin has %d bytes; want %d", i, size, n)
		}
	}
	return sent
}

// metricsMultipart runs a multipart upload of two parts and returns the
// body bytes sent (parts and the completion's XML).
func metricsMultipart(t *testing.T, g *gateway, b *backend) float64 {
	r := doSigned(t, g, http.MethodPost, "/m/mp.bin?uploads", nil)
	m := regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`).FindSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("CreateMultipartUpload: %s", r)
	}
	id := url.QueryEscape(string(m[1]))
	parts := []int{5 << 20, 3 << 10}
	var sent float64
	var xml strings.Builder
	xml.WriteString("<CompleteMultipartUpload>")
	for i, n := range parts {
		r := doSigned(t, g, http.MethodPut, fmt.Sprintf("/m/mp.bin?partNumber=%d&uploadId=%s", i+1, id), genBytes(uint64(10+i), int64(n)))
		if r.status != 200 || r.header.Get("ETag") == "" {
			t.Fatalf("UploadPart %d: %s", i+1, r)
		}
		fmt.Fprintf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i+1, r.header.Get("ETag"))
		sent += float64(n)
	}
	xml.WriteString("</CompleteMultipartUpload>")
	if r := doSigned(t, g, http.MethodPost, "/m/mp.bin?uploadId="+id, []byte(xml.String())); r.status != 200 {
		t.Fatalf("CompleteMultipartUpload: %s", r)
	}
	if _, size := b.objectSHA(t, metricsBucket, "m/mp.bin"); size != int64(parts[0]+parts[1]) {
		t.Fatalf("assembled mp.bin has %d bytes; want %d", size, parts[0]+parts[1])
	}
	return sent + float64(xml.Len())
}

// testMetricsAutoMP sends a PutObject above the threshold of route "amp":
// an auto-multipart upload, in flight as such while its body arrives,
// timed upstream by the operations it sends.
func testMetricsAutoMP(t *testing.T, g *gateway, b *backend, doc map[string]string, before samples) {
	const autoSize = 6 << 20
	c := g.dialRaw(t)
	if err := c.writePutHead("/amp/auto.bin", autoSize, ""); err != nil {
		t.Fatal(err)
	}
	gen := newHashedGen(20, autoSize)
	if _, err := io.CopyN(c, gen, 1<<20); err != nil {
		t.Fatal(err)
	}
	waitMetrics(t, g, doc, "one auto-multipart upload in flight", func(m samples) bool {
		return m[`mizuchi_inflight_uploads{kind="automp"}`] == 1 && m[`mizuchi_inflight_uploads{kind="put"}`] == 0 &&
			m[`mizuchi_requests_inflight`] == 1
	})
	if _, err := io.Copy(c, gen); err != nil {
		t.Fatal(err)
	}
	if r, err := c.readResponse(http.MethodPut); err != nil || r.status != 200 {
		t.Fatalf("auto-multipart PutObject: %v %s", err, r)
	}
	b.checkObject(t, metricsBucket, "amp/auto.bin", 20, autoSize)
	after := waitMetrics(t, g, doc, "nothing in flight", func(m samples) bool {
		return m.sum(`mizuchi_inflight_uploads`, "") == 0 && m[`mizuchi_requests_inflight`] == 0
	})
	checkDeltas(t, before, after, []delta{
		{series: `mizuchi_requests_total{route="amp",op="PutObject",status="200"}`, want: 1},
		{series: `mizuchi_auto_multipart_total{result="completed"}`, want: 1},
		{series: `mizuchi_auto_multipart_part_retries_total`, want: 0},
		{series: `mizuchi_request_duration_seconds_count{route="amp",op="PutObject"}`, want: 1},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="amp",op="PutObject"}`, want: 0},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="amp",op="CreateMultipartUpload"}`, want: 1},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="amp",op="UploadPart"}`, want: 2},
		{series: `mizuchi_upstream_request_duration_seconds_count{route="amp",op="CompleteMultipartUpload"}`, want: 1},
		{family: "mizuchi_body_bytes_total", want: autoSize},
		{family: "mizuchi_requests_total", want: 1},
	})
}

// delta is the expected move of one series, or of a whole family (every
// series of it added up) when family is set.
type delta struct {
	series, family string
	want           float64
}

func checkDeltas(t *testing.T, before, after samples, ds []delta) {
	t.Helper()
	for _, d := range ds {
		if d.family != "" {
			if got := after.sum(d.family, "") - before.sum(d.family, ""); got != d.want {
				t.Errorf("%s moved by %v in all; want %v", d.family, got, d.want)
			}
			continue
		}
		if got := after[d.series] - before[d.series]; got != d.want {
			t.Errorf("%s moved by %v; want %v", d.series, got, d.want)
		}
	}
}

// doSigned sends a request for pathQuery (path and query, already escaped)
// signed with the route's client key, and reads the answer.
func doSigned(t testing.TB, g *gateway, method, pathQuery string, body []byte) putResult {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+g.addr+pathQuery, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	sum := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: clientAK, SecretAccessKey: clientSK}, req, sum, "s3", backendRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	return send(t, g, req)
}

// send does req with the gateway's client and reads the (small) answer.
func send(t testing.TB, g *gateway, req *http.Request) putResult {
	t.Helper()
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return putResult{status: resp.StatusCode, header: resp.Header, body: data}
}

// metricSum scrapes /metrics (strictly, as scrapeMetrics does, without
// the catalogue check) and adds up family's series.
func (g *gateway) metricSum(t testing.TB, family string) float64 {
	t.Helper()
	return scrapeMetrics(t, g, nil).sum(family, "")
}

// samples are the lines of one scrape: "name{labels}" -> value, as written.
type samples map[string]float64

// sum adds the values of family's series whose labels contain labels
// (e.g. `route="m"`; "" for all).
func (m samples) sum(family, labels string) float64 {
	var v float64
	for k, x := range m {
		name, lbl, _ := strings.Cut(k, "{")
		if name == family && strings.Contains(lbl, labels) {
			v += x
		}
	}
	return v
}

// waitMetrics scrapes until ok holds, for up to 30 seconds.
func waitMetrics(t testing.TB, g *gateway, doc map[string]string, what string, ok func(samples) bool) samples {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := scrapeMetrics(t, g, doc)
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrapeMetrics reads /metrics and fails on anything a strict Prometheus
// scraper would reject or misread: a parse error (Prometheus's own text
// parser), a second HELP or TYPE line for a family, a series written twice,
// a family without TYPE, and (doc not nil) a mizuchi_* family missing
// from docs/METRICS.md or typed differently there.
func scrapeMetrics(t testing.TB, g *gateway, doc map[string]string) samples {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + g.admin + "/metrics")
	if err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: status %d, %v", resp.StatusCode, err)
	}
	return checkExposition(t, data, doc)
}

func checkExposition(t testing.TB, data []byte, doc map[string]string) samples {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := make(samples)
	meta := make(map[string]bool)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if kind, rest, ok := strings.Cut(line, " "); ok && kind == "#" {
			f := strings.Fields(rest)
			if len(f) >= 2 && (f[0] == "HELP" || f[0] == "TYPE") {
				if meta[f[0]+" "+f[1]] {
					t.Fatalf("/metrics: a second %s line for %s", f[0], f[1])
				}
				meta[f[0]+" "+f[1]] = true
			}
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("/metrics: line without a value: %q", line)
		}
		series := line[:i]
		if _, dup := out[series]; dup {
			t.Fatalf("/metrics: %s written twice", series)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", line, err)
		}
		out[series] = v
	}
	var untyped, undocumented []string
	for name, f := range fams {
		if f.GetType() == dto.MetricType_UNTYPED {
			untyped = append(untyped, name)
			continue
		}
		if doc == nil || !strings.HasPrefix(name, "mizuchi_") {
			continue
		}
		want, ok := doc[name]
		if !ok {
			undocumented = append(undocumented, name)
			continue
		}
		if got := strings.ToLower(f.GetType().String()); got != want {
			t.Errorf("/metrics: %s is a %s; docs/METRICS.md says %s", name, got, want)
		}
	}
	if len(untyped) > 0 {
		sort.Strings(untyped)
		t.Fatalf("/metrics: families without a TYPE line: %s", strings.Join(untyped, ", "))
	}
	if len(undocumented) > 0 {
		sort.Strings(undocumented)
		t.Errorf("/metrics: series without a line in docs/METRICS.md: %s", strings.Join(undocumented, ", "))
	}
	return out
}
