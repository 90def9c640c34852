package main

// End-to-end tests of the STS endpoint (AssumeRoleWithWebIdentity on the S3
// listener) and of uploads with the credentials it issues: boto3, the Go
// SDK's default credential chain, the AWS CLI, presigned URLs, every
// refusal a client must see, authorization input, and two gateways sharing
// the secrets. Objects are read back from the backend.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/sts"
)

const (
	stsBucket   = "sts-bucket"
	stsRoleARN  = "arn:aws:iam::123456789012:role/uploader"
	stsAdminARN = "arn:aws:iam::123456789012:role/admins"
	stsSecret   = "e2e-sts-secret-0123456789abcdef0123456789"
	stsStaticAK = "AKSTSSTATIC"
	stsStaticSK = "sts-static-secret-e2e"
	stsScope    = "users/{sub}/"
	stsPolicy   = `package mizuchi

default allow := false

allow if {
	input.auth == "sts"
	input.role == "` + stsRoleARN + `"
	startswith(input.access_key, "ASIA")
	input.claims.tenant == "acme"
}
`
)

// stsEnv is a backend, a test IdP and a gateway with the STS endpoint.
type stsEnv struct {
	b      *backend
	idp    *idp
	key    *jwkKey
	g      *gateway
	routes []route
	extra  string // the sts section
}

