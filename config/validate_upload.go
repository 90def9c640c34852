package config

import (
	"fmt"
	"strings"

	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/limits"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
)

// Checks of the upload id secrets and the per-route upload limits.

func (c *Config) validateUploadIDSecrets(v *validator) {
	s := &c.Server
	if k := s.UploadIDSecret; k != "" && len(k) < seal.MinSecretLen {
		v.errorf("server.upload_id_secret", "must be at least %d bytes, got %d", seal.MinSecretLen, len(k))
	}
	for i, k := range s.UploadIDSecrets {
		if (k != s.UploadIDSecret || k == "") && len(k) < seal.MinSecretLen {
			v.errorf("server.upload_id_secrets", "entry %d must be at least %d bytes, got %d", i+1, seal.MinSecretLen, len(k))
		}
	}
	if len(s.UploadIDSecrets) > 0 {
		return
	}
	for i := range c.Buckets {
		b := &c.Buckets[i]
		if who := identities(&b.Auth); who != "" {
			v.errorf("server.upload_id_secret", "is required: route %q (buckets[%d]) has more than one identity (%s); "+
				"set server.upload_id_secret to at least %d random bytes, e.g. \"${MIZUCHI_UPLOAD_ID_SECRET}\", "+
				"so that a multipart upload id works only for the identity that started the upload",
				b.Name, i, who, seal.MinSecretLen)
			return
		}
	}
}

// identities describes why a route has more than one identity, or returns
// "" when it has at most one: auth off (everyone is anonymous), or sigv4
// credentials of a single subject.
func identities(a *Auth) string {
	if !a.Enabled {
		return ""
	}
	if a.JWT != nil {
		return "jwt: one per subject"
	}
	s := a.SigV4
	if s == nil {
		return ""
	}
	subjects := map[string]bool{}
	if s.AccessKey != "" {
		subjects[s.AccessKey] = true
	}
	for _, cr := range s.Credentials {
		sub := cr.Subject
		if sub == "" {
			sub = cr.AccessKey
		}
		subjects[sub] = true
	}
	if len(subjects) > 1 {
		return fmt.Sprintf("sigv4 credentials of %d subjects", len(subjects))
	}
	return ""
}

func validateUploadLimits(v *validator, p string, u *Upload) {
	if _, err := keytemplate.Compile(u.KeyTemplate); err != nil {
		v.errorf(p+".key_template", "%s", strings.TrimPrefix(err.Error(), "keytemplate: "))
	}
	positive(v, p+".max_upload_age_seconds", u.MaxUploadAge)
	if u.MaxObjectSize < 0 || u.MaxObjectSize > limits.MaxObjectSize {
		v.errorf(p+".max_object_size", "must be between 0 (S3's limit) and 5TiB, got %d", int64(u.MaxObjectSize))
	}
	if u.MaxPartSize != 0 && (u.MaxPartSize < 5<<20 || u.MaxPartSize > limits.MaxPartSize) {
		v.errorf(p+".max_part_size", "must be 0 (S3's limit) or between 5MiB and 5GiB (S3's part size limits), got %d", int64(u.MaxPartSize))
	}
	for i, ct := range u.AllowedContentTypes {
		if err := limits.ValidatePattern(ct); err != nil {
			v.errorf(fmt.Sprintf("%s.allowed_content_types[%d]", p, i), "%v", err)
		}
	}
}
