package sts

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// stsServer answers STS calls the way the gateway will: ParseRequest,
// verify the token, Assume, and the XML answers. Its clock is the real
// one: the SDK checks nothing against it, but the tokens it signs must
// not be expired.
func stsServer(t *testing.T, iss *Issuer) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, MaxRequestSize+1))
		now := time.Now()
		fail := func(e *Error) {
			w.Header().Set("Content-Type", ContentType)
			w.WriteHeader(e.Status)
			_, _ = w.Write(AppendErrorXML(nil, e, []byte("req-err")))
		}
		if ct := r.Header.Get("Content-Type"); r.Method == http.MethodPost && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			t.Errorf("unexpected Content-Type %q", ct)
		}
		req, err := ParseRequest(r.Method, []byte(r.URL.RawQuery), body)
		if err != nil {
			fail(err.(*Error))
			return
		}
		id, err := iss.JWT().Verify(req.WebIdentityToken, now)
		if err != nil {
			fail(iss.TokenError(err))
			return
		}
		c, e := iss.Assume(req, id, now)
		if e != nil {
			fail(e)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		_, _ = w.Write(AppendResponseXML(nil, c, []byte("req-1")))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sdkClient(srv *httptest.Server) *awssts.Client {
	return awssts.New(awssts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       srv.Client(),
	})
}

func sdkToken(t *testing.T, edit func(c jwt.MapClaims)) string {
	c := jwt.MapClaims{
		"sub": "alice", "iss": issuerURL, "aud": "mizuchi", "exp": time.Now().Add(time.Hour).Unix(),
		"tenant": "acme", "groups": []string{"uploaders"}, "email_verified": true,
	}
	if edit != nil {
		edit(c)
	}
	return signJWT(t, c)
}

func TestSDK_AssumeRoleWithWebIdentity(t *testing.T) {
	cfg := testConfig()
	iss := mustIssuer(t, cfg, mustJWT(t, &cfg.JWT))
	client := sdkClient(stsServer(t, iss))
	start := time.Now()
	out, err := client.AssumeRoleWithWebIdentity(context.Background(), &awssts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(scopedARN), RoleSessionName: aws.String("app1"),
		WebIdentityToken: aws.String(sdkToken(t, nil)), DurationSeconds: aws.Int32(7200),
	})
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	c := out.Credentials
	if c == nil || !IsSessionAccessKey([]byte(aws.ToString(c.AccessKeyId))) || len(aws.ToString(c.SecretAccessKey)) != SecretKeyLen ||
		aws.ToString(c.SessionToken) == "" || c.Expiration == nil {
		t.Fatalf("unexpected credentials: %+v", c)
	}
	if d := c.Expiration.Sub(start); d < 2*time.Hour-2*time.Second || d > 2*time.Hour+30*time.Second {
		t.Fatalf("unexpected expiration %s (start %s)", c.Expiration, start)
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != "alice" || aws.ToString(out.Provider) != issuerURL ||
		aws.ToString(out.Audience) != "mizuchi" || out.AssumedRoleUser == nil ||
		aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/scoped/app1" ||
		!strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":app1") {
		t.Fatalf("unexpected output: %+v %+v", out, out.AssumedRoleUser)
	}
	// The credentials open.
	s, secret, err := iss.Open([]byte(*c.AccessKeyId), []byte(*c.SessionToken), time.Now())
	if err != nil || string(secret) != *c.SecretAccessKey || s.KeyPrefix != "tenants/acme/alice/" {
		t.Fatalf("unexpected Open: %+v %v", s, err)
	}
}

