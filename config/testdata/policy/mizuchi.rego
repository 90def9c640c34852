# Example Mizuchi upload policy (Rego v1), for embedded OPA
# (authz.opa.policy_file) or an OPA server (opa run --server mizuchi.rego;
# authz.opa.url). The gateway evaluates data.mizuchi.allow with the request
# as input (see policy.Input: subject, action, bucket, key, content_length, ...).
#
# Each subject uploads under its own directory: alice may write "alice/..."
# and nothing else. Anonymous requests, other actions and objects (or parts)
# larger than max_size are denied, with the reasons in the S3 error message.
package mizuchi

# max_size caps one PutObject body or one UploadPart, in bytes (1 GiB).
# A body of unknown length (content_length -1) is not refused here.
max_size := 1073741824

upload_actions := {
	"s3:PutObject", "s3:CreateMultipartUpload", "s3:UploadPart",
	"s3:CompleteMultipartUpload", "s3:AbortMultipartUpload", "s3:ListParts",
	"s3:HeadObject",
}

deny contains "anonymous uploads are not allowed" if input.subject == ""

deny contains msg if {
	input.subject != ""
	not startswith(input.key, concat("", [input.subject, "/"]))
	msg := concat("", ["keys must start with ", input.subject, "/"])
}

deny contains msg if {
	not upload_actions[input.action]
	msg := concat("", ["action ", input.action, " is not allowed"])
}

deny contains "object larger than 1 GiB" if {
	input.action in {"s3:PutObject", "s3:UploadPart"}
	input.content_length > max_size
}

# The decision: allowed when nothing denies, otherwise the reasons.
allow := {"allow": true} if count(deny) == 0

allow := {"allow": false, "reason": concat("; ", deny)} if count(deny) > 0
