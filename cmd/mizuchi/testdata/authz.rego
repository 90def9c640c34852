# The end-to-end tests' policy: every rule keys on one field of the
# decision input, so a test fails when that field does not arrive as
# docs/AUTHORIZATION.md documents it. Loaded embedded and into the OPA
# server alike; the query is data.mizuchi.decision.
package mizuchi

import rego.v1

deny contains "key outside your folder" if not startswith(input.key, concat("", [input.subject, "/"]))

deny contains "object too large" if {
	input.action == "s3:PutObject"
	input.content_length > 1048576
}

deny contains "content type not allowed" if input.content_type == "application/x-forbidden"

deny contains "blocked by metadata" if input.headers["x-amz-meta-block"] == "yes"

deny contains "too many parts" if {
	input.action == "s3:UploadPart"
	input.part_number > 2
}

deny contains "completion refused" if {
	input.action == "s3:CompleteMultipartUpload"
	contains(input.key, "nocomplete")
}

deny contains "wrong tenant" if {
	input.auth == "jwt"
	not input.claims.tenant == "t1"
}

deny contains "unknown access key" if {
	input.auth == "sigv4"
	not input.access_key in {"AKALICEZ", "AKBOBZ"}
}

deny contains "anonymous" if input.auth == "none"

decision := {"allow": count(deny) == 0, "reason": concat("; ", sort(deny))}
