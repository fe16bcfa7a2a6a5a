package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestDurabilityPragmas checks what a SIGKILL test cannot see: that commits
// are fsynced (synchronous=FULL) in WAL mode, on the writer connection.
func TestDurabilityPragmas(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	var sync int
	if err := s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := s.w.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	var fk int
	if err := s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if _, err := s.r.Exec(`CREATE TABLE nope (x)`); err == nil {
		t.Fatal("the read pool accepted a write")
	}
}
