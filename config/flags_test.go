package config

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"
)

func parseFlags(t *testing.T, args ...string) *Flags {
	t.Helper()
	fs := flag.NewFlagSet("mizuchi", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	var f Flags
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	return &f
}

func TestApplyFlags_Success(t *testing.T) {
	base := strings.Replace(minimal, "  address: \"127.0.0.1:8080\"\n",
		"  address: \"127.0.0.1:8080\"\n  loops: 3\n  pipe_pool: 10\n  splice_threshold: 1MiB\n  header_timeout_seconds: 7\n", 1)

	// No flags: the file's values stay.
	c := mustParse(t, base, nil)
	c.ApplyFlags(parseFlags(t))
	s := c.Server
	if s.Address != "127.0.0.1:8080" || s.Loops != 3 || s.PipePool != 10 || s.SpliceThreshold != 1<<20 ||
		s.HeaderTimeout != 7*time.Second || !s.ZeroCopy.Enabled || s.AdminAddress != "127.0.0.1:9090" {
		t.Fatalf("unset flags must not override: %+v", s)
	}

	// Some flags: only those override.
	c = mustParse(t, base, nil)
	c.ApplyFlags(parseFlags(t, "-listen", ":7000", "-pipe-size", "64KiB", "-splice-threshold=0", "-loops", "0",
		"-idle-timeout", "5s", "-zero-copy=false"))
	if err := c.Validate(); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	s = c.Server
	if s.Address != ":7000" || s.ZeroCopy.PipeBufferSize != 64<<10 || s.SpliceThreshold != 0 || s.Loops != 0 ||
		s.IdleTimeout != 5*time.Second || s.ZeroCopy.Enabled ||
		s.PipePool != 10 || s.HeaderTimeout != 7*time.Second || s.AdminAddress != "127.0.0.1:9090" {
		t.Fatalf("unexpected server after flags: %+v", s)
	}

	// All the others.
	c = mustParse(t, base, nil)
	c.ApplyFlags(parseFlags(t, "-admin-listen", "127.0.0.1:9999", "-pipe-pool", "7", "-max-connections", "5",
		"-max-header-bytes", "8KiB", "-header-timeout", "1s", "-body-timeout", "2s"))
	s = c.Server
	if s.AdminAddress != "127.0.0.1:9999" || s.PipePool != 7 || s.MaxConnections != 5 || s.MaxHeaderBytes != 8<<10 ||
		s.HeaderTimeout != time.Second || s.BodyTimeout != 2*time.Second || s.Address != "127.0.0.1:8080" {
		t.Fatalf("unexpected server after flags: %+v", s)
	}

	// An empty -admin-listen disables the admin listener.
	c.ApplyFlags(parseFlags(t, "-admin-listen="))
	if c.Server.AdminAddress != "" {
		t.Fatalf("unexpected admin address %q", c.Server.AdminAddress)
	}

	// Nil and unregistered flags change nothing.
	c.ApplyFlags(nil)
	c.ApplyFlags(&Flags{Listen: "x"})
	if c.Server.Address != "127.0.0.1:8080" {
		t.Fatalf("unexpected address %q", c.Server.Address)
	}
}

func TestApplyFlags_Failure(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		fs := flag.NewFlagSet("mizuchi", flag.ContinueOnError)
		fs.SetOutput(new(bytes.Buffer))
		var fl Flags
		fl.Register(fs)
		err := fs.Parse(args)
		if err == nil {
			c := mustParse(t, minimal, nil)
			c.ApplyFlags(&fl)
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %v; want substring %q", err, want)
		}
	}
	f(`invalid size "1Q"`, "-pipe-size", "1Q")
	f(`invalid size "-1"`, "-splice-threshold", "-1")
	f(`invalid value "soon" for flag -idle-timeout`, "-idle-timeout", "soon")
	f(`server.address: invalid listen address "x": address x: missing port in address`+"\n", "-listen", "x", "-pipe-pool", "0")
	f("server.zero_copy.pipe_buffer_size: must be between 4KiB and 1GiB", "-pipe-size", "2GiB")
	f("server.pipe_pool: must be at least 1", "-pipe-pool", "0")
}

func TestFlagsHelp(t *testing.T) {
	fs := flag.NewFlagSet("mizuchi", flag.ContinueOnError)
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	var f Flags
	f.Register(fs)
	fs.PrintDefaults()
	for _, name := range []string{"listen", "admin-listen", "loops", "pipe-size", "pipe-pool", "splice-threshold",
		"zero-copy", "max-connections", "max-header-bytes", "header-timeout", "idle-timeout", "body-timeout"} {
		fl := fs.Lookup(name)
		if fl == nil {
			t.Fatalf("flag -%s is not registered", name)
		}
		if !strings.Contains(fl.Usage, "Overrides server.") || !strings.Contains(fl.Usage, "default") {
			t.Fatalf("flag -%s lacks full help: %q", name, fl.Usage)
		}
	}
	for _, want := range []string{"-pipe-size size\n", "-splice-threshold size\n", "-max-header-bytes size\n", "-listen address\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("help lacks %q:\n%s", want, buf.String())
		}
	}
}
