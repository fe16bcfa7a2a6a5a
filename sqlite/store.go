package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/groupcommit"
	"github.com/callbackd/callbackd/internal/storecodec"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of callbackd.Store.
type Store struct {
	path string
	w    *sql.DB // the single writer
	// prepared are the writes' statements, prepared on w.
	prepared map[string]*sql.Stmt
	r        *sql.DB // readers
	// mirror holds the bucket counters in memory.
	mirror mirror
	// commits runs every write on w, batching concurrent ones.
	commits *groupcommit.Queue[*write]
}

var _ callbackd.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	dsn := func(extra string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(ON)")
		// Erased rows are overwritten, not left in free pages (Forget-me).
		q.Add("_pragma", "secure_delete(ON)")
		q.Set("_txlock", "immediate")
		if extra != "" {
			q.Add("_pragma", extra)
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	// Savepoints journal the pages they change; in memory, not in a
	// temporary file (one write() per page otherwise).
	w, err := sql.Open("sqlite", dsn("temp_store(MEMORY)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, w: w}
	s.commits = groupcommit.New(groupcommit.Options[*write]{Workers: 1, MaxBatch: maxBatch, Run: s.runBatch})
	if err := s.migrate(ctx); err != nil {
		s.commits.Close()
		w.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.commits.Close()
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		s.commits.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)*2))
	s.r = r
	if err := s.mirror.load(ctx, w); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close runs the writes already queued, then closes both pools; SQLite
// checkpoints the WAL on the last close.
func (s *Store) Close() error {
	s.commits.Close()
	for _, st := range s.prepared {
		st.Close()
	}
	var rerr error
	if s.r != nil {
		rerr = s.r.Close()
	}
	return errors.Join(rerr, s.w.Close())
}

// Ping checks that the file is readable and the schema is current.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if want := len(migrationFiles()); v < want {
		return fmt.Errorf("sqlite: schema version %d, want %d", v, want)
	}
	return nil
}

func migrationFiles() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// migrate applies every embedded migration not yet recorded, each in its
// own transaction, so a crash mid-migration leaves the previous version.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for i, name := range migrationFiles() {
		version := i + 1
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(ctx context.Context, tx *wtx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, CAST(strftime('%s','now') AS INTEGER) * 1000)`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	}
	return nil
}

// tx is writeTx for writes that change no mirrored counter.
func (s *Store) tx(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) error {
	return s.writeTx(ctx, func(ctx context.Context, tx *wtx, _ deltas) error { return fn(ctx, tx) })
}

// translate turns driver errors into domain errors by SQLite result code,
// never by message text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %v", callbackd.ErrConflict, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			return &callbackd.Error{Code: callbackd.CodeUnavailable, Message: "The store is temporarily unavailable; retry later."}
		}
	}
	return err
}

const callbackColumns = `id, service, state, reason, customer_number, desired_time, expiration_time, session_id, submit_attempts, created_at, updated_at, properties, holds, due_at, lease_owner, lease_until`

// callbackValues are the values of callbackColumns for a record.
func callbackValues(cb *callbackd.Callback) ([]any, error) {
	props, err := storecodec.EncodeProps(cb.Properties)
	if err != nil {
		return nil, err
	}
	holds, err := storecodec.EncodeHolds(cb.Holds)
	if err != nil {
		return nil, err
	}
	return []any{cb.ID, cb.Service, string(cb.State), string(cb.Reason), cb.CustomerNumber,
		ms(cb.DesiredTime), ms(cb.ExpirationTime), cb.SessionID, cb.SubmitAttempts,
		ms(cb.CreatedAt), ms(cb.UpdatedAt), props, holds, ms(cb.DueAt), cb.LeaseOwner, ms(cb.LeaseUntil)}, nil
}

const insertCallback = `INSERT INTO callbacks (` + callbackColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

// CreateCallback implements callbackd.Store.
func (s *Store) CreateCallback(ctx context.Context, cb *callbackd.Callback, events []callbackd.Event) error {
	values, err := callbackValues(cb)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(ctx context.Context, tx *wtx, d deltas) error {
		if _, err := tx.ExecContext(ctx, insertCallback, values...); err != nil {
			return translate(err)
		}
		if err := moveHolds(ctx, tx, d, nil, cb.Holds); err != nil {
			return err
		}
		return writeSideTables(ctx, tx, cb, events)
	})
}

// countersFromDB reads a range of counters from the table.
func (s *Store) countersFromDB(ctx context.Context, from, to string) ([]callbackd.Counter, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, value FROM counters WHERE key >= ? AND key < ? ORDER BY key`, from, to)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []callbackd.Counter
	for rows.Next() {
		var c callbackd.Counter
		if err := rows.Scan(&c.Key, &c.Value); err != nil {
			return nil, translate(err)
		}
		out = append(out, c)
	}
	return out, translate(rows.Err())
}

func writeSideTables(ctx context.Context, tx *wtx, cb *callbackd.Callback, events []callbackd.Event) error {
	for k, v := range cb.Lookup {
		if v == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, insertKey, k, v, cb.ID); err != nil {
			return translate(err)
		}
	}
	for _, ev := range events {
		props, err := storecodec.EncodeProps(ev.Properties)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertEvent,
			ms(ev.Time), ev.CallbackID, ev.Service, string(ev.Type), string(ev.From), string(ev.To), string(ev.Reason), ev.Source, props, ev.Subject); err != nil {
			return translate(err)
		}
	}
	return nil
}

