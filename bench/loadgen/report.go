package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is the JSON written by -json, one object per run. bench/report
// reads these files back, so renaming a field is a change to both.
type report struct {
	Tags        map[string]string `json:"tags,omitempty"`
	StartedAt   time.Time         `json:"started_at"`
	URL         string            `json:"url"`
	Size        int64             `json:"size_bytes"`
	Conns       int               `json:"conns"`
	DurationSec float64           `json:"duration_s"` // as asked
	MaxRequests int64             `json:"max_requests,omitempty"`
	Expect100   bool              `json:"expect100"`
	Auth        string            `json:"auth"`

	ElapsedSec float64           `json:"elapsed_s"`
	Requests   int64             `json:"requests"` // 2xx HTTP requests (also in multipart mode)
	Errors     map[string]int64  `json:"errors"`
	ErrorTotal int64             `json:"error_total"`
	ErrorFirst map[string]string `json:"error_examples,omitempty"` // first message per kind

	Dials     int64          `json:"dials"`
	ReqPerSec float64        `json:"req_per_s"`
	MBPerSec  float64        `json:"mb_per_s"` // 10^6 body bytes of 2xx requests per second
	Latency   latencySummary `json:"latency"`

	Multipart *multipartReport `json:"multipart,omitempty"` // only with -multipart-parts
	TLS       *tlsReport       `json:"tls,omitempty"`       // only with an https:// -url

	Generator procReport   `json:"generator"`
	Procs     []procReport `json:"procs,omitempty"`
	Host      *hostReport  `json:"host,omitempty"`
}

// multipartReport is what -multipart-parts adds. Requests, rates, latency and
// CPU per request in the report stay per HTTP request (each upload is 2+parts
// of them) and MB/s counts part bodies only; max_requests is then the upload
// limit.
type multipartReport struct {
	Parts         int            `json:"parts"`
	Uploads       int64          `json:"uploads"` // completed: CompleteMultipartUpload answered 2xx without <Error>
	UploadsPerSec float64        `json:"uploads_per_s"`
	Latency       latencySummary `json:"upload_latency"` // whole uploads, create to complete
}

// procReport is one measured process. CPU figures are user+system time from
// /proc/PID/stat over the run (10 ms resolution).
type procReport struct {
	PID          int     `json:"pid"`
	Role         string  `json:"role"`
	Comm         string  `json:"comm,omitempty"`
	CPUSec       float64 `json:"cpu_s"`
	CPUSecPerGB  float64 `json:"cpu_s_per_gb"` // per 10^9 body bytes
	USPerReq     float64 `json:"cpu_us_per_req"`
	PeakRSSBytes int64   `json:"peak_rss_bytes,omitempty"` // max VmRSS sampled every 100 ms during the run
	VmHWMBytes   int64   `json:"vm_hwm_bytes,omitempty"`   // lifetime peak, may predate the run
	Error        string  `json:"error,omitempty"`
}

// hostReport is machine-wide CPU from /proc over the run. On a shared box any
// of these says the wall-clock rates are suspect: a high busy fraction, steal,
// accounted time well below capacity (a VM whose vCPUs were not scheduled, not
// always reported as steal), or a high CPU pressure stall fraction.
type hostReport struct {
	CPUs         int     `json:"cpus"`
	CapacitySec  float64 `json:"capacity_s"`    // elapsed × cpus
	AccountedSec float64 `json:"accounted_s"`   // all /proc/stat time, idle included
	BusySec      float64 `json:"busy_s"`        // user+nice+system+irq+softirq
	StealSec     float64 `json:"steal_s"`       // taken by the hypervisor
	BusyFraction float64 `json:"busy_fraction"` // busy / accounted
	PSISomeFrac  float64 `json:"psi_cpu_some"`  // share of the run some task waited for a CPU
	PSIAvailable bool    `json:"psi_available"` // /proc/pressure/cpu was readable
}

