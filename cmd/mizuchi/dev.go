package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
)

// devBackend is the development S3 backend: versitygw's posix backend,
// started as a child process on loopback. It stays a separate binary so its
// dependencies (Kafka, LDAP, Vault clients, …) never enter mizuchi.
type devBackend struct {
	cmd       *exec.Cmd
	dataDir   string
	endpoint  string
	accessKey string
	secretKey string
	exited    chan struct{}
}

func findVersitygw(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache")
		}
	}
	p := filepath.Join(cache, "mizuchi", "bin", "versitygw")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", errors.New("development mode needs versitygw: run `make run` (it installs it with scripts/install-versitygw.sh) or pass -dev-versitygw PATH, or give a -config file")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func startDevBackend(log *slog.Logger, flagPath, dir string) (*devBackend, error) {
	bin, err := findVersitygw(flagPath)
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "uploads"), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the development data directory: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()

	d := &devBackend{
		dataDir:   dataDir,
		endpoint:  "http://" + addr,
		accessKey: "dev" + randomHex(8),
		secretKey: randomHex(20),
		exited:    make(chan struct{}),
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	d.cmd = exec.Command(bin, "--port", addr, "posix", dataDir)
	// The keys go through the environment, not argv, so ps does not show them.
	d.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+d.accessKey, "ROOT_SECRET_KEY="+d.secretKey)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("cannot start %s: %w", bin, err)
	}
	go func() { _ = d.cmd.Wait(); logf.Close(); close(d.exited) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-d.exited:
			return nil, fmt.Errorf("versitygw exited at start; see %s", filepath.Join(dir, "versitygw.log"))
		default:
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("versitygw did not listen on %s within 20s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Info("development backend started", "versitygw", bin, "endpoint", d.endpoint, "data", dataDir)
	return d, nil
}

func (d *devBackend) stop() {
	if d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

func (d *devBackend) printHowTo(w io.Writer, cfg *config.Config) {
	url := "http://" + dialable(cfg.Server.Address)
	var b strings.Builder
	fmt.Fprintf(&b, "\nMizuchi development gateway (auth off; do not expose it)\n")
	fmt.Fprintf(&b, "  S3 endpoint:  %s   bucket \"uploads\"\n", url)
	fmt.Fprintf(&b, "  backend:      versitygw at %s, objects under %s\n", d.endpoint, filepath.Join(d.dataDir, "uploads"))
	if cfg.Server.AdminAddress != "" {
		fmt.Fprintf(&b, "  admin:        http://%s/metrics  /healthz  /readyz\n", cfg.Server.AdminAddress)
	}
	fmt.Fprintf(&b, "\nUpload a file (any credentials work while auth is off):\n")
	fmt.Fprintf(&b, "  AWS_ACCESS_KEY_ID=dev AWS_SECRET_ACCESS_KEY=dev AWS_DEFAULT_REGION=us-east-1 \\\n")
	fmt.Fprintf(&b, "    aws s3 cp ./file.txt s3://uploads/file.txt --endpoint-url %s\n", url)
	fmt.Fprintf(&b, "  curl -T ./file.txt %s/uploads/file.txt\n", url)
	fmt.Fprintf(&b, "\nLarge files go up as multipart uploads (the AWS CLI does that above 8 MiB; a single PUT\n")
	fmt.Fprintf(&b, "above 5 GiB, or curl -T - of unknown length, is turned into one by the gateway).\n")
	fmt.Fprintf(&b, "Other clients: docs/CLIENTS.md. Your own routes: -config FILE (docs/CONFIG.md). Ctrl-C stops.\n\n")
	_, _ = io.WriteString(w, b.String())
}

// dialable replaces an unspecified listen host (0.0.0.0, ::, empty) with
// 127.0.0.1, so the printed URLs work as they are.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}