// Routes: stsjwt has JWT auth only (the STS endpoint gives it SigV4);
// stssig has a long-term key and a key template; stsaz is authorized by
// an embedded policy on the session's role and claims; stsother is named
// by no role.
func startSTSEnv(t *testing.T) *stsEnv {
	t.Helper()
	e := &stsEnv{key: newRSAKey(t, "sts-rsa-1")}
	e.idp = startIdP(t, e.key)
	jwks := e.idp.srv.URL + "/jwks.json"
	e.b = startBackend(t, stsBucket)
	policyFile := filepath.Join(t.TempDir(), "sts.rego")
	if err := os.WriteFile(policyFile, []byte(stsPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	sig := "    auth:\n      enabled: true\n      sigv4:\n        region: " + backendRegion + "\n" +
		"        access_key: " + stsStaticAK + "\n        secret_key: " + stsStaticSK + "\n"
	e.routes = []route{
		{name: "stsjwt", pathPrefix: "/stsjwt", bucket: stsBucket, keyPrefix: "jwt/", extra: "" +
			"    auth:\n      enabled: true\n      jwt:\n        algorithm: RS256\n        jwks_url: " + jwks + "\n        jwks_allow_http: true\n" +
			"    cors: {allowed_origins: [\"http://app.test\"], max_age_seconds: 600}\n"},
		{name: "stssig", pathPrefix: "/stssig", bucket: stsBucket, keyPrefix: "sig/", extra: sig +
			"    upload:\n      key_template: \"{subject}/{key}\"\n"},
		{name: "stsaz", pathPrefix: "/stsaz", bucket: stsBucket, keyPrefix: "az/", extra: sig +
			"    authz:\n      enabled: true\n      opa:\n        policy_file: " + policyFile + "\n"},
		{name: "stsother", pathPrefix: "/stsother", bucket: stsBucket, keyPrefix: "other/", extra: sig},
	}
	e.extra = "sts:\n  enabled: true\n  jwt:\n    algorithms: [RS256]\n    jwks_url: " + jwks + "\n    jwks_allow_http: true\n" +
		"    issuer: " + jwtIssuer + "\n    audience: [" + jwtAudience + "]\n    jwks_min_refresh_seconds: 1\n" +
		"  secrets: [\"" + stsSecret + "\"]\n  roles:\n" +
		"    - arn: " + stsRoleARN + "\n      routes: [stsjwt, stssig, stsaz]\n      key_template: \"" + stsScope + "\"\n" +
		"      max_duration_seconds: 3600\n" +
		"    - arn: " + stsAdminARN + "\n      routes: [stsjwt]\n      required_claims:\n        groups: [admins]\n" +
		"      max_duration_seconds: 3600\n"
	e.g = startSTSGateway(t, e.b, e.extra, e.routes...)
	return e
}

// startSTSGateway is startGateway with more top-level YAML (the sts
// section) and the access log on.
func startSTSGateway(t *testing.T, b *backend, extra string, routes ...route) *gateway {
	t.Helper()
	bin := mizuchiBinary(t)
	dir := t.TempDir()
	var g *gateway
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		g = &gateway{addr: freeAddr(t), admin: freeAddr(t), scheme: "http", cfg: filepath.Join(dir, "mizuchi.yaml")}
		cfg := gatewayConfigTLS(b, g.addr, g.admin, nil, nil, routes...) + extra
		if werr := os.WriteFile(g.cfg, []byte(cfg), 0o600); werr != nil {
			t.Fatalf("cannot write config: %v", werr)
		}
		g.proc = startProc(t, "mizuchi", bin, "-config", g.cfg, "-listen", g.addr, "-admin-listen", g.admin, "-access-log")
		if err = g.waitReady(t); err == nil {
			break
		}
		g.proc.stop()
		if !strings.Contains(g.proc.stderr.String(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("mizuchi did not become ready: %v\n--- stderr ---\n%s", err, g.proc.stderr.String())
	}
	g.client = newHTTPClient()
	return g
}

// token is an ID token of the test IdP for subject, adjusted by mod.
func (e *stsEnv) token(t testing.TB, subject string, mod func(jwt.MapClaims)) string {
	return e.key.token(t, claims(subject, func(c jwt.MapClaims) {
		c["tenant"] = "acme"
		if mod != nil {
			mod(c)
		}
	}))
}

func stsClient(g *gateway) *awssts.Client {
	return awssts.New(awssts.Options{
		Region:           backendRegion,
		BaseEndpoint:     aws.String(g.endpoint()),
		RetryMaxAttempts: 1,
		HTTPClient:       newHTTPClient(),
	})
}

// assume calls AssumeRoleWithWebIdentity on g (duration 0: not sent).
func assume(g *gateway, token, role string, duration int32) (aws.Credentials, error) {
	in := &awssts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("e2e"), WebIdentityToken: aws.String(token),
	}
	if duration > 0 {
		in.DurationSeconds = aws.Int32(duration)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := stsClient(g).AssumeRoleWithWebIdentity(ctx, in)
	if err != nil {
		return aws.Credentials{}, err
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken,
		CanExpire: true, Expires: *c.Expiration}, nil
}

func mustAssume(t *testing.T, g *gateway, token, role string) aws.Credentials {
	t.Helper()
	c, err := assume(g, token, role, 0)
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	return c
}

// sessionS3 is an S3 client of g with the credentials c.
func sessionS3(g *gateway, c aws.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:                     backendRegion,
		BaseEndpoint:               aws.String(g.endpoint()),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:                 newHTTPClient(),
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// sdkPut uploads n generated bytes with the S3 client and returns its error.
func sdkPut(cl *s3.Client, bucket, key string, seed uint64, n int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(genBytes(seed, n)), ContentLength: aws.Int64(n)})
	return err
}

// wantSTSAPIError fails unless err is an API error with code and status.
func wantSTSAPIError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("%s: unexpected error; got %v; want %s", what, err, code)
	}
	var hs interface{ HTTPStatusCode() int }
	if !errors.As(err, &hs) || hs.HTTPStatusCode() != status {
		t.Fatalf("%s: unexpected status of %v; want %d", what, err, status)
	}
}

