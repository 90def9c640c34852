package main

// The command-line clients of the client matrix (clients_test.go): finding
// them, running them with a private HOME, config files and a timeout, and
// one upload function per client.

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Finding clients.

const (
	debianPython = "/usr/bin/python3"
	debianAWS    = "/usr/bin/aws"
)

func always() string { return "" }

func findFile(p string) func() string {
	return func() string {
		if !isExecutable(p) {
			return p + " not installed (scripts/install-clients.sh installs it)"
		}
		return ""
	}
}

func findOnPath(name string) func() string {
	return func() string {
		if _, err := exec.LookPath(name); err != nil {
			return name + " not on PATH (scripts/install-clients.sh installs it)"
		}
		return ""
	}
}

// pyInfo describes a Python interpreter and its S3 packages.
type pyInfo struct {
	exe            string // sys.executable
	boto3, awscli  string // versions; "" when not importable
	err            string
	debian         bool // it is /usr/bin/python3
	once           sync.Once
	path, lookPath string
}

var (
	pyenvPy  = &pyInfo{lookPath: "python3"}
	debianPy = &pyInfo{path: debianPython}
)

const pyProbe = `import sys
print(sys.executable)
for m in ("boto3", "awscli"):
    try:
        print(__import__(m).__version__)
    except Exception:
        print("")
`

