package httpparse

// Rebase makes r a copy of src, a Request parsed from from, whose views
// point into to instead: to must hold a copy of from's bytes at the same
// offsets, at least through the end of the head. It is what Parse(to)
// would give, for a fraction of the cost (no byte is looked at again), and
// reuses r's Headers array. It reports false, leaving r unspecified,
// when a view of src is not within from or does not fit in to: the caller
// then parses to.
//
// r's views are valid as long as to's bytes are.
func (r *Request) Rebase(src *Request, from, to []byte) bool {
	hs := r.Headers[:0]
	*r = *src
	ok := true
	r.Method = rebase(src.Method, from, to, &ok)
	r.URI = rebase(src.URI, from, to, &ok)
	r.Path = rebase(src.Path, from, to, &ok)
	r.Query = rebase(src.Query, from, to, &ok)
	r.Host = rebase(src.Host, from, to, &ok)
	for i := range src.Headers {
		h := &src.Headers[i]
		hs = append(hs, Header{Name: rebase(h.Name, from, to, &ok), Value: rebase(h.Value, from, to, &ok)})
	}
	r.Headers = hs
	return ok
}

// rebase returns the view of to at v's offset in from; nil stays nil. A
// view that is not within from, or whose offset does not fit in to,
// clears *ok. The offset comes from the capacities (a subslice v of from
// has cap(from)-cap(v) bytes before it); a non-empty view is checked to
// share from's array.
func rebase(v, from, to []byte, ok *bool) []byte {
	if v == nil {
		return nil
	}
	off := cap(from) - cap(v)
	if off < 0 || off > len(from) || off+len(v) > len(to) || len(v) > 0 && (off+len(v) > len(from) || &from[off] != &v[0]) {
		*ok = false
		return nil
	}
	return to[off : off+len(v) : off+len(v)]
}
