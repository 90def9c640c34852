//go:build !linux

package authztest

import "syscall"

// sysProcAttr: no parent-death signal outside Linux; t.Cleanup stops the
// server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
