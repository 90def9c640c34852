package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p% of the
// samples are less than or equal to it. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// latencySummary is what the report keeps of the latency samples.
type latencySummary struct {
	Samples int     `json:"samples"`
	MeanUS  float64 `json:"mean_us"`
	P50US   float64 `json:"p50_us"`
	P90US   float64 `json:"p90_us"`
	P99US   float64 `json:"p99_us"`
	P999US  float64 `json:"p99_9_us"`
	MaxUS   float64 `json:"max_us"`
}

// summarize sorts samples in place and summarizes them.
func summarize(samples []time.Duration) latencySummary {
	slices.Sort(samples)
	s := latencySummary{Samples: len(samples)}
	if len(samples) == 0 {
		return s
	}
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	s.MeanUS = us(sum) / float64(len(samples))
	s.P50US = us(percentile(samples, 50))
	s.P90US = us(percentile(samples, 90))
	s.P99US = us(percentile(samples, 99))
	s.P999US = us(percentile(samples, 99.9))
	s.MaxUS = us(samples[len(samples)-1])
	return s
}
