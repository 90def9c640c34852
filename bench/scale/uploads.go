package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type uploadsConfig struct {
	loadgen string
	url     string
	conns   int
	size    string
	timeout time.Duration
	pid     int
	metrics string
}

type uploadsResult struct {
	Conns        int              `json:"conns"`
	Size         string           `json:"size"`
	SizeBytes    int64            `json:"size_bytes"`
	Requests     int64            `json:"requests"` // 2xx
	Errors       map[string]int64 `json:"errors,omitempty"`
	ErrorTotal   int64            `json:"error_total"`
	ElapsedSec   float64          `json:"elapsed_s"`
	MBPerSec     float64          `json:"mb_per_s"`
	RSSBefore    int64            `json:"rss_before_bytes"`
	RSSPeak      int64            `json:"rss_peak_bytes"` // max VmRSS sampled every 50 ms
	RSSPeakAtSec float64          `json:"rss_peak_at_s"`  // since the phase started
	RSSSamples   int              `json:"rss_samples"`
	// RSSPeakAllInFlight is the max VmRSS sampled while Mizuchi's
	// requests_inflight gauge showed every upload in flight (needs -metrics).
	RSSPeakAllInFlight int64              `json:"rss_peak_all_in_flight_bytes,omitempty"`
	GaugesMax          map[string]float64 `json:"gauges_max,omitempty"` // max of each gauge, scraped every 250 ms
	// BodyBytes is what Mizuchi's body byte counters grew by over the phase
	// (spliced + copied), finished uploads or not (needs -metrics).
	BodyBytes   float64 `json:"mizuchi_body_bytes"`
	ProxyCPUSec float64 `json:"proxy_cpu_s"` // from loadgen's -pid
}

// loadgenReport is the part of loadgen's -json output read here.
type loadgenReport struct {
	Size       int64            `json:"size_bytes"`
	ElapsedSec float64          `json:"elapsed_s"`
	Requests   int64            `json:"requests"`
	Errors     map[string]int64 `json:"errors"`
	ErrorTotal int64            `json:"error_total"`
	MBPerSec   float64          `json:"mb_per_s"`
	Procs      []struct {
		CPUSec float64 `json:"cpu_s"`
	} `json:"procs"`
}

// runUploads runs loadgen with one body per connection, all connections at
// once, and samples Mizuchi meanwhile.
func runUploads(ctx context.Context, log *slog.Logger, cfg uploadsConfig) (*uploadsResult, error) {
	res := &uploadsResult{Conns: cfg.conns, Size: cfg.size, GaugesMax: map[string]float64{}}
	res.RSSBefore, _ = readRSS(cfg.pid)
	var bytesBefore float64
	if cfg.metrics != "" {
		if g, err := scrapeGauges(cfg.metrics); err == nil {
			bytesBefore = bodyBytes(g)
		}
	}

	dir, err := os.MkdirTemp("", "mizuchi-scale-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "uploads.json")
	// -requests = -conns: each connection sends exactly one body. -duration
	// only bounds starting requests; -timeout bounds each one, so the phase
	// ends within about -upload-timeout.
	args := []string{
		"-url", cfg.url, "-size", cfg.size, "-conns", strconv.Itoa(cfg.conns),
		"-requests", strconv.Itoa(cfg.conns), "-duration", cfg.timeout.String(),
		"-timeout", cfg.timeout.String(), "-pid", "proxy=" + strconv.Itoa(cfg.pid),
		"-quiet", "-json", out,
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, cfg.loadgen, args...)
	cmd.Stderr = os.Stderr

	start := time.Now()
	stop := make(chan struct{})
	var allInFlight atomic.Bool // set by the gauge scraper
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // RSS every 50 ms
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, err := readRSS(cfg.pid); err == nil {
				res.RSSSamples++
				if rss > res.RSSPeak {
					res.RSSPeak, res.RSSPeakAtSec = rss, time.Since(start).Seconds()
				}
				if allInFlight.Load() {
					res.RSSPeakAllInFlight = max(res.RSSPeakAllInFlight, rss)
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	go func() { // gauges every 250 ms
		defer wg.Done()
		if cfg.metrics == "" {
			return
		}
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if g, err := scrapeGauges(cfg.metrics); err == nil {
				for k, v := range g {
					res.GaugesMax[k] = max(res.GaugesMax[k], v)
				}
				allInFlight.Store(g["mizuchi_requests_inflight"] >= float64(cfg.conns))
				if b := bodyBytes(g); b > bytesBefore {
					res.BodyBytes = b - bytesBefore
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	runErr := cmd.Run()
	close(stop)
	wg.Wait()
	if runErr != nil {
		return nil, fmt.Errorf("loadgen: %w", runErr)
	}
	log.Info("uploads done", "took", time.Since(start))

	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var lr loadgenReport
	if err := json.Unmarshal(b, &lr); err != nil {
		return nil, fmt.Errorf("cannot parse loadgen's JSON: %w", err)
	}
	res.SizeBytes, res.Requests, res.ErrorTotal = lr.Size, lr.Requests, lr.ErrorTotal
	res.ElapsedSec, res.MBPerSec = lr.ElapsedSec, lr.MBPerSec
	if lr.ErrorTotal > 0 {
		res.Errors = lr.Errors
	}
	if len(lr.Procs) > 0 {
		res.ProxyCPUSec = lr.Procs[0].CPUSec
	}
	if cfg.metrics != "" {
		if g, err := scrapeGauges(cfg.metrics); err == nil && bodyBytes(g) > bytesBefore {
			res.BodyBytes = bodyBytes(g) - bytesBefore
		}
	}
	for k := range res.GaugesMax {
		if strings.HasPrefix(k, "mizuchi_body_bytes_total") {
			delete(res.GaugesMax, k) // counters: reported as BodyBytes
		}
	}
	if len(res.GaugesMax) == 0 {
		res.GaugesMax = nil
	}
	return res, nil
}

// bodyBytes sums Mizuchi's spliced and copied body byte counters.
func bodyBytes(g map[string]float64) float64 {
	return g[`mizuchi_body_bytes_total{path="splice"}`] + g[`mizuchi_body_bytes_total{path="copy"}`]
}
