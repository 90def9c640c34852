package policy

import (
	"errors"
	"fmt"
)

// Sentinel errors of Verify and the engine's token handling. Failures wrap
// them with a detail that never contains the token: test with errors.Is.
var (
	// ErrNoToken: the request carries no token in any configured source.
	// Verify never returns it; the engine does when Token returns nil.
	ErrNoToken = errors.New("policy: no token")
	// ErrTokenTooLarge: the token is longer than MaxTokenSize. Checked
	// before parsing.
	ErrTokenTooLarge = errors.New("policy: token too large")
	// ErrInvalidToken: malformed token, algorithm not allowed, bad
	// signature, or a claim check failed. The detail says which.
	ErrInvalidToken = errors.New("policy: invalid token")
	// ErrUnknownKey: the token names a kid that is not in the current JWK
	// set (or the set is not loaded yet). The engine calls
	// JWT.RefreshUnknownKey and retries once.
	ErrUnknownKey = errors.New("policy: unknown signing key")
	// ErrTokenExpired: the token's exp has passed (leeway included). It
	// is an ErrInvalidToken too; the engine counts it apart.
	ErrTokenExpired = fmt.Errorf("%w: token is expired", ErrInvalidToken)
)

// MaxTokenSize is the largest token Verify accepts, in bytes.
const MaxTokenSize = 8 << 10

// Preformatted errors for the paths that must not allocate.
var (
	errTooLarge   = fmt.Errorf("%w: more than %d bytes", ErrTokenTooLarge, MaxTokenSize)
	errEmptyToken = fmt.Errorf("%w: token is empty", ErrInvalidToken)
	errUnknownKid = fmt.Errorf("%w: kid not in the key set", ErrUnknownKey)
	errNotLoaded  = fmt.Errorf("%w: key set not loaded yet", ErrUnknownKey)
)

// keyError carries a key-selection failure through jwt.Parser, which wraps
// whatever the key function returns; Verify unwraps it with errors.As.
type keyError struct{ err error }

func (e *keyError) Error() string { return e.err.Error() }

func invalidf(format string, args ...any) error {
	return &keyError{fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)}
}
