package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/groupcommit"
)

// Store is the PostgreSQL implementation of callbackd.Store. Several
// callbackd nodes may each hold one on the same database: every invariant
// (one writer per callback at a time, exact counters) is kept by the
// database's row locks, not by the process.
type Store struct {
	pool *pgxpool.Pool
	// retried counts operations run again after a serialization failure,
	// a deadlock or a connection that failed before use. The lock order
	// should keep it at zero under READ COMMITTED; the tests check that.
	retried atomic.Int64
	// commits batches the writes of CreateCallback, UpdateCallback and
	// AppendEvents (group commit).
	commits *groupcommit.Queue[*op]
}

var _ callbackd.Store = (*Store)(nil)

// durableSyncCommit lists the synchronous_commit settings under which a
// COMMIT returns only once the WAL is flushed on the primary's disk. "off"
// is the only other value, and it can lose acknowledged callbacks.
var durableSyncCommit = map[string]bool{"on": true, "local": true, "remote_write": true, "remote_apply": true}

// Open connects to the database at url (a postgres:// URL or a keyword/value
// string; parameters such as search_path are sent to the server for every
// connection) and applies pending migrations.
//
// The pool holds max(4, 2×GOMAXPROCS) connections unless the URL sets
// pool_max_conns: a transaction holds its connection until its COMMIT is on
// disk, so a few more connections than cores let commits share fsyncs,
// while several nodes stay well under the server's max_connections.
//
// Every connection runs with synchronous_commit=on, sent at startup so
// that neither a server, database or role default nor an "options"
// parameter can lower it; a URL that asks for synchronous_commit=off is
// refused rather than silently losing durability.
func Open(ctx context.Context, url string) (*Store, error) {
	if url == "" {
		return nil, errors.New("postgres: empty database URL")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // ParseConfigError masks the password
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	params := cfg.ConnConfig.RuntimeParams
	if v, ok := params["synchronous_commit"]; !ok {
		params["synchronous_commit"] = "on"
	} else if !durableSyncCommit[strings.ToLower(v)] {
		return nil, fmt.Errorf("postgres: synchronous_commit=%s would acknowledge commits that are not on disk; use on", v)
	}
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = "callbackd"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	s.startCommitters()
	return s, nil
}

// Close runs the writes already queued, waits for the connections in use
// to be released, so that a transaction in flight finishes, then closes
// them all. Calling it again does nothing.
func (s *Store) Close() error {
	s.commits.Close()
	s.pool.Close()
	return nil
}

// Ping checks that the database answers and that its schema is at least as
// new as this binary's migrations. A newer schema is accepted, so that
// nodes can be upgraded one at a time.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	})
	if err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	if want := len(migrationFiles()); v < want {
		return fmt.Errorf("postgres: schema version %d, want %d", v, want)
	}
	return nil
}