// TestE2ESTS runs the STS suite against one gateway (a second joins for
// SharedSecrets).
func TestE2ESTS(t *testing.T) {
	e := startSTSEnv(t)
	g, b := e.g, e.b
	alice := mustAssume(t, g, e.token(t, "alice", nil), stsRoleARN)
	if !strings.HasPrefix(alice.AccessKeyID, "ASIA") || time.Until(alice.Expires) < 50*time.Minute {
		t.Fatalf("unexpected credentials: %s expiring %s", alice.AccessKeyID, alice.Expires)
	}

	t.Run("Uploads", func(t *testing.T) {
		cl := sessionS3(g, alice)
		f := func(bucket, key, stored string, n int64) {
			t.Helper()
			seed := nextSeed()
			if err := sdkPut(cl, bucket, key, seed, n); err != nil {
				t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
			}
			b.checkObject(t, stsBucket, stored, seed, n)
		}
		// A JWT-only route, a route with a long-term key and a template
		// ({subject} is the session's), both small (in-loop) and large
		// (spliced) bodies, and a route whose policy reads role and claims.
		f("stsjwt", "users/alice/a.bin", "jwt/users/alice/a.bin", kib)
		f("stsjwt", "users/alice/big.bin", "jwt/users/alice/big.bin", 3*mib)
		f("stssig", "users/alice/b.bin", "sig/alice/users/alice/b.bin", 2*kib)
		f("stsaz", "users/alice/c.bin", "az/users/alice/c.bin", kib)

		// The long-term key still works on its route.
		seed := nextSeed()
		if r := g.signedPut(t, "/stssig/static.bin", genBytes(seed, kib), stsStaticAK, stsStaticSK, nil); r.status != 200 {
			t.Fatalf("unexpected static-key PUT result: %s", r)
		}
		b.checkObject(t, stsBucket, "sig/"+stsStaticAK+"/static.bin", seed, kib)

		// A presigned URL carries the token in its query.
		ctx := context.Background()
		pr, err := s3.NewPresignClient(cl).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("stsjwt"),
			Key: aws.String("users/alice/presigned.bin")}, s3.WithPresignExpires(10*time.Minute))
		if err != nil || !strings.Contains(pr.URL, "X-Amz-Security-Token=") {
			t.Fatalf("cannot presign: %v (%s)", err, pr.URL)
		}
		seed = nextSeed()
		req, _ := http.NewRequest(pr.Method, pr.URL, bytes.NewReader(genBytes(seed, kib)))
		for k, v := range pr.SignedHeader {
			req.Header[k] = v
		}
		resp, err := g.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("unexpected presigned PUT status %d: %s", resp.StatusCode, body)
		}
		b.checkObject(t, stsBucket, "jwt/users/alice/presigned.bin", seed, kib)
	})

	t.Run("CORS", func(t *testing.T) {
		// A browser app: the preflight of "/" and the call itself carry
		// the CORS headers of the routes the roles name.
		r := g.do(t, http.MethodOptions, "/", nil, http.Header{"Origin": {"http://app.test"},
			"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"amz-sdk-invocation-id, content-type"}})
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "http://app.test" ||
			r.header.Get("Access-Control-Allow-Headers") != "amz-sdk-invocation-id, content-type" {
			t.Fatalf("unexpected preflight answer: %s %v", r, r.header)
		}
		form := "Action=AssumeRoleWithWebIdentity&RoleArn=" + stsRoleARN + "&RoleSessionName=web&WebIdentityToken=" + e.token(t, "web", nil)
		r = g.do(t, http.MethodPost, "/", []byte(form), http.Header{"Origin": {"http://app.test"},
			"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}})
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "http://app.test" ||
			!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "x-amzn-RequestId") {
			t.Fatalf("unexpected answer to a browser: %s %v", r, r.header)
		}
		r = g.do(t, http.MethodOptions, "/", nil, http.Header{"Origin": {"http://evil.test"}, "Access-Control-Request-Method": {"POST"}})
		if r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("unexpected preflight answer to another origin: %s", r)
		}
	})
	t.Run("Boto3", func(t *testing.T) { testSTSBoto3(t, e) })
	t.Run("SDKDefaultChain", func(t *testing.T) { testSTSDefaultChain(t, e) })
	t.Run("AWSCLI", func(t *testing.T) { testSTSAWSCLI(t, e) })
	t.Run("AssumeRefused", func(t *testing.T) { testSTSAssumeRefused(t, e) })
	t.Run("SessionRefused", func(t *testing.T) { testSTSSessionRefused(t, e, alice) })

	t.Run("SharedSecrets", func(t *testing.T) {
		// A second gateway with the same configuration: credentials of
		// either work on the other; nothing is stored anywhere.
		g2 := startSTSGateway(t, b, e.extra, e.routes...)
		bob := mustAssume(t, g2, e.token(t, "bob", nil), stsRoleARN)
		seed := nextSeed()
		if err := sdkPut(sessionS3(g, bob), "stsjwt", "users/bob/from-g2.bin", seed, kib); err != nil {
			t.Fatalf("g2's credentials on g1: %v", err)
		}
		b.checkObject(t, stsBucket, "jwt/users/bob/from-g2.bin", seed, kib)
		seed = nextSeed()
		if err := sdkPut(sessionS3(g2, alice), "stssig", "users/alice/from-g1.bin", seed, kib); err != nil {
			t.Fatalf("g1's credentials on g2: %v", err)
		}
		b.checkObject(t, stsBucket, "sig/alice/users/alice/from-g1.bin", seed, kib)
	})

	t.Run("Reload", func(t *testing.T) { testSTSReload(t, e, alice) })

	t.Run("MetricsAndLogs", func(t *testing.T) {
		for _, m := range []string{
			`mizuchi_sts_requests_total{result="issued"}`,
			`mizuchi_sts_requests_total{result="InvalidIdentityToken"}`,
			`mizuchi_sts_requests_total{result="AccessDenied"}`,
			`mizuchi_sts_session_refused_total{reason="invalid"}`,
			`mizuchi_sts_session_refused_total{reason="expired"}`,
			`mizuchi_sts_session_refused_total{reason="mismatch"}`,
			`mizuchi_upload_refused_total{reason="sts_scope"}`,
			`mizuchi_auth_success_total{method="sts"}`,
		} {
			if v, _ := g.metric(t, m); v < 1 {
				t.Fatalf("unexpected %s = %v; want at least 1", m, v)
			}
		}
		logs := g.proc.stderr.String()
		// Every upload operation of boto3's multipart upload was made
		// with the session, and the access log names its role.
		for _, op := range []string{"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"} {
			found := false
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, " op="+op+" status=200 ") && strings.Contains(line, " auth=sts subject=carol role="+stsRoleARN+" ") {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("no access log line of a successful %s with auth=sts, subject carol and the role", op)
			}
		}
		if !strings.Contains(logs, "route=sts op=AssumeRoleWithWebIdentity status=200") {
			t.Fatalf("the access log has no line of an issued credential")
		}
		if os.Getenv("MIZUCHI_STS_LOGS") != "" {
			t.Log(logs)
		}
		if strings.Contains(logs, alice.SessionToken[:40]) || strings.Contains(logs, alice.SecretAccessKey) {
			t.Fatalf("a session token or secret key appears in the gateway's logs")
		}
	})
}

