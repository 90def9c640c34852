package config

import (
	"flag"
	"strings"
	"testing"
)

func TestParse_MemorySuccess(t *testing.T) {
	f := func(data string, want Size) {
		t.Helper()
		c := mustParse(t, data, nil)
		if got := c.Server.Memory.BufferBudget; got != want {
			t.Fatalf("unexpected server.memory.buffer_budget; got %d; want %d", got, want)
		}
	}
	server := func(lines string) string { return strings.Replace(minimal, "server:\n", "server:\n"+lines, 1) }
	f(minimal, 256<<20)
	f(server("  memory: {buffer_budget: 1GiB}\n"), 1<<30)
	// Exactly one default part (16MiB) plus the chunked read buffers.
	f(server("  memory: {buffer_budget: 16896KiB}\n"), 16896<<10)
	f(server("  memory: {buffer_budget: 6MiB}\n")+"    upload: {part_size: 5MiB}\n", 6<<20)
}

func TestParse_MemoryFailure(t *testing.T) {
	f := func(data, want string) {
		t.Helper()
		_, err := Parse([]byte(data), testEnv(nil))
		if err == nil {
			t.Fatalf("expecting an error for\n%s", data)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
	}
	server := func(lines string) string { return strings.Replace(minimal, "server:\n", "server:\n"+lines, 1) }
	f(server("  memory: {buffer_budget: 512KiB}\n"), "server.memory.buffer_budget: must be at least 1MiB, got 524288")
	f(server("  memory: {buffer_budget: 16MiB}\n"), "server.memory.buffer_budget: 16777216 is too small for buckets[0].upload.part_size 16777216")
	f(server("  memory: {buffer_budget: 64MiB}\n")+"    upload: {part_size: 64MiB}\n", "too small for buckets[0].upload.part_size")
}

func TestFlags_BufferBudget(t *testing.T) {
	c := mustParse(t, minimal, nil)
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var fl Flags
	fl.Register(fs)
	if err := fs.Parse([]string{"-buffer-budget", "64MiB"}); err != nil {
		t.Fatalf("cannot parse flags: %v", err)
	}
	c.ApplyFlags(&fl)
	if got := c.Server.Memory.BufferBudget; got != 64<<20 {
		t.Fatalf("unexpected buffer budget after -buffer-budget; got %d; want %d", got, 64<<20)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("unexpected validation error: %v", err)
	}
}
