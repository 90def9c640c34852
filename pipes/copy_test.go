package pipes

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCopy_Success(t *testing.T) {
	testMoveSuccess(t, copyMover)
}

func TestCopy_Failure(t *testing.T) {
	testMoveFailure(t, copyMover)
}

// TestCopy_Readers covers readers that net.Conn does not produce: data and
// EOF together, one byte at a time, and no buffer from the caller.
func TestCopy_Readers(t *testing.T) {
	testCopyReaders(t, Copy)
}

func TestCopyFull_Readers(t *testing.T) {
	testCopyReaders(t, CopyFull)
}

func TestCopyFull_Success(t *testing.T) {
	testMoveSuccess(t, func(dst, src *net.TCPConn, n int64) (int64, error) {
		return CopyFull(dst, src, n, make([]byte, 256<<10))
	})
}

func TestCopyFull_Failure(t *testing.T) {
	testMoveFailure(t, func(dst, src *net.TCPConn, n int64) (int64, error) {
		return CopyFull(dst, src, n, make([]byte, 256<<10))
	})
}

// countWriter counts Write calls.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (w *countWriter) Write(b []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(b)
}

// TestCopyFull_Batches: from a source returning one byte per read, CopyFull
// writes once per full buffer (and once for the rest); Copy once per read.
func TestCopyFull_Batches(t *testing.T) {
	f := func(name string, cp func(io.Writer, io.Reader, int64, []byte) (int64, error), n int64, buf, wantWrites int) {
		t.Helper()
		var dst countWriter
		src := iotest.OneByteReader(strings.NewReader(strings.Repeat("x", int(n)+3)))
		got, err := cp(&dst, src, n, make([]byte, buf))
		if err != nil || got != n || dst.Len() != int(n) {
			t.Fatalf("%s: got %d, %v (%d bytes written); want %d", name, got, err, dst.Len(), n)
		}
		if dst.writes != wantWrites {
			t.Fatalf("%s: %d writes; want %d", name, dst.writes, wantWrites)
		}
	}
	f("CopyFull", CopyFull, 100, 32, 4)
	f("CopyFull exact", CopyFull, 64, 32, 2)
	f("Copy", Copy, 100, 32, 100)
}

func testCopyReaders(t *testing.T, cp func(io.Writer, io.Reader, int64, []byte) (int64, error)) {
	f := func(name string, src io.Reader, n int64, buf []byte, want string, wantRest string) {
		t.Helper()
		var dst bytes.Buffer
		got, err := cp(&dst, src, n, buf)
		if err != nil {
			t.Fatalf("%s: unexpected error: %s", name, err)
		}
		if got != n || dst.String() != want {
			t.Fatalf("%s: unexpected result; got %d %q; want %d %q", name, got, dst.String(), n, want)
		}
		rest, _ := io.ReadAll(src)
		if string(rest) != wantRest {
			t.Fatalf("%s: unexpected rest; got %q; want %q", name, rest, wantRest)
		}
	}
	f("data with EOF", iotest.DataErrReader(strings.NewReader("hello")), 5, make([]byte, 8), "hello", "")
	f("one byte reader", iotest.OneByteReader(strings.NewReader("hello world")), 5, make([]byte, 8), "hello", " world")
	f("small buffer", strings.NewReader("hello world"), 11, make([]byte, 3), "hello world", "")
	f("buffer limits read", strings.NewReader("hello world"), 4, make([]byte, 64), "hell", "o world")
	f("no buffer", strings.NewReader("hello world"), 5, nil, "hello", " world")
	f("zero", strings.NewReader("hello"), 0, nil, "", "hello")
}

type shortWriter struct{}

func (shortWriter) Write(b []byte) (int, error) { return len(b) / 2, nil }

type failWriter struct{ err error }

func (w failWriter) Write(b []byte) (int, error) { return 0, w.err }

func TestCopy_Writers(t *testing.T) {
	f := func(name string, dst io.Writer, src io.Reader, wantSrc bool, wantErr error) {
		t.Helper()
		_, err := Copy(dst, src, 5, make([]byte, 8))
		var se *SideError
		if !errors.As(err, &se) || se.Src != wantSrc || !errors.Is(err, wantErr) {
			t.Fatalf("%s: unexpected error; got %v; want *SideError{Src: %v} wrapping %q", name, err, wantSrc, wantErr)
		}
	}
	boom := errors.New("boom")
	f("short write", shortWriter{}, strings.NewReader("hello"), false, io.ErrShortWrite)
	f("write error", failWriter{boom}, strings.NewReader("hello"), false, boom)
	f("read error", io.Discard, iotest.ErrReader(boom), true, boom)
	f("short body", io.Discard, strings.NewReader("hey"), true, ErrShortBody)
	f("timeout", io.Discard, iotest.TimeoutReader(strings.NewReader("hey")), true, iotest.ErrTimeout)
}
