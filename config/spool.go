package config

import "os"

// Spool is the server.spool section: an UploadPart sent with
// Transfer-Encoding: chunked (its length unknown until the end) is written
// to an unlinked temporary file first, so the backend, which needs a
// Content-Length, can be sent it with one.
type Spool struct {
	// Dir is the directory of the temporary files (opened with O_TMPFILE
	// where the file system supports it, else created and unlinked at
	// once, so nothing is left after a crash). Default "" (os.TempDir()).
	Dir string `yaml:"dir"`
	// MaxBytes caps the bytes spooled at once across all bodies (Size).
	// One body larger than it (or than 5GiB, S3's largest part) gets 400
	// EntityTooLarge; a body that does not fit beside the others gets 503
	// SlowDown with Retry-After. 0 turns spooling off: chunked UploadPart
	// bodies get 501 NotImplemented. Default 1GiB.
	MaxBytes Size `yaml:"max_bytes"`
}

// defaultSpoolMaxBytes is server.spool.max_bytes when not set.
const defaultSpoolMaxBytes = 1 << 30

func (s *Spool) validate(v *validator) {
	if s.MaxBytes < 0 {
		v.errorf("server.spool.max_bytes", "must not be negative, got %d", int64(s.MaxBytes))
	}
	if s.Dir != "" {
		if fi, err := os.Stat(s.Dir); err != nil || !fi.IsDir() {
			v.errorf("server.spool.dir", "%q is not a directory", s.Dir)
		}
	}
}
