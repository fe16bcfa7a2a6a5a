package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/sqlite"
)

// TestBackupWhileWriting takes a backup while a writer keeps adding
// callbacks: the copy passes integrity_check and holds every callback
// whose CreateCallback returned before the backup started, with its
// event (one transaction, copied whole).
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	// The writer signals after 200 acknowledged callbacks, and stops 50
	// callbacks after the backup returned: the copy runs while it writes.
	var mu sync.Mutex
	var acked []string
	ready, backedUp := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		after := -1
		for i := 0; after < 50; i++ {
			cb := &callbackd.Callback{ID: fmt.Sprintf("cb-%06d", i), Service: "svc", State: callbackd.StateScheduled,
				DesiredTime: now, ExpirationTime: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
				Properties: map[string]string{"n": fmt.Sprint(i)}, Lookup: map[string]string{callbackd.KeyCustomerNumber: fmt.Sprint(i)}}
			if err := s.CreateCallback(ctx, cb, []callbackd.Event{cb.Accepted(now, "test")}); err != nil {
				t.Error(err)
				close(ready)
				return
			}
			mu.Lock()
			acked = append(acked, cb.ID)
			mu.Unlock()
			if i == 199 {
				close(ready)
			}
			select {
			case <-backedUp:
				after++
			default:
			}
		}
	})
	<-ready
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	dest := filepath.Join(dir, "copy.db")
	err := sqlite.Backup(ctx, path, dest)
	close(backedUp)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var n, orphans int
	if err := db.QueryRow(`SELECT COUNT(*) FROM callbacks`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM callbacks c WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.callback_id = c.id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d callbacks in the copy without their accepted event: not one snapshot", orphans)
	}
	missing := 0
	for _, id := range before {
		var one int
		if err := db.QueryRow(`SELECT 1 FROM callbacks WHERE id = ?`, id).Scan(&one); err != nil {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d callbacks acknowledged before the backup are missing from it", missing, len(before))
	}
	t.Logf("%d acknowledged before the backup, %d in the copy, %d written in all", len(before), n, len(acked))

	// The copy is a working store.
	db.Close()
	restored := open(t, dest)
	defer restored.Close()
	if _, err := restored.GetCallback(ctx, before[len(before)-1]); err != nil {
		t.Fatalf("the restored copy does not serve: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*partial*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestBackupRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	open(t, path).Close()
	ctx := context.Background()
	exists := filepath.Join(dir, "exists.db")
	if err := os.WriteFile(exists, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Backup(ctx, path, exists); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(exists); string(b) != "keep me" {
		t.Errorf("existing file overwritten")
	}
	missing := filepath.Join(dir, "missing.db")
	if err := sqlite.Backup(ctx, missing, filepath.Join(dir, "c1.db")); err == nil {
		t.Error("backup of a missing database succeeded")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("backup created the missing source database")
	}
	other := filepath.Join(dir, "other.db")
	db, _ := sql.Open("sqlite", "file:"+other)
	if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := sqlite.Backup(ctx, other, filepath.Join(dir, "c2.db")); err == nil || !strings.Contains(err.Error(), "not a callbackd database") {
		t.Errorf("backup of a foreign database: %v", err)
	}
}
