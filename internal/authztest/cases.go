package authztest

import "github.com/mizuchi-gw/mizuchi/policy"

// PolicyCase is one request and the example policy's decision for it.
type PolicyCase struct {
	Name   string
	In     policy.Input
	Allow  bool
	Reason string // exact
}

// PolicyCases returns the example policy's cases (ExamplePolicy), shared
// by the embedded and the server engine tests so both are held to the same
// answers. Each call returns fresh values.
func PolicyCases() []PolicyCase {
	put := func(subject, key string, n int64) policy.Input {
		return policy.Input{
			Subject: subject, Auth: policy.AuthSigV4, AccessKey: "AKID" + subject,
			Action: "s3:PutObject", Bucket: "uploads", Key: key, ContentLength: n,
			ContentType: "image/jpeg", SourceIP: "192.0.2.10", Method: "PUT",
			Path: "/uploads/" + key, Headers: map[string]string{"x-amz-meta-origin": "camera"},
		}
	}
	with := func(in policy.Input, f func(*policy.Input)) policy.Input { f(&in); return in }
	const gib = 1 << 30
	return []PolicyCase{
		{"own prefix", put("alice", "alice/photo.jpg", 1024), true, ""},
		{"nested own prefix", put("alice", "alice/2024/01/photo.jpg", 0), true, ""},
		{"unicode key", put("alice", "alice/写真 1.jpg", 10), true, ""},
		{"unknown length", put("alice", "alice/stream", -1), true, ""},
		{"exactly max size", put("alice", "alice/big", gib), true, ""},
		{"other prefix", put("alice", "bob/photo.jpg", 1024), false, "keys must start with alice/"},
		{"no slash", put("alice", "alice", 1), false, "keys must start with alice/"},
		{"prefix of subject", put("al", "alice/x", 1), false, "keys must start with al/"},
		{"anonymous", with(put("", "x", 1), func(in *policy.Input) { in.Auth = policy.AuthNone }), false, "anonymous uploads are not allowed"},
		{"too large", put("alice", "alice/big", gib+1), false, "object larger than 1 GiB"},
		{"too large elsewhere", put("alice", "bob/big", 2*gib), false, "keys must start with alice/; object larger than 1 GiB"},
		{"part too large", with(put("alice", "alice/big", 2*gib), func(in *policy.Input) {
			in.Action, in.PartNumber, in.UploadID = "s3:UploadPart", 3, "upload-1"
		}), false, "object larger than 1 GiB"},
		{"complete is not sized", with(put("alice", "alice/big", 2*gib), func(in *policy.Input) {
			in.Action, in.UploadID = "s3:CompleteMultipartUpload", "upload-1"
		}), true, ""},
		{"head", with(put("alice", "alice/photo.jpg", -1), func(in *policy.Input) { in.Action, in.Method = "s3:HeadObject", "HEAD" }), true, ""},
		{"other action", with(put("alice", "alice/photo.jpg", 0), func(in *policy.Input) { in.Action, in.Method = "s3:DeleteObject", "DELETE" }),
			false, "action s3:DeleteObject is not allowed"},
		{"jwt", with(put("carol", "carol/doc.pdf", 5), func(in *policy.Input) {
			in.Auth, in.AccessKey = policy.AuthJWT, ""
			in.Claims = map[string]any{"sub": "carol", "groups": []any{"staff"}, "exp": float64(1.9e9)}
		}), true, ""},
	}
}
