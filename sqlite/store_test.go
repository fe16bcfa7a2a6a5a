package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/sqlite"
	"github.com/callbackd/callbackd/storetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) callbackd.Store {
		return open(t, filepath.Join(t.TempDir(), "test.db"))
	})
}

func TestStoreSuiteReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) (callbackd.Store, func(t *testing.T) callbackd.Store) {
		path := filepath.Join(t.TempDir(), "reopen.db")
		return open(t, path), func(t *testing.T) callbackd.Store { return open(t, path) }
	})
}

// TestReopenKeepsData checks that a closed and reopened file has every
// record, and that migrations are not applied twice.
func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reopen.db")
	s := open(t, path)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cb := &callbackd.Callback{ID: "r1", Service: "svc", State: callbackd.StateScheduled, DesiredTime: now, ExpirationTime: now, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCallback(context.Background(), cb, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping after reopen: %v", err)
	}
	if _, err := s.GetCallback(context.Background(), "r1"); err != nil {
		t.Fatalf("record lost across reopen: %v", err)
	}
}

func TestOpenRefusesEmptyPath(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), ""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}
