package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the pg_advisory_xact_lock key under which migrations
// run: "callback" in ASCII. Advisory locks are per database, not per
// schema: stores in different schemas of one database wait for each
// other's migrations, which costs only time.
const migrationLock int64 = 0x63616c6c6261636b

// migrationFiles are the embedded migrations in the order they apply;
// version n is the n-th file, as in the sqlite store.
func migrationFiles() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// migrate applies every embedded migration not yet recorded, all in one
// transaction that first takes the migration lock. Nodes starting at the
// same time queue on the lock; each one, once it holds it, reads
// schema_migrations afresh (READ COMMITTED takes a new snapshot per
// statement) and finds the work done. PostgreSQL's DDL is transactional,
// so a crash mid-migration leaves the previous schema, never half of one.
func (s *Store) migrate(ctx context.Context) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		// Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS
		// can both miss the table and then collide in the catalog.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		applied := map[int]bool{}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return err
			}
			applied[v] = true
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for i, name := range migrationFiles() {
			version := i + 1
			if applied[version] {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			// No arguments: pgx sends it over the simple protocol, which
			// accepts several statements in one string.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT)`, version); err != nil {
				return err
			}
		}
		return nil
	})
}
