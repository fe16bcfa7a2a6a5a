package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/callbackd/callbackd/sqlite"
)

// ErrBackupPostgres is the answer of Backup for a PostgreSQL store, whose
// backups belong to PostgreSQL's own tools: they copy a live database
// consistently, and point-in-time recovery needs the server's WAL archive.
var ErrBackupPostgres = errors.New("backup: the store is PostgreSQL; back it up with PostgreSQL's tools, e.g. pg_dump -Fc -f callbackd.dump 'postgres://…' (restore with pg_restore), or continuous WAL archiving for point-in-time recovery")

// Backup writes a consistent copy of the store a URL names to dest, while
// a callbackd process may be serving from it (sqlite.Backup).
func Backup(ctx context.Context, storeURL, dest string) error {
	switch {
	case strings.HasPrefix(storeURL, "sqlite:"):
		return sqlite.Backup(ctx, strings.TrimPrefix(strings.TrimPrefix(storeURL, "sqlite:"), "//"), dest)
	case strings.HasPrefix(storeURL, "postgres://"), strings.HasPrefix(storeURL, "postgresql://"):
		return ErrBackupPostgres
	}
	return fmt.Errorf("backup: unsupported store url %q: use sqlite:PATH", redactURL(storeURL))
}
