package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine"
)

// errNoConfigFile refuses a reload in development mode.
var errNoConfigFile = errors.New("nothing to reload: development mode has no configuration file (start with -config FILE)")

var (
	reloadsSuccess = metrics.NewCounter(`mizuchi_config_reloads_total{result="success"}`)
	reloadsFailure = metrics.NewCounter(`mizuchi_config_reloads_total{result="failure"}`)
	// lastReloadSuccess is set when the first configuration is loaded at
	// start and after each successful reload (Unix seconds).
	lastReloadSuccess = metrics.NewGauge(`mizuchi_config_last_reload_success_timestamp_seconds`, nil)
)

// configHash is the short hash of the configuration file being served
// ("" in development mode), exposed as mizuchi_config_info{hash="…"} 1.
// The series is written by a metrics writer from this pointer rather than
// registered per hash, so when a reload changes the hash the old series
// disappears from /metrics at once: nothing to unregister, no window with
// two series at 1, and no growth of the metric set over many reloads.
var configHash atomic.Pointer[string]

func init() {
	metrics.RegisterMetricsWriter(func(w io.Writer) {
		if h := configHash.Load(); h != nil && *h != "" {
			metrics.WriteGaugeUint64(w, `mizuchi_config_info{hash="`+*h+`"}`, 1)
		}
	})
}

// configLoaded records a configuration that now serves: its hash and the
// time.
func configLoaded(hash string) {
	configHash.Store(&hash)
	lastReloadSuccess.Set(float64(time.Now().UnixNano()) / 1e9)
}

// hashConfig is the first 12 hex digits of the SHA-256 of the file's bytes.
func hashConfig(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// loadConfig reads, parses and validates the file at path (as config.Load
// does) and returns the hash of the bytes it read, so the hash names
// exactly the configuration that was validated even if the file changes
// meanwhile.
func loadConfig(path string) (*config.Config, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read config: %w", err)
	}
	cfg, err := config.Parse(data, os.LookupEnv)
	if err != nil {
		return nil, "", fmt.Errorf("invalid config %s:\n%w", path, err)
	}
	cfg.ApplyFlags(&tuning)
	if err := cfg.Validate(); err != nil {
		return nil, "", err
	}
	return cfg, hashConfig(data), nil
}

// reloader re-reads the configuration file on SIGHUP and on POST /-/reload;
// its mutex serializes the two, so a reload validates, builds and swaps
// before the next starts (two reloads never race to swap, and the routes
// a reload replaces are closed once).
type reloader struct {
	mu  sync.Mutex
	log *slog.Logger
	srv *engine.Server
	// running is the configuration the process started with: the settings
	// of restartKeys are compared against it, so every reload names the
	// ones that still wait for a restart.
	running *config.Config
}

// reload re-reads the configuration file and swaps the routes and the TLS
// certificate atomically. A bad file (or an unreadable certificate) is
// refused, the error says why, and the old configuration keeps serving.
// The engine's Tunables (head size, timeouts, connection cap, splice
// threshold) apply to what starts afterwards. Listener, loop and pipe
// settings, and turning TLS on or off, need a restart (restartKeys): the
// reload succeeds and names them. trigger ("SIGHUP", "http") goes to the
// log. On success the summary is "configuration reloaded: N routes", then
// "; restart needed: KEY, KEY" when restartKeys differ from the running
// configuration. Every reload of a file
// counts in mizuchi_config_reloads_total; development mode returns
// errNoConfigFile and counts nothing.
func (r *reloader) reload(ctx context.Context, trigger string) (summary string, err error) {
	if *configPath == "" {
		r.log.Warn("reload ignored: development mode has no configuration file", "trigger", trigger)
		return "", errNoConfigFile
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t0 := time.Now()
	n, pending, err := r.swap(ctx)
	if err != nil {
		reloadsFailure.Inc()
		r.log.Error("reload refused; the previous configuration keeps serving", "trigger", trigger, "err", err)
		return "", err
	}
	reloadsSuccess.Inc()
	took := time.Since(t0).Round(time.Millisecond).String()
	summary = "configuration reloaded: " + strconv.Itoa(n) + " routes"
	if len(pending) > 0 {
		keys := strings.Join(pending, ", ")
		r.log.Warn("configuration reloaded", "trigger", trigger, "routes", n, "took", took, "restart_needed", keys)
		return summary + "; restart needed: " + keys, nil
	}
	r.log.Info("configuration reloaded", "trigger", trigger, "routes", n, "took", took)
	return summary, nil
}

// swap loads, builds and installs the configuration; it returns the number
// of routes and the keys that need a restart. Called with r.mu held.
func (r *reloader) swap(ctx context.Context) (int, []string, error) {
	cfg, hash, err := loadConfig(*configPath)
	if err != nil {
		return 0, nil, err
	}
	if u := cfg.Unsupported(); len(u) > 0 {
		return 0, nil, fmt.Errorf("configuration uses features this build does not implement: %v", u)
	}
	var cert *tls.Certificate
	if certs != nil && cfg.Server.TLS.Enabled() {
		if cert, err = loadCert(&cfg.Server.TLS); err != nil {
			return 0, nil, err
		}
	}
	rs, err := buildRouter(ctx, r.log, cfg)
	if err != nil {
		return 0, nil, err
	}
	warnTracingChanged(r.log, &cfg.Tracing)
	r.srv.SetTunables(tunablesFrom(cfg))
	r.srv.SetRouter(rs.router)
	r.srv.SetLimits(engineLimits(&cfg.Server.Limits))
	if cert != nil {
		certs.cur.Store(cert)
	}
	if old := live.Swap(rs); old != nil {
		old.close()
	}
	configLoaded(hash)
	var pending []string
	if r.running != nil {
		pending = restartNeeded(r.running, cfg)
	}
	return len(cfg.Buckets), pending, nil
}
