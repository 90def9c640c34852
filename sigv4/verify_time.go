package sigv4

import "time"

// atoiDigits parses a non-empty run of up to 9 ASCII digits.
func atoiDigits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// amzDateMemo remembers the last X-Amz-Date a Verifier parsed: requests of
// one second carry the same one, and building a time.Time from its fields
// costs more than the rest of the parse.
type amzDateMemo struct {
	ok   bool
	date [16]byte
	t    time.Time
}

// parse is parseAmzDate through the memo.
func (m *amzDateMemo) parse(b []byte) (time.Time, bool) {
	if m.ok && string(b) == string(m.date[:]) {
		return m.t, true
	}
	t, ok := parseAmzDate(b)
	if ok {
		m.ok, m.t = true, t
		copy(m.date[:], b) // parseAmzDate accepted it: 16 bytes
	}
	return t, ok
}

// parseAmzDate parses "20060102T150405Z" (UTC).
func parseAmzDate(b []byte) (time.Time, bool) {
	if len(b) != 16 || b[8] != 'T' || b[15] != 'Z' {
		return time.Time{}, false
	}
	y, ok1 := atoiDigits(b[0:4])
	mo, ok2 := atoiDigits(b[4:6])
	d, ok3 := atoiDigits(b[6:8])
	h, ok4 := atoiDigits(b[9:11])
	mi, ok5 := atoiDigits(b[11:13])
	s, ok6 := atoiDigits(b[13:15])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	return makeUTC(y, mo, d, h, mi, s)
}

const (
	weekdayNames = "SunMonTueWedThuFriSat"
	monthNames   = "JanFebMarAprMayJunJulAugSepOctNovDec"
)

// parseHTTPDate parses an IMF-fixdate (http.TimeFormat),
// "Mon, 02 Jan 2006 15:04:05 GMT".
func parseHTTPDate(b []byte) (time.Time, bool) {
	if len(b) != 29 || b[3] != ',' || b[4] != ' ' || b[7] != ' ' || b[11] != ' ' || b[16] != ' ' ||
		b[19] != ':' || b[22] != ':' || b[25] != ' ' || string(b[26:]) != "GMT" {
		return time.Time{}, false
	}
	if nameIndex(weekdayNames, b[0:3]) < 0 {
		return time.Time{}, false
	}
	mo := nameIndex(monthNames, b[8:11])
	if mo < 0 {
		return time.Time{}, false
	}
	d, ok1 := atoiDigits(b[5:7])
	y, ok2 := atoiDigits(b[12:16])
	h, ok3 := atoiDigits(b[17:19])
	mi, ok4 := atoiDigits(b[20:22])
	s, ok5 := atoiDigits(b[23:25])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return time.Time{}, false
	}
	return makeUTC(y, mo+1, d, h, mi, s)
}

// nameIndex returns the index of the 3-byte name b in the concatenated
// list names, or -1.
func nameIndex(names string, b []byte) int {
	for i := 0; i+3 <= len(names); i += 3 {
		if names[i:i+3] == string(b) {
			return i / 3
		}
	}
	return -1
}

// makeUTC builds the time after checking every field is in range (no
// February 30th, no second 60).
func makeUTC(y, mo, d, h, mi, s int) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}
