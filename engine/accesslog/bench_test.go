package accesslog

import "testing"

func BenchmarkLogJSON(b *testing.B) {
	l, err := New(Config{Format: FormatJSON, Output: b.TempDir() + "/access.log", Sample: 1, Queue: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := fullRecord()
	b.ReportAllocs()
	for b.Loop() {
		l.Log(r)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	r := fullRecord()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], r)
	}
}

func BenchmarkAppendLogfmt(b *testing.B) {
	r := fullRecord()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendLogfmt(buf[:0], r)
	}
}
