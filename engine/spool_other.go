//go:build !linux

package engine

import "os"

// openTemp opens a temporary file in dir, unlinked at once.
func openTemp(dir string) (*os.File, error) { return openUnlinked(dir) }
