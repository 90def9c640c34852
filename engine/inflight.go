package engine

import (
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// mizuchi_inflight_uploads{kind} splits mizuchi_requests_inflight (requests
// being relayed to the backend) by what they are: a PutObject relayed as
// is ("put"), an UploadPart ("part"), a PutObject turned into a multipart
// upload ("automp", automp.go), or a request without an object body
// ("other": CreateMultipartUpload, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts, HeadObject). The kinds add up to
// mizuchi_requests_inflight.

type uploadKind uint8

const (
	kindPut uploadKind = iota
	kindPart
	kindAutoMP
	kindOther
	numUploadKinds
)

var uploadKindNames = [numUploadKinds]string{kindPut: "put", kindPart: "part", kindAutoMP: "automp", kindOther: "other"}

var inflightUploads [numUploadKinds]atomic.Int64

func init() {
	for k := range inflightUploads {
		n := &inflightUploads[k]
		metrics.NewGauge(`mizuchi_inflight_uploads{kind="`+uploadKindNames[k]+`"}`, func() float64 { return float64(n.Load()) })
	}
}

func uploadKindOf(o op, autoMP bool) uploadKind {
	switch {
	case autoMP:
		return kindAutoMP
	case o == opPutObject:
		return kindPut
	case o == opUploadPart:
		return kindPart
	}
	return kindOther
}

// startInflight counts ex in flight by its kind, next to inflight; the
// exchange's end calls ex.kind.done() (with the kind read before ex goes
// back to its pool).
func (ex *exchange) startInflight() {
	ex.kind = uploadKindOf(ex.op, ex.autoMP)
	inflightUploads[ex.kind].Add(1)
}

func (k uploadKind) done() { inflightUploads[k].Add(-1) }