// boto3STSScript assumes the role with boto3's STS client against the
// gateway, then uploads path with put_object and as a multipart upload.
const boto3STSScript = `import sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, token, role, bucket, key, mpkey, path = sys.argv[1:8]
cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", config=cfg)
r = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="boto3", WebIdentityToken=token, DurationSeconds=900)
c = r["Credentials"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg,
                  aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                  aws_session_token=c["SessionToken"])
with open(path, "rb") as f:
    s3.put_object(Bucket=bucket, Key=key, Body=f)
mib = 1024 * 1024
s3.upload_file(path, bucket, mpkey, Config=TransferConfig(
    multipart_threshold=5 * mib, multipart_chunksize=5 * mib, max_concurrency=2))
print("boto3", boto3.__version__, r["AssumedRoleUser"]["Arn"], r["SubjectFromWebIdentityToken"])
`

// stsFile writes n generated bytes for seed to a file in dir.
func stsFile(t *testing.T, dir string, seed uint64, n int64) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("body-%d.bin", seed))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, newHashedGen(seed, n)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func testSTSBoto3(t *testing.T, e *stsEnv) {
	if skip := findPyenvBoto3(); skip != "" {
		t.Skip(skip)
	}
	j := &clientJob{dir: t.TempDir()}
	seed, n := nextSeed(), int64(2*matrixPartSize+13)
	file := stsFile(t, j.dir, seed, n)
	script := filepath.Join(j.dir, "sts.py")
	writeFile(t, script, boto3STSScript)
	ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
	defer cancel()
	out, err := runCLI(ctx, t, j, cliEnv(j), pyenvPy.exe, script, e.g.endpoint(), e.token(t, "carol", nil), stsRoleARN,
		"stsjwt", "users/carol/put.bin", "users/carol/multipart.bin", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "assumed-role/uploader/boto3 carol") {
		t.Fatalf("unexpected boto3 output: %s", out)
	}
	e.b.checkObject(t, stsBucket, "jwt/users/carol/put.bin", seed, n)
	e.b.checkObject(t, stsBucket, "jwt/users/carol/multipart.bin", seed, n)
}

// unsetenv unsets k for the rest of the test (restored by t.Setenv).
func unsetenv(t *testing.T, k string) {
	t.Setenv(k, "")
	os.Unsetenv(k)
}

