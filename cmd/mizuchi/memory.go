package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/mizuchi-gw/mizuchi/config"
)

// memoryLimitSlack is what the Go runtime may use beyond the buffer budget
// before the garbage collector works harder: heads, caches, goroutine
// stacks and the part buffers of finished uploads not yet collected.
const memoryLimitSlack = 256 << 20

// setMemoryLimit sets the runtime's soft memory limit to the buffer budget
// plus memoryLimitSlack, so buffers of finished uploads are collected
// before the heap grows to twice the budget (GOGC=100 alone would let it).
// A GOMEMLIMIT in the environment wins.
func setMemoryLimit(log *slog.Logger, cfg *config.Config) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(cfg.Server.Memory.BufferBudget) + memoryLimitSlack
	debug.SetMemoryLimit(limit)
	log.Info("memory", "buffer_budget", int64(cfg.Server.Memory.BufferBudget), "go_memory_limit", limit)
}
