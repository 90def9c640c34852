package main

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file reads Linux's /proc and Mizuchi's /metrics. On other systems the
// /proc readers return errors and the figures stay zero.

// readRSS returns VmRSS of pid in bytes from /proc/PID/status.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, "VmRSS:") * 1024, nil
}

// parseStatusKB returns the value of a "Key:  N kB" line of /proc/PID/status,
// in kB, or 0 when the key is missing.
func parseStatusKB(b []byte, key string) int64 {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0
	}
	line := b[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// countFDs returns how many file descriptors pid has open, or -1.
func countFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// raiseNoFile makes sure RLIMIT_NOFILE allows want descriptors, raising the
// soft limit and, if needed and permitted (root), the hard one. It returns
// the soft limit in force afterwards.
func raiseNoFile(want int) (int, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= uint64(want) {
		return int(lim.Cur), nil
	}
	nl := lim
	nl.Cur = uint64(want)
	if nl.Max < nl.Cur {
		nl.Max = nl.Cur
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err != nil {
		// Not root: settle for the hard limit.
		nl = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err2 != nil {
			return int(lim.Cur), errors.Join(err, err2)
		}
		return int(nl.Cur), err
	}
	return int(nl.Cur), nil
}

// gaugeNames are the Mizuchi metrics the phases report: gauges, and the body
// byte counters (whose growth over a phase is what went through).
var gaugeNames = []string{
	"mizuchi_connections_active",
	"mizuchi_requests_inflight",
	"mizuchi_pipes_in_use",
	"mizuchi_pipes_free",
	"mizuchi_fds_accounted",
	`mizuchi_body_bytes_total{path="splice"}`,
	`mizuchi_body_bytes_total{path="copy"}`,
}

var metricsClient = &http.Client{Timeout: 2 * time.Second}

// scrapeGauges reads gaugeNames from a Prometheus text page. Missing gauges
// are absent from the map.
func scrapeGauges(url string) (map[string]float64, error) {
	resp, err := metricsClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("metrics: status " + resp.Status)
	}
	out := make(map[string]float64, len(gaugeNames))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for _, g := range gaugeNames {
			if name == g {
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					out[g] = v
				}
			}
		}
	}
	return out, sc.Err()
}

func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
