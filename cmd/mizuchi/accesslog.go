package main

import (
	"flag"
	"log/slog"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine/accesslog"
)

var (
	accessLogFormat = flag.String("access-log-format", "", "Access log format: logfmt or json. Overrides access_log.format (default logfmt).")
	accessLogOutput = flag.String("access-log-output", "", "Access log output: stdout, stderr or a file `path` (reopened on SIGHUP, for logrotate). Overrides access_log.output (default stderr).")
)

// accessLogConfig merges the access_log section with the flags: -access-log
// turns it on (or, as -access-log=false, off), -access-log-format and
// -access-log-output replace the file's values. nil: off.
func accessLogConfig(cfg *config.Config) *config.AccessLog {
	a := config.AccessLog{Format: "logfmt", Output: "stderr", Sample: 1}
	if cfg.AccessLog != nil {
		a = *cfg.AccessLog
	}
	flag.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "access-log":
			a.Enabled = *accessLog
		case "access-log-format":
			a.Format = *accessLogFormat
		case "access-log-output":
			a.Output = *accessLogOutput
		}
	})
	if !a.Enabled {
		return nil
	}
	return &a
}

// openAccessLog starts the access logger; nil when it is off. It is not
// reloaded by SIGHUP (only its file is reopened).
func openAccessLog(log *slog.Logger, cfg *config.Config) (*accesslog.Logger, error) {
	a := accessLogConfig(cfg)
	if a == nil {
		return nil, nil
	}
	l, err := accesslog.New(accesslog.Config{Format: a.Format, Output: a.Output, Sample: a.Sample})
	if err != nil {
		return nil, err
	}
	log.Info("access log", "format", a.Format, "output", a.Output, "sample", a.Sample)
	return l, nil
}

// reopenAccessLog reopens the access log's file on SIGHUP (logrotate
// renamed it); the old file stays in use when that fails.
func reopenAccessLog(log *slog.Logger, l *accesslog.Logger) {
	if err := l.Reopen(); err != nil {
		log.Error("cannot reopen the access log; still writing the old file", "err", err)
	}
}
