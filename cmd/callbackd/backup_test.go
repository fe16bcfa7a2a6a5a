package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/callbackd/callbackd/sqlite"
)

// TestBackupWhileServing runs "callbackd backup" while another process,
// callbackd serve, is answering Start requests: the copy passes
// integrity_check and holds every callback answered 200 before the backup
// started.
func TestBackupWhileServing(t *testing.T) {
	cfg, db := writeConfig(t, testConfig)
	c := startChild(t, cfg, db)
	var mu sync.Mutex
	var acked []string
	ready, backedUp := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			after := 0
			for i := 0; after < 20; i++ {
				status, id, err := c.post("cb", fmt.Sprintf(`{"_customer_number":"555%d%06d"}`, w, i))
				if err != nil || status != 200 {
					t.Errorf("start: %d %s %v", status, id, err)
					once.Do(func() { close(ready) })
					return
				}
				mu.Lock()
				acked = append(acked, id)
				if len(acked) == 200 {
					once.Do(func() { close(ready) })
				}
				mu.Unlock()
				select {
				case <-backedUp:
					after++
				default:
				}
			}
		})
	}
	<-ready
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	dest := filepath.Join(t.TempDir(), "copy.db")
	var out, errOut bytes.Buffer
	code := run([]string{"backup", "-config", cfg, "-store", "sqlite:" + db, dest}, &out, &errOut)
	close(backedUp)
	wg.Wait()
	if code != 0 || !strings.Contains(out.String(), dest+" written") {
		t.Fatalf("backup: exit %d, out %q, err %q", code, out.String(), errOut.String())
	}

	copyDB, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var check string
	if err := copyDB.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	missing := 0
	for _, id := range before {
		var one int
		if copyDB.QueryRow(`SELECT 1 FROM callbacks WHERE id = ?`, id).Scan(&one) != nil {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d callbacks acknowledged before the backup are missing from it", missing, len(before))
	}
	var n int
	_ = copyDB.QueryRow(`SELECT COUNT(*) FROM callbacks`).Scan(&n)
	t.Logf("%d acknowledged before the backup, %d in the copy, %d in all", len(before), n, len(acked))
}

func TestBackupRefusals(t *testing.T) {
	cfg, db := writeConfig(t, testConfig)
	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"Postgres", []string{"backup", "-config", cfg, "-store", "postgres://postgres@127.0.0.1:5432/test", "x.db"}, 1, "pg_dump"},
		{"NoFile", []string{"backup", "-config", cfg}, 2, "usage: callbackd backup"},
		{"MissingStore", []string{"backup", "-config", cfg, "-store", "sqlite:" + filepath.Join(t.TempDir(), "none.db"), "x.db"}, 1, "no such file"},
		{"DestinationExists", []string{"backup", "-config", cfg, "-store", "sqlite:" + db, cfg}, 1, "exists; name a new file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, c.code, errOut.String(), c.want)
			}
		})
	}
}