// stsChainEnv sets only what the SDKs' web identity provider reads: the
// token file, the role, the session name and the STS and S3 endpoints
// (and a region), with nothing else of this machine's AWS setup.
func stsChainEnv(t *testing.T, e *stsEnv, dir, subject string) (env []string) {
	tokFile := filepath.Join(dir, "token")
	writeFile(t, tokFile, e.token(t, subject, nil))
	return []string{
		"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokFile,
		"AWS_ROLE_ARN=" + stsRoleARN,
		"AWS_ROLE_SESSION_NAME=" + subject + "-session",
		"AWS_ENDPOINT_URL_STS=" + e.g.endpoint(),
		"AWS_ENDPOINT_URL_S3=" + e.g.endpoint(),
		"AWS_REGION=" + backendRegion,
	}
}

func testSTSDefaultChain(t *testing.T, e *stsEnv) {
	dir := t.TempDir()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if u := strings.ToUpper(k); strings.HasPrefix(u, "AWS_") || strings.HasSuffix(u, "_PROXY") {
			unsetenv(t, k)
		}
	}
	for _, kv := range stsChainEnv(t, e, dir, "dave") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cl := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for i, n := range []int64{kib, mib + 7} {
		seed := nextSeed()
		key := fmt.Sprintf("users/dave/chain-%d.bin", i)
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("stsjwt"), Key: aws.String(key),
			Body: bytes.NewReader(genBytes(seed, n))}); err != nil {
			t.Fatalf("PutObject with the default credential chain: %v", err)
		}
		e.b.checkObject(t, stsBucket, "jwt/"+key, seed, n)
	}
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || !strings.HasPrefix(c.AccessKeyID, "ASIA") || c.Source != "WebIdentityCredentials" {
		t.Fatalf("unexpected credentials from the chain: %s %s %v", c.AccessKeyID, c.Source, err)
	}
}

func testSTSAWSCLI(t *testing.T, e *stsEnv) {
	// AWS_ENDPOINT_URL_<SERVICE> is newer than Debian's /usr/bin/aws
	// (v2.9, which ignores it): the pyenv CLI (v1.45) runs this.
	if skip := findPyenvAWSCLI(); skip != "" {
		t.Skip(skip)
	}
	j := &clientJob{dir: t.TempDir()}
	seed, n := nextSeed(), int64(300*kib+3)
	file := stsFile(t, j.dir, seed, n)
	ctx, cancel := context.WithTimeout(context.Background(), matrixTimeout)
	defer cancel()
	env := cliEnv(j, stsChainEnv(t, e, j.dir, "erin")...)
	if _, err := runCLI(ctx, t, j, env, pyenvPy.exe, "-m", "awscli", "s3", "cp", file, "s3://stssig/users/erin/cli.bin", "--no-progress"); err != nil {
		t.Fatal(err)
	}
	e.b.checkObject(t, stsBucket, "sig/erin/users/erin/cli.bin", seed, n)
}