func TestSDK_Errors(t *testing.T) {
	cfg := testConfig()
	iss := mustIssuer(t, cfg, mustJWT(t, &cfg.JWT))
	client := sdkClient(stsServer(t, iss))
	f := func(in *awssts.AssumeRoleWithWebIdentityInput, code string, status int, typed any) {
		t.Helper()
		if in.RoleSessionName == nil {
			in.RoleSessionName = aws.String("app1")
		}
		if in.WebIdentityToken == nil {
			in.WebIdentityToken = aws.String(sdkToken(t, nil))
		}
		_, err := client.AssumeRoleWithWebIdentity(context.Background(), in)
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("unexpected error %v; want an API error %s", err, code)
		}
		// Typed errors know their fault; generic ones (AccessDenied,
		// ValidationError) are FaultUnknown in the SDK whatever <Type> says.
		if ae.ErrorCode() != code || typed != nil && ae.ErrorFault() != smithy.FaultClient {
			t.Fatalf("unexpected API error; got %s (%v); want %s", ae.ErrorCode(), ae.ErrorFault(), code)
		}
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Fatalf("unexpected status in %v; want %d", err, status)
		}
		if typed != nil && !errors.As(err, typed) {
			t.Fatalf("the SDK did not map %s to %T: %v", code, typed, err)
		}
	}
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/nobody")}, "AccessDenied", 403, nil)
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), DurationSeconds: aws.Int32(3601)}, "ValidationError", 400, nil)
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("a b")}, "ValidationError", 400, nil)
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), Policy: aws.String("{}")}, "ValidationError", 400, nil)
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), ProviderId: aws.String("www.amazon.com")}, "InvalidParameterValue", 400, nil)
	var invalid *types.InvalidIdentityTokenException
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), WebIdentityToken: aws.String("not.a.jwt")}, "InvalidIdentityToken", 400, &invalid)
	var expired *types.ExpiredTokenException
	old := sdkToken(t, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), WebIdentityToken: aws.String(old)}, "ExpiredTokenException", 400, &expired)
	var packed *types.PackedPolicyTooLargeException
	big := sdkToken(t, func(c jwt.MapClaims) { c["big"] = strings.Repeat("x", MaxClaimsSize) })
	f(&awssts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), WebIdentityToken: aws.String(big)}, "PackedPolicyTooLarge", 400, &packed)
}

// TestSDK_WebIdentityProvider: the credential provider SDKs use with
// AWS_WEB_IDENTITY_TOKEN_FILE gets credentials, and a request the SDK
// signs with them verifies with Open's secret key and the sigv4 package,
// the X-Amz-Security-Token header signed.
func TestSDK_WebIdentityProvider(t *testing.T) {
	cfg := testConfig()
	iss := mustIssuer(t, cfg, mustJWT(t, &cfg.JWT))
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(sdkToken(t, nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := stscreds.NewWebIdentityRoleProvider(sdkClient(stsServer(t, iss)), roleARN, stscreds.IdentityTokenFile(file),
		func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = "ci-job" })
	creds, err := aws.NewCredentialsCache(p).Retrieve(context.Background())
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if !creds.CanExpire || creds.SessionToken == "" {
		t.Fatalf("unexpected credentials: %+v", creds)
	}

	now := time.Now().UTC()
	req, _ := http.NewRequest(http.MethodPut, "http://gw.example.com/uploads/a.txt", nil)
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("X-Amz-Content-Sha256", emptySHA)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA, "s3", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	hdrs := []sigv4.Header{{Name: []byte("host"), Value: []byte(req.Host)}}
	for name, vs := range req.Header {
		hdrs = append(hdrs, sigv4.Header{Name: []byte(strings.ToLower(name)), Value: []byte(vs[0])})
	}
	auth := req.Header.Get("Authorization")
	if !strings.Contains(auth, "x-amz-security-token") {
		t.Fatalf("the SDK did not sign the session token: %s", auth)
	}
	s, secret, err := iss.Open([]byte(creds.AccessKeyID), []byte(req.Header.Get("X-Amz-Security-Token")), now)
	if err != nil || s.SessionName != "ci-job" || !s.Allows("uploads", []byte("a.txt")) {
		t.Fatalf("unexpected Open: %+v %v", s, err)
	}
	vc := &sigv4.VerifyConfig{Region: "us-east-1", Keys: sigv4.Keys{s.AccessKeyID: {AccessKey: s.AccessKeyID, Secret: string(secret), Subject: s.Subject}}}
	in := &sigv4.Input{Method: []byte("PUT"), Path: []byte("/uploads/a.txt"), Headers: hdrs, Now: now}
	var out sigv4.Verified
	if err := sigv4.NewVerifier(nil).Verify(vc, in, &out); err != nil {
		t.Fatalf("the SDK's signature does not verify with Open's secret key: %s", err)
	}
	// Another session's secret key does not verify it.
	other := mustAssume(t, iss, testRequest(roleARN), testIdentity())
	vc.Keys[s.AccessKeyID].Secret = other.SecretAccessKey
	if err := sigv4.NewVerifier(nil).Verify(vc, in, &out); !errors.Is(err, sigv4.ErrSignatureMismatch) {
		t.Fatalf("unexpected error with another session's key; got %v; want ErrSignatureMismatch", err)
	}
}
