package engine

import (
	"os"

	"golang.org/x/sys/unix"
)

// openTemp opens an unnamed file in dir with O_TMPFILE: it never has a
// name, so nothing is left on disk when the process dies. File systems
// without O_TMPFILE get a named file unlinked at once.
func openTemp(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), "spool"), nil
	}
	return openUnlinked(dir)
}
