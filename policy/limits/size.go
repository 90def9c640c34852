package limits

import "errors"

// S3's own limits.
const (
	MaxObjectSize = 5 << 40 // largest object (multipart), 5 TiB
	MaxPartSize   = 5 << 30 // largest part, and largest single PUT, 5 GiB
)

// ErrTooLarge: the object or part is larger than the route allows (S3 400
// EntityTooLarge).
var ErrTooLarge = errors.New("limits: entity too large")

// ObjectLimit returns the largest object a route with max_object_size
// limit accepts: limit, or MaxObjectSize when limit is 0, negative or
// larger.
func ObjectLimit(limit int64) int64 { return effective(limit, MaxObjectSize) }

// PartLimit returns the largest part a route with max_part_size limit
// accepts: limit, or MaxPartSize when limit is 0, negative or larger.
func PartLimit(limit int64) int64 { return effective(limit, MaxPartSize) }

func effective(limit, ceiling int64) int64 {
	if limit <= 0 || limit > ceiling {
		return ceiling
	}
	return limit
}

// CheckSize returns ErrTooLarge when a declared length n is above max
// (from ObjectLimit or PartLimit), else nil.
func CheckSize(n, max int64) error {
	if n > max {
		return ErrTooLarge
	}
	return nil
}
