package authztest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds the wait for a server's health endpoint.
const startTimeout = 60 * time.Second

// binary returns the path in env, or skips the test.
func binary(t testing.TB, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Skipf("%s is not set: run scripts/install-authz-servers.sh and set %s to the %s binary it prints (make test does)", env, env, name)
	}
	return p
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot find a free port: %s", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// loopback returns "127.0.0.1:port".
func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the server built by argsFor (which picks fresh ports and
// returns the arguments and the health URL) and waits until GET health
// answers 200. A server that exits early (a port taken meanwhile) is
// retried with new ports, three times in all. It returns the idempotent
// stop function and the port-dependent result of argsFor.
func start(t testing.TB, name, bin string, argsFor func() (args []string, health string)) func() {
	t.Helper()
	var last string
	for range 3 {
		args, health := argsFor()
		stop, out, ok := startOnce(t, name, bin, args, health)
		if ok {
			return stop
		}
		last = out
	}
	t.Fatalf("%s exited before it was ready, three times (%s):\n%s", name, bin, last)
	return nil
}

// startOnce starts one server. ok is false, with the output, when it
// exited before answering.
func startOnce(t testing.TB, name, bin string, args []string, health string) (stop func(), out string, ok bool) {
	t.Helper()
	buf := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = buf, buf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %s", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
			if t.Failed() {
				t.Logf("%s output:\n%s", name, buf.String())
			}
		})
	}

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return stop, "", true
			}
		}
		select {
		case <-exited:
			return nil, buf.String(), false
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("%s not ready after %s (last: %v):\n%s", name, startTimeout, err, buf.String())
		}
	}
}
