package config

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/mizuchi-gw/mizuchi/policy/seal"
)

// devUploadIDSecretFile is the file, beside the development data directory
// (.dev/upload-id-secret with the default -dev-dir), that keeps the
// development upload id secret across restarts.
const devUploadIDSecretFile = "upload-id-secret"

// devUploadIDSecret returns the development upload id secret: read from
// devUploadIDSecretFile beside dataDir, or made of 32 random bytes and
// written there (mode 0600). The file is used only when dataDir exists (the
// development backend created it); otherwise, or when the file cannot be
// written, the secret is random and lives as long as the process.
func devUploadIDSecret(dataDir string) string {
	if st, err := os.Stat(dataDir); err != nil || !st.IsDir() {
		return newDevSecret()
	}
	name := filepath.Join(filepath.Dir(dataDir), devUploadIDSecretFile)
	if b, err := os.ReadFile(name); err == nil {
		if k := strings.TrimSpace(string(b)); len(k) >= seal.MinSecretLen {
			return k
		}
	}
	k := newDevSecret()
	_ = os.WriteFile(name, []byte(k+"\n"), 0o600)
	return k
}

func newDevSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
