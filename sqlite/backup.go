package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the callbackd database at path to
// dest, a file that must not exist, while the service keeps running.
//
// It opens a connection of its own (the service may be another process)
// and runs VACUUM INTO, which copies the database as of one read
// transaction: in WAL mode that reader and the service's writer do not
// block each other, so the copy holds exactly the transactions committed
// before it started (every callback acknowledged by then, since a 200 is
// sent only after COMMIT), and none of those after. The WAL cannot be
// checkpointed past that snapshot while the copy runs, so it grows for
// that long. The copy is written under a temporary name, fsynced (VACUUM
// INTO does not sync) and checked with PRAGMA quick_check before it takes
// its name, so dest is either a complete, checked copy or absent.
//
// Backup never creates or migrates a database: a newer callbackd must not
// upgrade the schema under an older running one.
func Backup(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists; name a new file", dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("mode", "rw") // never create the source
	src, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer src.Close()
	var version int
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("sqlite: backup: %s is not a callbackd database: %w", path, err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.partial")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath) // after a successful link, only the temporary name goes
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return fmt.Errorf("sqlite: backup: %w", translate(err))
	}
	if err := syncFile(tmpPath); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := quickCheck(ctx, tmpPath); err != nil {
		return fmt.Errorf("sqlite: backup: the copy does not check out: %w", err)
	}
	// A link, unlike a rename, never replaces a file that appeared at dest
	// meanwhile.
	if err := os.Link(tmpPath, dest); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return syncFile(filepath.Dir(dest))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// quickCheck runs SQLite's PRAGMA quick_check on a closed database file.
func quickCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New(res)
	}
	return nil
}
