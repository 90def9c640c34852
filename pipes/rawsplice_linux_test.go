package pipes

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRawSplice: the raw system call answers as unix.Splice does, count and
// errno, for each outcome the pump tells apart (bytes moved, EAGAIN, an
// error that fails the transfer).
func TestRawSplice(t *testing.T) {
	newPipe := func(t *testing.T) (r, w int) {
		t.Helper()
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
		return fds[0], fds[1]
	}
	file := func(t *testing.T) int {
		t.Helper()
		f, err := os.CreateTemp(t.TempDir(), "raw")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return int(f.Fd())
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (rfd, wfd, n int)
		want  int
		errno error
	}{
		{"moves what the pipe holds", func(t *testing.T) (int, int, int) {
			r, w := newPipe(t)
			if _, err := unix.Write(w, []byte("0123456789")); err != nil {
				t.Fatal(err)
			}
			_, w2 := newPipe(t)
			return r, w2, 64
		}, 10, nil},
		{"empty pipe is EAGAIN", func(t *testing.T) (int, int, int) {
			r, _ := newPipe(t)
			_, w2 := newPipe(t)
			return r, w2, 64
		}, 0, unix.EAGAIN},
		{"closed fd is EBADF", func(t *testing.T) (int, int, int) {
			_, w := newPipe(t)
			return -1, w, 64
		}, 0, unix.EBADF},
		{"no pipe on either side is EINVAL", func(t *testing.T) (int, int, int) {
			return file(t), file(t), 64
		}, 0, unix.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice the same setup: once through x/sys, once raw.
			r1, w1, n1 := tc.setup(t)
			m1, err1 := unix.Splice(r1, nil, w1, nil, n1, spliceFlags)
			r2, w2, n2 := tc.setup(t)
			m2, err2 := rawSplice(r2, w2, n2)
			if err1 != nil {
				m1 = 0 // x/sys returns -1 with the error; the pump reads the count only without one
			}
			if int(m1) != tc.want || err1 != tc.errno {
				t.Fatalf("unix.Splice; got %d, %v; want %d, %v (test setup)", m1, err1, tc.want, tc.errno)
			}
			if m2 != tc.want || err2 != tc.errno {
				t.Fatalf("rawSplice; got %d, %v; want %d, %v", m2, err2, tc.want, tc.errno)
			}
		})
	}
}
