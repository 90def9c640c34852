package engine

import "testing"

func TestRewriteXML(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := string(rewriteXML(nil, []byte(in), "route", []byte("a&b.bin"), []byte("http://gw/route/a%26b.bin"), nil))
		if got != want {
			t.Fatalf("unexpected rewrite of %q;\ngot  %q\nwant %q", in, got, want)
		}
	}
	f(`<?xml version="1.0"?><InitiateMultipartUploadResult><Bucket>backend</Bucket><Key>pfx/a&amp;b.bin</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`,
		`<?xml version="1.0"?><InitiateMultipartUploadResult><Bucket>route</Bucket><Key>a&amp;b.bin</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
	f(`<CompleteMultipartUploadResult><Location>http://backend:9000/backend/pfx/a</Location><Bucket>backend</Bucket><Key>pfx/a</Key><ETag>"e-3"</ETag></CompleteMultipartUploadResult>`,
		`<CompleteMultipartUploadResult><Location>http://gw/route/a%26b.bin</Location><Bucket>route</Bucket><Key>a&amp;b.bin</Key><ETag>"e-3"</ETag></CompleteMultipartUploadResult>`)
	f(`<ListPartsResult><Bucket>backend</Bucket><Key>pfx/a</Key><UploadId>u</UploadId><Initiator><ID>BACKENDAK</ID><DisplayName>x</DisplayName></Initiator><Owner><ID>BACKENDAK</ID></Owner><Part><PartNumber>1</PartNumber><ETag>"e"</ETag></Part><Part><PartNumber>2</PartNumber></Part></ListPartsResult>`,
		`<ListPartsResult><Bucket>route</Bucket><Key>a&amp;b.bin</Key><UploadId>u</UploadId><Part><PartNumber>1</PartNumber><ETag>"e"</ETag></Part><Part><PartNumber>2</PartNumber></Part></ListPartsResult>`)
	// Only the first Bucket/Key are replaced; unknown and unterminated elements pass through.
	f(`<R><Key>k1</Key><Key>k2</Key><BucketX>b</BucketX><Bucket>unterminated`, `<R><Key>a&amp;b.bin</Key><Key>k2</Key><BucketX>b</BucketX><Bucket>unterminated`)
	f(``, ``)
}

func TestAppendUpstreamQuery(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(appendUpstreamQuery(nil, []byte(in), nil)); got != want {
			t.Fatalf("unexpected upstream query for %q; got %q; want %q", in, got, want)
		}
	}
	f("", "")
	f("x-id=PutObject", "")
	f("uploads", "uploads")
	f("uploads=&x-id=CreateMultipartUpload", "uploads")
	f("partNumber=3&uploadId=a%2Bb%3D&x-id=UploadPart", "partNumber=3&uploadId=a%2Bb%3D")
	f("uploadId=u&max-parts=2&part-number-marker=1&X-Amz-Signature=00&token=t", "uploadId=u&max-parts=2&part-number-marker=1")
}

// A sealed upload id is replaced by the backend's, percent-encoded as the
// upstream signer canonicalizes it; everything else is as without one.
func TestAppendUpstreamQuery_UploadID(t *testing.T) {
	f := func(in, id, want string) {
		t.Helper()
		if got := string(appendUpstreamQuery(nil, []byte(in), []byte(id))); got != want {
			t.Fatalf("unexpected upstream query for %q with id %q; got %q; want %q", in, id, got, want)
		}
	}
	f("partNumber=3&uploadId=SEALED-token_x&x-id=UploadPart", "backend-1", "partNumber=3&uploadId=backend-1")
	f("uploadId=SEALED", "a+b/c=d e~f.g_h-i", "uploadId=a%2Bb%2Fc%3Dd%20e~f.g_h-i")
	f("uploadId=SEALED&max-parts=2&part-number-marker=1", "\x00\xff", "uploadId=%00%FF&max-parts=2&part-number-marker=1")
	f("uploadId", "id", "uploadId=id")
	f("uploads&x-id=CreateMultipartUpload", "id", "uploads")
	f("partNumber=1&uploadId=a%2Bb", "", "partNumber=1&uploadId=a%2Bb")
}

// The UploadId of a reply is replaced (escaped) when an id is given, and
// left alone without one.
func TestRewriteXML_UploadID(t *testing.T) {
	f := func(in, id, want string) {
		t.Helper()
		var idb []byte
		if id != "-" {
			idb = []byte(id)
		}
		got := string(rewriteXML(nil, []byte(in), "route", []byte("k"), []byte("http://gw/route/k"), idb))
		if got != want {
			t.Fatalf("unexpected rewrite of %q with id %q;\ngot  %q\nwant %q", in, id, got, want)
		}
	}
	create := `<InitiateMultipartUploadResult><Bucket>backend</Bucket><Key>pfx/alice/k</Key><UploadId>BACKEND-ID</UploadId></InitiateMultipartUploadResult>`
	f(create, "SEALED_tok-1", `<InitiateMultipartUploadResult><Bucket>route</Bucket><Key>k</Key><UploadId>SEALED_tok-1</UploadId></InitiateMultipartUploadResult>`)
	f(create, "-", `<InitiateMultipartUploadResult><Bucket>route</Bucket><Key>k</Key><UploadId>BACKEND-ID</UploadId></InitiateMultipartUploadResult>`)
	f(create, "", `<InitiateMultipartUploadResult><Bucket>route</Bucket><Key>k</Key><UploadId></UploadId></InitiateMultipartUploadResult>`)
	f(`<ListPartsResult><Bucket>b</Bucket><Key>k2</Key><UploadId>B&amp;ID</UploadId><Part><PartNumber>1</PartNumber></Part></ListPartsResult>`, "a<b",
		`<ListPartsResult><Bucket>route</Bucket><Key>k</Key><UploadId>a&lt;b</UploadId><Part><PartNumber>1</PartNumber></Part></ListPartsResult>`)
	// Only the first UploadId is replaced.
	f(`<R><UploadId>1</UploadId><UploadId>2</UploadId></R>`, "S", `<R><UploadId>S</UploadId><UploadId>2</UploadId></R>`)
}

func TestUnescapeXML(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(unescapeXML([]byte(in))); got != want {
			t.Fatalf("unescapeXML(%q) = %q; want %q", in, got, want)
		}
	}
	f(`"abc-3"`, `"abc-3"`)
	f(`&#34;abc-16&#34;`, `"abc-16"`)
	f(`&quot;a&amp;b&lt;&gt;&apos;&#x41;`, `"a&b<>'A`)
	f(`a&b`, `a&b`)
	f(`&bogus;x&#zz;`, `&bogus;x&#zz;`)
}
