package engine

// statusLines holds the complete status line ("HTTP/1.1 200 OK\r\n") of
// every status in statusText, built once, so appendStatusLine copies one
// string instead of formatting the code and looking its text up in a map
// for every response.
var statusLines = func() (t [600]string) {
	for code := range statusText {
		if code >= 0 && code < len(t) {
			t[code] = string(appendStatusLineSlow(nil, code))
		}
	}
	return t
}()
