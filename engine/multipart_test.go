package engine

import "testing"

func TestRewriteXML(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := string(rewriteXML(nil, []byte(in), "route", []byte("a&b.bin"), []byte("http://gw/route/a%26b.bin")))
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
		if got := string(appendUpstreamQuery(nil, []byte(in))); got != want {
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
