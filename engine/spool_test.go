package engine

import (
	"errors"
	"os"
	"testing"
)

func TestSpoolFile(t *testing.T) {
	dir := t.TempDir()
	sp := newSpooler(dir, 100)
	base := sp.inUse.Load()
	a, err := sp.open(60)
	if err != nil {
		t.Fatalf("cannot open a spool file: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("the spool file has a name: %v", ents)
	}
	if _, err := a.Write(make([]byte, 50)); err != nil {
		t.Fatalf("unexpected error; got %v; want none", err)
	}
	if _, err := a.Write(make([]byte, 11)); !errors.Is(err, errSpoolTooLarge) {
		t.Fatalf("unexpected error past the per-body limit; got %v; want errSpoolTooLarge", err)
	}
	b, err := sp.open(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(make([]byte, 40)); err != nil {
		t.Fatalf("unexpected error; got %v; want none", err)
	}
	if sp.full() {
		t.Fatalf("90 of 100 in use: want not full")
	}
	if _, err := b.Write(make([]byte, 10)); err != nil || !sp.full() {
		t.Fatalf("100 of 100 in use: got err %v, full %v; want none, full", err, sp.full())
	}
	if _, err := b.Write(make([]byte, 1)); !errors.Is(err, errSpoolBudget) {
		t.Fatalf("unexpected error past the budget; got %v; want errSpoolBudget", err)
	}
	if got := sp.inUse.Load() - base; got != 100 {
		t.Fatalf("unexpected bytes in use; got %d; want 100", got)
	}
	a.close()
	b.close()
	if got := sp.inUse.Load() - base; got != 0 {
		t.Fatalf("unexpected bytes in use after close; got %d; want 0", got)
	}
}