func (p *pyInfo) probe() {
	p.once.Do(func() {
		exe := p.path
		if p.lookPath != "" {
			var err error
			if exe, err = exec.LookPath(p.lookPath); err != nil {
				p.err = "python3 not on PATH"
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, "-c", pyProbe)
		cmd.Env = append(childEnv(), "PYTHONNOUSERSITE=1")
		out, err := cmd.Output()
		if err != nil {
			p.err = fmt.Sprintf("%s does not run: %v", exe, err)
			return
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		for len(lines) < 3 {
			lines = append(lines, "")
		}
		p.exe, p.boto3, p.awscli = lines[0], lines[1], lines[2]
		a, _ := filepath.EvalSymlinks(p.exe)
		d, _ := filepath.EvalSymlinks(debianPython)
		p.debian = a != "" && a == d
	})
}

func findPyenvBoto3() string {
	pyenvPy.probe()
	switch {
	case pyenvPy.err != "":
		return pyenvPy.err
	case pyenvPy.debian:
		return "python3 on PATH is Debian's; the pyenv Python (boto3 1.43) is not on PATH"
	case pyenvPy.boto3 == "":
		return pyenvPy.exe + " has no boto3"
	}
	return ""
}

func findPyenvAWSCLI() string {
	pyenvPy.probe()
	switch {
	case pyenvPy.err != "":
		return pyenvPy.err
	case pyenvPy.debian:
		return "python3 on PATH is Debian's; the pyenv Python (AWS CLI 1.45) is not on PATH"
	case pyenvPy.awscli == "":
		return pyenvPy.exe + " has no awscli (AWS CLI v1)"
	}
	return ""
}

func findDebianBoto3() string {
	debianPy.probe()
	if debianPy.err != "" {
		return debianPy.err
	}
	if debianPy.boto3 == "" {
		return debianPython + " has no boto3 (scripts/install-clients.sh installs python3-boto3)"
	}
	return ""
}

func findCurl() string {
	curl, err := exec.LookPath("curl")
	if err != nil {
		return "curl not on PATH"
	}
	out, err := exec.Command(curl, "--help", "all").Output()
	if err != nil || !strings.Contains(string(out), "--aws-sigv4") {
		return "curl has no --aws-sigv4 (needs curl 7.75 or later)"
	}
	return ""
}

// Running CLI clients.

// cliEnv is the environment of a CLI client: nothing AWS-, rclone- or
// s3cmd-related from this machine (AWS_CA_BUNDLE breaks rclone: "unable to
// load custom CA bundle"), a private HOME and AWS config files.
func cliEnv(j *clientJob, extra ...string) []string {
	var env []string
	for _, kv := range childEnv() {
		k, _, _ := strings.Cut(kv, "=")
		k = strings.ToUpper(k)
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "RCLONE_") || strings.HasPrefix(k, "S3CMD") ||
			k == "HOME" || strings.HasPrefix(k, "XDG_") || k == "SSL_CERT_FILE" || k == "REQUESTS_CA_BUNDLE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+j.dir,
		"XDG_CONFIG_HOME="+filepath.Join(j.dir, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(j.dir, ".cache"),
		"PYTHONNOUSERSITE=1",
		"AWS_CONFIG_FILE="+filepath.Join(j.dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(j.dir, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
	return append(env, extra...)
}

// runCLI runs a client command with the job's environment, in its own
// process group (killed when ctx ends), and returns what it printed.
func runCLI(ctx context.Context, t *testing.T, j *clientJob, env []string, bin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = j.dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out: %w", ctx.Err())
	}
	if err != nil {
		return string(out), fmt.Errorf("%s: %v\n%s", filepath.Base(bin), err, out)
	}
	return string(out), nil
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// pythonEnv is cliEnv plus the gateway's CA for botocore over https.
func pythonEnv(j *clientJob) []string {
	if j.caFile == "" {
		return cliEnv(j)
	}
	return cliEnv(j, "AWS_CA_BUNDLE="+j.caFile)
}

// awsConfigFiles writes the AWS config and credentials files that cliEnv
// points at: path-style addressing, and a multipart threshold that makes
// the CLI and boto3 upload j.file in one PutObject or in 5 MiB parts.
func awsConfigFiles(t *testing.T, j *clientJob) {
	threshold := "64MB"
	if j.multipart {
		threshold = "5MB"
	}
	writeFile(t, filepath.Join(j.dir, "aws-config"), "[default]\nregion = "+backendRegion+"\n"+
		"s3 =\n  addressing_style = path\n  multipart_threshold = "+threshold+"\n  multipart_chunksize = 5MB\n")
	writeFile(t, filepath.Join(j.dir, "aws-credentials"), "[default]\naws_access_key_id = "+matrixAK+
		"\naws_secret_access_key = "+matrixSK+"\n")
}

// uploadAWSCLI runs `aws s3 cp` (v1 as `python -m awscli`, v2 as /usr/bin/aws).
func uploadAWSCLI(ctx context.Context, t *testing.T, j *clientJob, bin string, pre ...string) error {
	awsConfigFiles(t, j)
	args := append(pre, "s3", "cp", j.file, "s3://"+j.bucket+"/"+j.key, "--endpoint-url", j.endpoint, "--no-progress")
	_, err := runCLI(ctx, t, j, pythonEnv(j), bin, args...)
	return err
}

// boto3Script uploads with put_object or, for multipart, upload_file with
// a 5 MiB TransferConfig.
const boto3Script = `import sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, bucket, key, path, op = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint,
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
if op == "put":
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f)
else:
    mib = 1024 * 1024
    s3.upload_file(path, bucket, key, Config=TransferConfig(
        multipart_threshold=5 * mib, multipart_chunksize=5 * mib, max_concurrency=2))
print("boto3", boto3.__version__, "ok")
`

func uploadBoto3(ctx context.Context, t *testing.T, j *clientJob, python string) error {
	awsConfigFiles(t, j)
	script := filepath.Join(j.dir, "upload.py")
	writeFile(t, script, boto3Script)
	_, err := runCLI(ctx, t, j, pythonEnv(j), python, script, j.endpoint, j.bucket, j.key, j.file, j.op())
	return err
}

// uploadS3cmd runs `s3cmd put` with a config file for path-style requests
// to the gateway.
func uploadS3cmd(ctx context.Context, t *testing.T, j *clientJob) error {
	bin, _ := exec.LookPath("s3cmd")
	cfg := filepath.Join(j.dir, "s3cmd.cfg")
	https := "False"
	if j.scheme == "https" {
		https = "True"
	}
	writeFile(t, cfg, "[default]\naccess_key = "+matrixAK+"\nsecret_key = "+matrixSK+"\n"+
		"host_base = "+j.host+"\nhost_bucket = "+j.host+"\nbucket_location = "+backendRegion+"\n"+
		"use_https = "+https+"\nsignature_v2 = False\nca_certs_file = "+j.caFile+"\n"+
		"multipart_chunk_size_mb = 5\n")
	args := []string{"-c", cfg, "--no-progress"}
	if j.multipart {
		args = append(args, "--multipart-chunk-size-mb=5")
	} else {
		args = append(args, "--disable-multipart")
	}
	args = append(args, "put", j.file, "s3://"+j.bucket+"/"+j.key)
	_, err := runCLI(ctx, t, j, cliEnv(j), bin, args...)
	return err
}

// uploadRclone runs `rclone copyto` with an S3 remote (provider Other) and
// the flags docs/CLIENTS.md documents: --s3-no-check-bucket always (rclone would
// create the bucket), --no-check-dest and --s3-no-head on a route without
// allow_head (rclone HEADs the key before and after the upload).
func uploadRclone(ctx context.Context, t *testing.T, j *clientJob, flags ...string) error {
	bin, _ := exec.LookPath("rclone")
	cfg := filepath.Join(j.dir, "rclone.conf")
	writeFile(t, cfg, "[gw]\ntype = s3\nprovider = Other\naccess_key_id = "+matrixAK+"\n"+
		"secret_access_key = "+matrixSK+"\nendpoint = "+j.endpoint+"\nregion = "+backendRegion+"\n"+
		"force_path_style = true\n")
	args := []string{"--config", cfg, "--cache-dir", filepath.Join(j.dir, "rclone-cache"),
		"--retries", "1", "--low-level-retries", "1", "-v"}
	args = append(args, flags...)
	if j.multipart {
		args = append(args, "--s3-upload-cutoff", "5Mi", "--s3-chunk-size", "5Mi")
	}
	if j.caFile != "" {
		args = append(args, "--ca-cert", j.caFile)
	}
	args = append(args, "copyto", j.file, "gw:"+j.bucket+"/"+j.key)
	_, err := runCLI(ctx, t, j, cliEnv(j), bin, args...)
	return err
}

// curl with --aws-sigv4: PutObject is `curl -T`; the multipart upload is the
// four requests written out (POST ?uploads=, PUT ?partNumber&uploadId per
// part, POST ?uploadId with the part list; DELETE ?uploadId on failure).

type curlResult struct {
	status int
	body   string
	header http.Header
}

// curlDo runs one signed curl request and returns the answer; a transport
// failure is an error, an HTTP error status is not.
func curlDo(ctx context.Context, t *testing.T, j *clientJob, url string, args ...string) (curlResult, error) {
	t.Helper()
	bin, _ := exec.LookPath("curl")
	tmp, err := os.MkdirTemp(j.dir, "curl-")
	if err != nil {
		return curlResult{}, err
	}
	defer os.RemoveAll(tmp)
	hdr, body := filepath.Join(tmp, "head"), filepath.Join(tmp, "body")
	// curl 7.88 sends no x-amz-content-sha256 of its own (S3 requires
	// one); given this header it signs it and uses it as the payload hash.
	all := []string{"-q", "-sS", "--aws-sigv4", "aws:amz:" + backendRegion + ":s3", "--user", matrixAK + ":" + matrixSK,
		"-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-D", hdr, "-o", body, "-w", "%{http_code}"}
	if j.caFile != "" {
		all = append(all, "--cacert", j.caFile)
	}
	all = append(append(all, args...), url)
	out, err := runCLI(ctx, t, j, cliEnv(j), bin, all...)
	if err != nil {
		return curlResult{}, err
	}
	var r curlResult
	if _, err := fmt.Sscan(strings.TrimSpace(out), &r.status); err != nil {
		return r, fmt.Errorf("curl printed %q; want a status code", out)
	}
	b, _ := os.ReadFile(body)
	r.body = string(b)
	h, _ := os.ReadFile(hdr)
	r.header = http.Header{}
	for _, line := range strings.Split(string(h), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			r.header.Add(k, strings.TrimSpace(v))
		}
	}
	return r, nil
}

func (r curlResult) err(what string) error {
	if r.status == http.StatusOK {
		return nil
	}
	return fmt.Errorf("%s: status %d: %s", what, r.status, strings.TrimSpace(r.body))
}

func uploadCurl(ctx context.Context, t *testing.T, j *clientJob) error {
	u := j.endpoint + "/" + j.bucket + "/" + j.key
	if !j.multipart {
		r, err := curlDo(ctx, t, j, u, "-T", j.file)
		if err != nil {
			return err
		}
		return r.err("PUT")
	}
	r, err := curlDo(ctx, t, j, u+"?uploads=", "-X", "POST")
	if err != nil {
		return err
	}
	if err := r.err("POST ?uploads="); err != nil {
		return err
	}
	var created struct{ UploadId string }
	if err := xml.Unmarshal([]byte(r.body), &created); err != nil || created.UploadId == "" {
		return fmt.Errorf("no UploadId in %q (%v)", r.body, err)
	}
	id := "uploadId=" + strings.ReplaceAll(url.QueryEscape(created.UploadId), "+", "%20")
	abort := func(err error) error {
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if r, aerr := curlDo(actx, t, j, u+"?"+id, "-X", "DELETE"); aerr != nil || r.status != http.StatusNoContent {
			err = errors.Join(err, fmt.Errorf("DELETE ?uploadId: status %d, %v", r.status, aerr))
		}
		return err
	}
	src, err := os.Open(j.file)
	if err != nil {
		return err
	}
	defer src.Close()
	complete := "<CompleteMultipartUpload>"
	for n, off := 1, int64(0); off < j.size; n, off = n+1, off+matrixPartSize {
		part := filepath.Join(j.dir, fmt.Sprintf("part%d", n))
		f, err := os.Create(part)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, io.NewSectionReader(src, off, min(matrixPartSize, j.size-off)))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		r, err := curlDo(ctx, t, j, fmt.Sprintf("%s?partNumber=%d&%s", u, n, id), "-T", part)
		if err != nil {
			return abort(err)
		}
		if err := r.err(fmt.Sprintf("PUT ?partNumber=%d", n)); err != nil {
			return abort(err)
		}
		complete += fmt.Sprintf("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, r.header.Get("ETag"))
	}
	complete += "</CompleteMultipartUpload>"
	r, err = curlDo(ctx, t, j, u+"?"+id, "-X", "POST", "-H", "Content-Type: application/xml", "--data-binary", complete)
	if err != nil {
		return abort(err)
	}
	if err := r.err("POST ?uploadId"); err != nil {
		return abort(err)
	}
	// S3 may answer 200 with an error in the body.
	if strings.Contains(r.body, "<Error>") {
		return abort(fmt.Errorf("POST ?uploadId: %s", r.body))
	}
	return nil
}
