package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary run as the relay itself (RELAY_TEST_CHILD=1),
// so the test can read the relay process's /proc/PID/io.
func TestMain(m *testing.M) {
	if os.Getenv("RELAY_TEST_CHILD") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestRelaySplices relays 32 MiB to an upstream that counts them and answers
// with the count, and checks that the bytes arrived intact and that the relay
// process read next to none of them into user space: read(2) counts in
// /proc/PID/io rchar, splice(2) does not.
func TestRelaySplices(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	const size = 32 << 20
	upErr := make(chan error, 1)
	go func() {
		c, err := up.Accept()
		if err != nil {
			upErr <- err
			return
		}
		defer c.Close()
		var n int64
		var sum byte
		buf := make([]byte, 256<<10)
		for {
			k, err := c.Read(buf)
			for _, b := range buf[:k] {
				sum += b
			}
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				upErr <- err
				return
			}
		}
		_, err = c.Write([]byte(strconv.FormatInt(n, 10) + " " + strconv.Itoa(int(sum)) + "\n"))
		upErr <- err
	}()

	cmd := exec.Command(os.Args[0], "-listen", "127.0.0.1:0", "-upstream", up.Addr().String())
	cmd.Env = append(os.Environ(), "RELAY_TEST_CHILD=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("cannot read the relay's address: %s", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	rcharBefore, ioOK := readRchar(cmd.Process.Pid)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	body := make([]byte, 1<<20)
	var sum byte
	for i := range body {
		body[i] = byte(i*7 + i>>8)
		sum += body[i]
	}
	sum *= size >> 20
	for range size >> 20 {
		if _, err := c.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	reply, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-upErr; err != nil {
		t.Fatalf("upstream: %s", err)
	}
	want := strconv.Itoa(size) + " " + strconv.Itoa(int(sum)) + "\n"
	if !bytes.Equal(reply, []byte(want)) {
		t.Fatalf("unexpected reply through the relay; got %q; want %q", reply, want)
	}

	if runtime.GOOS != "linux" || !ioOK {
		t.Skip("no /proc/PID/io: cannot check that the relay spliced")
	}
	rcharAfter, _ := readRchar(cmd.Process.Pid)
	if read := rcharAfter - rcharBefore; read > size/16 {
		t.Fatalf("relay read %d of %d bytes into user space; want splice (next to none)", read, size)
	}
}

// readRchar returns the rchar line of /proc/PID/io: bytes read by read(2)
// and friends.
func readRchar(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