func fillPerWork(p *procReport, cpu time.Duration, res *result) {
	p.CPUSec = cpu.Seconds()
	if res.bodyBytes > 0 {
		p.CPUSecPerGB = p.CPUSec / (float64(res.bodyBytes) / 1e9)
	}
	if n := res.ok + res.errTotal(); n > 0 {
		p.USPerReq = p.CPUSec * 1e6 / float64(n)
	}
}

func writeText(w io.Writer, r *report) {
	fmt.Fprintf(w, "target      %s  size=%s conns=%d duration=%gs", r.URL, formatSize(r.Size), r.Conns, r.DurationSec)
	if r.Expect100 {
		fmt.Fprint(w, " expect100")
	}
	fmt.Fprintf(w, " auth=%s\n", r.Auth)
	fmt.Fprintf(w, "requests    %d ok, %d errors%s in %.2fs (%d dials)\n", r.Requests, r.ErrorTotal, errString(r.Errors), r.ElapsedSec, r.Dials)
	for _, k := range sortedKeys(r.ErrorFirst) {
		fmt.Fprintf(w, "  e.g. %s: %s\n", k, r.ErrorFirst[k])
	}
	if mp := r.Multipart; mp != nil {
		fmt.Fprintf(w, "uploads     %d completed of %d parts each, %.1f uploads/s\n", mp.Uploads, mp.Parts, mp.UploadsPerSec)
	}
	if t := r.TLS; t != nil {
		fmt.Fprintf(w, "tls         %s %s %s, verify %s; %d handshakes before the run (mean %s), %d during it\n",
			t.Version, t.Cipher, t.Curve, t.Verify, t.Handshakes-t.HandshakesInRun, us(t.HandshakeMeanUS), t.HandshakesInRun)
	}
	fmt.Fprintf(w, "throughput  %.1f req/s, %.1f MB/s\n", r.ReqPerSec, r.MBPerSec)
	writeLatency(w, "latency    ", r.Latency)
	if mp := r.Multipart; mp != nil {
		writeLatency(w, "upload lat ", mp.Latency)
	}
	g := r.Generator
	fmt.Fprintf(w, "generator   cpu %.2fs  %.1f µs/req  %.3f s/GB\n", g.CPUSec, g.USPerReq, g.CPUSecPerGB)
	for _, p := range r.Procs {
		if p.Error != "" {
			fmt.Fprintf(w, "pid %-7d %s: %s\n", p.PID, p.Role, p.Error)
			continue
		}
		fmt.Fprintf(w, "pid %-7d %s (%s): cpu %.2fs  %.1f µs/req  %.3f s/GB  peak RSS %s (VmHWM %s)\n",
			p.PID, p.Role, p.Comm, p.CPUSec, p.USPerReq, p.CPUSecPerGB, mib(p.PeakRSSBytes), mib(p.VmHWMBytes))
	}
	if h := r.Host; h != nil {
		fmt.Fprintf(w, "host        %d cpus  busy %.1f of %.1f accounted cpu-s (%.0f%%; capacity %.1f)  steal %.2fs",
			h.CPUs, h.BusySec, h.AccountedSec, 100*h.BusyFraction, h.CapacitySec, h.StealSec)
		if h.PSIAvailable {
			fmt.Fprintf(w, "  cpu pressure %.0f%%", 100*h.PSISomeFrac)
		}
		fmt.Fprintln(w)
	}
}

func writeLatency(w io.Writer, label string, l latencySummary) {
	fmt.Fprintf(w, "%s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%d samples)\n",
		label, us(l.P50US), us(l.P90US), us(l.P99US), us(l.P999US), us(l.MaxUS), l.Samples)
}

func errString(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(" (")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	b.WriteString(")")
	return b.String()
}

func us(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fms", v/1e3)
	}
	return fmt.Sprintf("%.0fµs", v)
}

func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }

func hostCPUs() int { return runtime.NumCPU() }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
