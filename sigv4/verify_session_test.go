package sigv4_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// Temporary credentials: a token with "+/=" so that the presigned query
// carries it percent-encoded.
var (
	sessionCreds = sigv4.Credentials{AccessKey: "ASIAEXAMPLESESSION01", SecretKey: "session/secret+key=0123456789abcdefghijk", SessionToken: "tok+en/with=padding=="}
	errTestToken = errors.New("test: no such session")
	sessionMark  = new(int)
)

// sessionConfig is testVerifyConfig with a Resolver that knows
// sessionCreds, and counts its calls.
func sessionConfig(calls *int) *sigv4.VerifyConfig {
	cfg := testVerifyConfig()
	key := &sigv4.Key{AccessKey: sessionCreds.AccessKey, Secret: sessionCreds.SecretKey, Subject: "carol", Session: sessionMark}
	cfg.Resolve = func(ak, tok []byte, now time.Time) (*sigv4.Key, error) {
		*calls++
		if string(ak) != sessionCreds.AccessKey || string(tok) != sessionCreds.SessionToken || !now.Equal(testTime) {
			return nil, errTestToken
		}
		return key, nil
	}
	return cfg
}

func TestVerifySession_Success(t *testing.T) {
	f := func(name string, in *sigv4.Input) {
		t.Helper()
		calls := 0
		cache := sigv4.NewKeyCache(4)
		vf := sigv4.NewVerifier(cache)
		var out sigv4.Verified
		if err := vf.Verify(sessionConfig(&calls), in, &out); err != nil {
			t.Fatalf("%s: unexpected error: %s", name, err)
		}
		if calls != 1 || out.Key == nil || out.Key.Session != sessionMark || out.Key.Subject != "carol" {
			t.Fatalf("%s: unexpected key %+v after %d Resolve calls", name, out.Key, calls)
		}
		if want := wantSigningKey(sessionCreds.SecretKey, "20240307", testRegion, "s3"); out.SigningKey != want {
			t.Fatalf("%s: unexpected SigningKey; got %x; want %x", name, out.SigningKey, want)
		}
		if cache.Len() != 0 {
			t.Fatalf("%s: a session's signing key was cached; got %d entries; want 0", name, cache.Len())
		}
	}
	shape := uploadShapes[0]
	f("header", sdkSignedInput(t, &sessionCreds, shape.method, "/b/"+shape.key, shape.query, shape.headers, shape.contentLength, shape.payloadHash))
	in := sdkPresignedInput(t, &sessionCreds, "PUT", "/b/k", "x-id=PutObject", nil, 900, "UNSIGNED-PAYLOAD")
	if queryParam(in, "X-Amz-Security-Token") != "tok%2Ben%2Fwith%3Dpadding%3D%3D" {
		t.Fatalf("unexpected presigned token parameter in %q", in.Query)
	}
	f("presigned", in)

	// Without a Resolver tokens are not looked at: a long-term key with a
	// token verifies as before.
	withToken := testCreds
	withToken.SessionToken = "ignored"
	in = sdkSignedInput(t, &withToken, "PUT", "/b/k", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	var out sigv4.Verified
	if err := sigv4.NewVerifier(nil).Verify(testVerifyConfig(), in, &out); err != nil || out.Key.Subject != testSubject {
		t.Fatalf("unexpected result without a Resolver: %v", err)
	}
}

func TestVerifySession_Failure(t *testing.T) {
	f := func(name string, in *sigv4.Input, want ...error) {
		t.Helper()
		calls := 0
		var out sigv4.Verified
		err := sigv4.NewVerifier(nil).Verify(sessionConfig(&calls), in, &out)
		for _, w := range want {
			if !errors.Is(err, w) {
				t.Fatalf("%s: unexpected error; got %v; want %v", name, err, w)
			}
		}
	}
	put := func(c *sigv4.Credentials) *sigv4.Input {
		return sdkSignedInput(t, c, "PUT", "/b/k", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	}

	// The Resolver refuses: its error comes back wrapped.
	other := sessionCreds
	other.SessionToken = "another-token"
	f("unknown token", put(&other), sigv4.ErrSecurityToken, errTestToken)
	other = sessionCreds
	other.AccessKey = "ASIAEXAMPLESESSION02"
	f("other access key", put(&other), sigv4.ErrSecurityToken, errTestToken)

	// A long-term key never takes a token.
	withToken := testCreds
	withToken.SessionToken = sessionCreds.SessionToken
	f("long-term key with a token", put(&withToken), sigv4.ErrSecurityToken)

	// A session key without its token is an unknown key.
	noToken := sessionCreds
	noToken.SessionToken = ""
	f("session key without token", put(&noToken), sigv4.ErrUnknownAccessKey)

	// A guessed secret: the Resolver's key does not sign it.
	guessed := sessionCreds
	guessed.SecretKey = testCreds.SecretKey
	f("guessed secret", put(&guessed), sigv4.ErrSignatureMismatch)

	// The token is part of what was signed (header form: a signed header).
	in := put(&sessionCreds)
	in.Headers = append(in.Headers, sigv4.Header{Name: []byte("X-Amz-Security-Token"), Value: []byte("again")})
	f("two token headers", in, sigv4.ErrMalformed)
	in = sdkPresignedInput(t, &sessionCreds, "PUT", "/b/k", "", nil, 900, "UNSIGNED-PAYLOAD")
	in.Headers = append(in.Headers, sigv4.Header{Name: []byte("X-Amz-Security-Token"), Value: []byte(sessionCreds.SessionToken)})
	f("header and query token", in, sigv4.ErrQueryMalformed)
	in = sdkPresignedInput(t, &sessionCreds, "PUT", "/b/k", "", nil, 900, "UNSIGNED-PAYLOAD")
	in.Query = append(in.Query, "&X-Amz-Security-Token=x"...)
	f("two query tokens", in, sigv4.ErrQueryMalformed)
}
