package config

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestEndpoint_Success(t *testing.T) {
	f := func(endpoint, region, wantScheme, wantHostport, wantHost string) {
		t.Helper()
		s := &S3{EndpointURL: endpoint, Region: region, Bucket: "b"}
		scheme, hostport, host, err := s.Endpoint()
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", endpoint, err)
		}
		if scheme != wantScheme || hostport != wantHostport || host != wantHost {
			t.Fatalf("unexpected endpoint for %q; got %q %q %q; want %q %q %q",
				endpoint, scheme, hostport, host, wantScheme, wantHostport, wantHost)
		}
	}
	f("", "us-east-1", "https", "s3.us-east-1.amazonaws.com:443", "s3.us-east-1.amazonaws.com")
	f("", "cn-north-1", "https", "s3.cn-north-1.amazonaws.com.cn:443", "s3.cn-north-1.amazonaws.com.cn")
	f("http://127.0.0.1:7070", "r", "http", "127.0.0.1:7070", "127.0.0.1:7070")
	f("http://minio:80", "r", "http", "minio:80", "minio")
	f("http://MinIO", "r", "http", "minio:80", "minio")
	f("https://s3.example.com/", "r", "https", "s3.example.com:443", "s3.example.com")
	f("https://s3.example.com:8443", "r", "https", "s3.example.com:8443", "s3.example.com:8443")
	f("http://[::1]:9000", "r", "http", "[::1]:9000", "[::1]:9000")
	f("http://[::1]", "r", "http", "[::1]:80", "[::1]")
	f("http://minio_1:9000", "r", "http", "minio_1:9000", "minio_1:9000")
}

func TestEndpoint_Failure(t *testing.T) {
	f := func(endpoint, want string) {
		t.Helper()
		s := &S3{EndpointURL: endpoint, Region: "r"}
		_, _, _, err := s.Endpoint()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error for %q; got %v; want substring %q", endpoint, err, want)
		}
	}
	f("minio:9000", "must be an http:// or https:// URL")
	f("ftp://h", "must be an http:// or https:// URL")
	f("http://", "must be an http:// or https:// URL")
	f("http:h", "must be an http:// or https:// URL")
	f("http://u@h", "must not contain user info")
	f("http://h/p", "must not have a path")
	f("http://h?x=1", "must not have a path")
	f("http://h:x", "must be an http:// or https:// URL")
	f("http://h:70000", `invalid port "70000"`)
	f("http://bad!host", `invalid host "bad!host"`)
}

func TestUsePathStyle(t *testing.T) {
	yes, no := true, false
	f := func(s S3, want bool) {
		t.Helper()
		if got := s.UsePathStyle(); got != want {
			t.Fatalf("unexpected UsePathStyle for %+v; got %v; want %v", s, got, want)
		}
	}
	f(S3{Bucket: "b"}, false)
	f(S3{Bucket: "b.c"}, true)
	f(S3{Bucket: "b", EndpointURL: "http://minio:9000"}, true)
	f(S3{Bucket: "b", EndpointURL: "http://minio:9000", ForcePathStyle: &no}, false)
	f(S3{Bucket: "b", ForcePathStyle: &yes}, true)
}

func TestCredentials_Static(t *testing.T) {
	s := &S3{AccessKey: "AKID", SecretKey: "SECRET", SessionToken: "TOKEN", Region: "us-east-1"}
	p, err := s.Credentials(context.Background())
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if c.AccessKeyID != "AKID" || c.SecretAccessKey != "SECRET" || c.SessionToken != "TOKEN" {
		t.Fatalf("unexpected credentials: %+v", c)
	}

	_, err = (&S3{AccessKey: "AKID"}).Credentials(context.Background())
	if want := "access_key and s3.secret_key must be set together"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("unexpected error; got %v; want substring %q", err, want)
	}
}

func TestCredentials_Chain(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "nonexistent-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "nonexistent-credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_DEFAULT_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "ENVAKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET")
	t.Setenv("AWS_SESSION_TOKEN", "ENVTOKEN")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	s := &S3{Bucket: "b", Region: "us-east-1"}
	p, err := s.Credentials(context.Background())
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if c.AccessKeyID != "ENVAKID" || c.SecretAccessKey != "ENVSECRET" || c.SessionToken != "ENVTOKEN" {
		t.Fatalf("unexpected credentials: %+v", c)
	}
	if c.Source != "EnvConfigCredentials" {
		t.Fatalf("unexpected credentials source; got %q; want %q", c.Source, "EnvConfigCredentials")
	}
}