// GetCallback implements callbackd.Store.
func (s *Store) GetCallback(ctx context.Context, id string) (*callbackd.Callback, error) {
	return getCallback(ctx, s.r, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getCallback(ctx context.Context, q queryer, id string) (*callbackd.Callback, error) {
	cb, err := scanCallback(q.QueryRowContext(ctx, selectCallback, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, callbackd.ErrNotFound
	}
	return cb, translate(err)
}

// UpdateCallback implements callbackd.Store.
func (s *Store) UpdateCallback(ctx context.Context, id string, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) (*callbackd.Callback, error) {
	var out *callbackd.Callback
	err := s.writeTx(ctx, func(ctx context.Context, tx *wtx, d deltas) error {
		cb, err := updateInTx(ctx, tx, d, id, fn)
		out = cb
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateInTx reads, changes and writes one callback inside tx.
func updateInTx(ctx context.Context, tx *wtx, d deltas, id string, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) (*callbackd.Callback, error) {
	cb, err := getCallback(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	before := slices.Clone(cb.Holds)
	events, err := fn(cb)
	if err != nil {
		return nil, err
	}
	values, err := callbackValues(cb)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, updateCallback, append(values[1:], id)...); err != nil {
		return nil, translate(err)
	}
	if err := moveHolds(ctx, tx, d, before, cb.Holds); err != nil {
		return nil, err
	}
	return cb, writeSideTables(ctx, tx, cb, events)
}

// FindCallbacks implements callbackd.Store.
func (s *Store) FindCallbacks(ctx context.Context, q callbackd.Query) ([]*callbackd.Callback, error) {
	where, args := whereOf(q)
	limit := q.Limit
	if limit <= 0 {
		limit = callbackd.DefaultQueryLimit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+callbackColumns+` FROM callbacks`+where+` ORDER BY desired_time, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*callbackd.Callback
	for rows.Next() {
		cb, err := scanCallback(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cb)
	}
	return out, translate(rows.Err())
}

// CountCallbacks implements callbackd.Store.
func (s *Store) CountCallbacks(ctx context.Context, q callbackd.Query) (int, error) {
	where, args := whereOf(q)
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM callbacks`+where, args...).Scan(&n)
	return n, translate(err)
}

// whereOf is the WHERE clause (with its leading space, or "") of a query.
func whereOf(q callbackd.Query) (string, []any) {
	var where []string
	var args []any
	in := func(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }
	if len(q.Lookups) > 0 {
		var subs []string
		for _, g := range q.LookupGroups() {
			if g.Key == callbackd.KeyID {
				subs = append(subs, `SELECT id FROM callbacks WHERE id IN (`+in(len(g.Values))+`)`)
			} else {
				subs = append(subs, `SELECT callback_id FROM callback_keys WHERE key = ? AND value IN (`+in(len(g.Values))+`)`)
				args = append(args, g.Key)
			}
			for _, v := range g.Values {
				args = append(args, v)
			}
		}
		op := " INTERSECT "
		if q.Any {
			op = " UNION "
		}
		where = append(where, "id IN ("+strings.Join(subs, op)+")")
	}
	if q.Service != "" {
		// With lookups, the unary + keeps SQLite's planner off the service
		// index: otherwise it reads every callback of the service (seconds
		// with a million) instead of the few the key index names.
		col := "service"
		if len(q.Lookups) > 0 {
			col = "+service"
		}
		where = append(where, col+" = ?")
		args = append(args, q.Service)
	}
	if len(q.States) > 0 {
		not := ""
		if q.NotStates {
			not = "NOT "
		}
		where = append(where, "state "+not+"IN ("+in(len(q.States))+")")
		for _, st := range q.States {
			args = append(args, string(st))
		}
	}
	if len(q.Reasons) > 0 {
		where = append(where, "reason IN ("+in(len(q.Reasons))+")")
		for _, r := range q.Reasons {
			args = append(args, string(r))
		}
	}
	if !q.DesiredFrom.IsZero() {
		where = append(where, "desired_time >= ?")
		args = append(args, ms(q.DesiredFrom))
	}
	if !q.DesiredTo.IsZero() {
		where = append(where, "desired_time <= ?")
		args = append(args, ms(q.DesiredTo))
	}
	if c := q.After; c != nil {
		where = append(where, "(desired_time, id) > (?, ?)")
		args = append(args, ms(c.Desired), c.ID)
	}
	if c := q.Before; c != nil {
		where = append(where, "(desired_time, id) < (?, ?)")
		args = append(args, ms(c.Desired), c.ID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

type scanner interface{ Scan(dest ...any) error }

func scanCallback(row scanner) (*callbackd.Callback, error) {
	var cb callbackd.Callback
	var state, reason, props, holds string
	var desired, expiration, created, updated, due, leaseUntil int64
	err := row.Scan(&cb.ID, &cb.Service, &state, &reason, &cb.CustomerNumber, &desired, &expiration,
		&cb.SessionID, &cb.SubmitAttempts, &created, &updated, &props, &holds, &due, &cb.LeaseOwner, &leaseUntil)
	if err != nil {
		return nil, err
	}
	cb.State, cb.Reason = callbackd.State(state), callbackd.Reason(reason)
	cb.DesiredTime, cb.ExpirationTime = time.UnixMilli(desired).UTC(), time.UnixMilli(expiration).UTC()
	cb.CreatedAt, cb.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	cb.DueAt, cb.LeaseUntil = fromMS(due), fromMS(leaseUntil)
	if cb.Properties, err = storecodec.DecodeProps(props); err != nil {
		return nil, err
	}
	if cb.Holds, err = storecodec.DecodeHolds(holds); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", cb.ID, err)
	}
	return &cb, nil
}

// fromMS reads a stored time; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
