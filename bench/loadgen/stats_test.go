package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	f := func(samples []time.Duration, p float64, want time.Duration) {
		t.Helper()
		if got := percentile(samples, p); got != want {
			t.Fatalf("unexpected p%v of %v; got %v; want %v", p, samples, got, want)
		}
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	f(nil, 50, 0)
	f([]time.Duration{7}, 50, 7)
	f([]time.Duration{7}, 99.9, 7)
	f([]time.Duration{1, 2}, 50, 1)
	f([]time.Duration{1, 2}, 51, 2)
	f([]time.Duration{1, 2, 3, 4}, 50, 2)
	f([]time.Duration{1, 2, 3, 4}, 75, 3)
	f([]time.Duration{1, 2, 3, 4}, 100, 4)
	f(hundred, 50, 50)
	f(hundred, 90, 90)
	f(hundred, 99, 99)
	f(hundred, 99.9, 100)
	f(hundred, 0.001, 1)
}

func TestSummarize(t *testing.T) {
	samples := []time.Duration{4 * time.Microsecond, 1 * time.Microsecond, 3 * time.Microsecond, 2 * time.Microsecond}
	s := summarize(samples)
	if s.Samples != 4 || s.P50US != 2 || s.P99US != 4 || s.MaxUS != 4 || s.MeanUS != 2.5 {
		t.Fatalf("unexpected summary %+v", s)
	}
	if s := summarize(nil); s.Samples != 0 || s.P50US != 0 {
		t.Fatalf("unexpected summary of no samples %+v", s)
	}
}