func testSTSAssumeRefused(t *testing.T, e *stsEnv) {
	g := e.g
	f := func(what, token, role string, duration int32, code string, status int) {
		t.Helper()
		_, err := assume(g, token, role, duration)
		wantSTSAPIError(t, what, err, code, status)
	}
	f("expired token", e.token(t, "u", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		stsRoleARN, 0, sts.CodeExpiredToken, 400)
	other := newRSAKey(t, "sts-rsa-1") // the published kid, another key
	f("wrongly signed token", other.token(t, claims("u", nil)), stsRoleARN, 0, sts.CodeInvalidIdentityToken, 400)
	f("wrong audience", e.token(t, "u", func(c jwt.MapClaims) { c["aud"] = "someone-else" }), stsRoleARN, 0, sts.CodeInvalidIdentityToken, 400)
	f("claims not allowed", e.token(t, "u", func(c jwt.MapClaims) { c["groups"] = []string{"staff"} }), stsAdminARN, 0, sts.CodeAccessDenied, 403)
	f("unknown role", e.token(t, "u", nil), "arn:aws:iam::123456789012:role/nobody", 0, sts.CodeAccessDenied, 403)
	f("duration beyond the role's", e.token(t, "u", nil), stsRoleARN, 7200, sts.CodeValidation, 400)

	// The typed errors the SDK maps these codes to.
	_, err := assume(g, other.token(t, claims("u", nil)), stsRoleARN, 0)
	var iit *ststypes.InvalidIdentityTokenException
	if !errors.As(err, &iit) {
		t.Fatalf("unexpected error type %T; want InvalidIdentityTokenException", err)
	}
	// A role whose claims hold, for contrast.
	if _, err := assume(g, e.token(t, "u", func(c jwt.MapClaims) { c["groups"] = []string{"admins"} }), stsAdminARN, 900); err != nil {
		t.Fatalf("admins role: %v", err)
	}

	// A key the IdP publishes after the gateway fetched its JWK set: the
	// call waits for a refresh (on a worker) and succeeds.
	next := newRSAKey(t, "sts-rsa-2")
	e.idp.publish(e.key, next)
	if _, err := assume(g, next.token(t, claims("rotated", nil)), stsRoleARN, 0); err != nil {
		t.Fatalf("token of a newly published key: %v", err)
	}

	// A raw GET with the parameters in the query, as AWS accepts it.
	q := "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + stsRoleARN + "&RoleSessionName=get&WebIdentityToken=" + e.token(t, "u", nil)
	r := g.do(t, http.MethodGet, "/?"+strings.ReplaceAll(q, ":", "%3A"), nil, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/xml" || r.header.Get("X-Amzn-Requestid") == "" ||
		!bytes.Contains(r.body, []byte("<AccessKeyId>ASIA")) {
		t.Fatalf("unexpected GET answer: %s", r)
	}
	// A parameter error comes as AWS's ErrorResponse.
	r = g.do(t, http.MethodPost, "/", []byte("Action=Nope"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if r.status != 400 || !bytes.Contains(r.body, []byte("<ErrorResponse")) || !bytes.Contains(r.body, []byte("<Code>InvalidAction</Code>")) {
		t.Fatalf("unexpected answer to an invalid action: %s", r)
	}
}

// sessionPut signs a PUT with c (its token in x-amz-security-token) and
// sends it to g.
func sessionPut(t *testing.T, g *gateway, path string, body []byte, c aws.Credentials) putResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+g.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", h)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), c, req, h, "s3", backendRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return putResult{status: resp.StatusCode, header: resp.Header, body: rb}
}

func testSTSSessionRefused(t *testing.T, e *stsEnv, alice aws.Credentials) {
	g, b := e.g, e.b
	bob := mustAssume(t, g, e.token(t, "bob", nil), stsRoleARN)
	f := func(what string, path string, c aws.Credentials, status int, code string) {
		t.Helper()
		r := sessionPut(t, g, path, genBytes(nextSeed(), kib), c)
		if got := checkS3Error(t, what, r, false); r.status != status || got != code {
			t.Fatalf("%s: got %d %s; want %d %s (%s)", what, r.status, got, status, code, r)
		}
		_, key, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		for _, p := range []string{"jwt/", "sig/", "sig/alice/", "sig/root/", "az/", "other/"} {
			b.checkAbsent(t, stsBucket, p+key)
		}
	}
	// Outside the role's scope: another subject's prefix, a route of no
	// role (an unknown key there), a route of the role but not this one.
	f("other prefix", "/stsjwt/users/bob/x.bin", alice, 403, "AccessDenied")
	f("no prefix", "/stsjwt/x.bin", alice, 403, "AccessDenied")
	f("prefix without slash", "/stsjwt/users/alicex/y.bin", alice, 403, "AccessDenied")
	f("route of no role", "/stsother/users/alice/z.bin", alice, 403, "InvalidAccessKeyId")
	admin := mustAssume(t, g, e.token(t, "root", func(c jwt.MapClaims) { c["groups"] = []string{"admins"} }), stsAdminARN)
	f("route not of this role", "/stssig/users/root/w.bin", admin, 403, "AccessDenied")
	f("policy denies another tenant", "/stsaz/users/frank/v.bin",
		mustAssume(t, g, e.token(t, "frank", func(c jwt.MapClaims) { c["tenant"] = "other" }), stsRoleARN), 403, "AccessDenied")

	// Multipart: CreateMultipartUpload outside the scope is refused too.
	_, err := sessionS3(g, alice).CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{
		Bucket: aws.String("stsjwt"), Key: aws.String("users/bob/mp.bin")})
	wantSTSAPIError(t, "multipart outside the scope", err, "AccessDenied", 403)

	// Tampered, mismatched, guessed and expired credentials.
	tok := []byte(alice.SessionToken)
	i := len(tok) / 2
	if tok[i] == 'A' {
		tok[i] = 'B'
	} else {
		tok[i] = 'A'
	}
	tampered := alice
	tampered.SessionToken = string(tok)
	f("tampered token", "/stsjwt/users/alice/t1.bin", tampered, 400, "InvalidToken")
	mismatch := alice
	mismatch.SessionToken = bob.SessionToken
	f("another session's token", "/stsjwt/users/alice/t2.bin", mismatch, 403, "InvalidAccessKeyId")
	guessed := alice
	guessed.SecretAccessKey = bob.SecretAccessKey
	f("another session's secret", "/stsjwt/users/alice/t3.bin", guessed, 403, "SignatureDoesNotMatch")
	static := aws.Credentials{AccessKeyID: stsStaticAK, SecretAccessKey: stsStaticSK, SessionToken: alice.SessionToken}
	f("long-term key with a token", "/stssig/users/alice/t4.bin", static, 400, "InvalidToken")

	// An expired session: sealed by this test with the gateway's secret
	// and role, issued two hours ago for 15 minutes (policy/sts takes the
	// time as an argument; expiry itself is tested there with a fake clock).
	iss, err := sts.New(&config.STS{Enabled: true, Secrets: []string{stsSecret}, Roles: []config.STSRole{{
		ARN: stsRoleARN, Routes: []string{"stsjwt", "stssig", "stsaz"}, KeyTemplate: stsScope, MaxDuration: time.Hour,
	}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, se := iss.Assume(&sts.Request{WebIdentityToken: []byte("test"), RoleARN: stsRoleARN, RoleSessionName: "old", Duration: 900 * time.Second},
		&policy.Identity{Subject: "alice"}, time.Now().Add(-2*time.Hour))
	if se != nil {
		t.Fatal(se)
	}
	expired := aws.Credentials{AccessKeyID: old.AccessKeyID, SecretAccessKey: old.SecretAccessKey, SessionToken: old.SessionToken}
	f("expired session", "/stsjwt/users/alice/t5.bin", expired, 400, "ExpiredToken")
	// The same test-sealed session, issued now, works: the secret is all
	// a gateway needs.
	fresh, se := iss.Assume(&sts.Request{WebIdentityToken: []byte("test"), RoleARN: stsRoleARN, RoleSessionName: "new"},
		&policy.Identity{Subject: "alice"}, time.Now())
	if se != nil {
		t.Fatal(se)
	}
	seed := nextSeed()
	if r := sessionPut(t, g, "/stsjwt/users/alice/sealed-here.bin", genBytes(seed, kib),
		aws.Credentials{AccessKeyID: fresh.AccessKeyID, SecretAccessKey: fresh.SecretAccessKey, SessionToken: fresh.SessionToken}); r.status != 200 {
		t.Fatalf("unexpected result with a session sealed by the test: %s", r)
	}
	b.checkObject(t, stsBucket, "jwt/users/alice/sealed-here.bin", seed, kib)
}

// testSTSReload rotates sts.secrets with SIGHUP: with the new secret first
// and the old one kept, old and new sessions work; without the old one,
// its sessions are refused.
func testSTSReload(t *testing.T, e *stsEnv, alice aws.Credentials) {
	g, b := e.g, e.b
	const newSecret = "e2e-sts-secret-rotated-0123456789abcdef0123"
	orig, err := os.ReadFile(g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	reload := func(secrets string) {
		t.Helper()
		cfg := strings.Replace(string(orig), `secrets: ["`+stsSecret+`"]`, "secrets: "+secrets, 1)
		if err := os.WriteFile(g.cfg, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		const line = "configuration reloaded"
		n := strings.Count(g.proc.stderr.String(), line)
		if err := g.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); strings.Count(g.proc.stderr.String(), line) == n; {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log after SIGHUP", line)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	put := func(c aws.Credentials, key string, status int) {
		t.Helper()
		seed := nextSeed()
		r := sessionPut(t, g, "/stsjwt/"+key, genBytes(seed, kib), c)
		if r.status != status {
			t.Fatalf("PUT %s: unexpected result %s; want %d", key, r, status)
		}
		if status == 200 {
			b.checkObject(t, stsBucket, "jwt/"+key, seed, kib)
		}
	}
	reload(`["` + newSecret + `", "` + stsSecret + `"]`)
	rotated := mustAssume(t, g, e.token(t, "alice", nil), stsRoleARN)
	put(alice, "users/alice/reload-old.bin", 200)
	put(rotated, "users/alice/reload-new.bin", 200)
	reload(`["` + newSecret + `"]`)
	put(alice, "users/alice/reload-old-dropped.bin", 400)
	put(rotated, "users/alice/reload-new-2.bin", 200)
}
