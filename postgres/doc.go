// Package postgres is callbackd's store for several nodes: every node opens
// a Store on the same PostgreSQL database (through github.com/jackc/pgx/v5
// and its pgxpool), and the database alone keeps the invariants, so nodes
// need not know about each other. It mirrors the sqlite store's behaviour
// and passes the same storetest suite.
//
// # Durability
//
// Every connection starts with synchronous_commit=on, so a COMMIT returns
// only once its WAL record is flushed; a 200 is sent only after the
// COMMIT. The setting is sent in the startup packet, which beats server,
// database and role defaults; a URL asking for synchronous_commit=off makes
// Open fail. A connection lost after COMMIT was sent leaves the outcome
// unknown: the store answers SERVICE_UNAVAILABLE and does not retry (a
// retried create could report a conflict with itself).
//
// # Locking
//
// Transactions run at READ COMMITTED, whatever the database default.
// UpdateCallback reads the record with SELECT ... FOR UPDATE, so updates of
// one callback from any node queue on its row lock and fn always sees the
// latest record. A transaction locks at most one callback row, first (the
// INSERT of a new one, or the FOR UPDATE), and then counter rows in
// ascending byte order of their keys; with one global order there is no
// cycle, hence no deadlock, between any number of nodes.
//
// # Time and nodes
//
// Nodes decide what is due and when a lease ends with one clock, the
// server's: Clock samples clock_timestamp() and runs it on the node's
// monotonic clock between samples, so a node whose wall clock is off
// neither dispatches early nor takes a live lease as expired. Times are
// still passed into SQL as parameters (from that clock), so tests drive
// the store with a ManualClock. Nodes heartbeat into the nodes table
// (Heartbeat, Leave) with the fingerprint of their configuration; nothing
// else depends on it. See docs/multinode.md.
//
// # Holds
//
// A hold is taken with one conditional upsert (INSERT ... ON CONFLICT DO
// UPDATE ... WHERE value < limit RETURNING value): the row lock and READ
// COMMITTED's re-check on the latest committed value make check and
// increment one step across nodes, without SERIALIZABLE. No row back means
// the counter is full: the store returns *callbackd.LimitError and the
// whole write is rolled back. A limit <= 0 means unlimited. Counters that
// drop to zero stay as rows.
//
// # Migrations
//
// The embedded migrations/*.sql (version n = n-th file, as in sqlite) are
// applied by Open in one transaction that first takes
// pg_advisory_xact_lock(migrationLock). Nodes starting together queue on the
// lock, and each re-reads schema_migrations once it holds it, so every
// version is applied exactly once; DDL is transactional, so a failure
// leaves the previous schema. The lock is per database: stores in several
// schemas of one database (the tests) merely wait for each other. The
// schema is the first entry of search_path, which a URL may set
// (…?search_path=callbackd). Ping accepts a schema newer than the binary,
// so that nodes can be upgraded one by one.
//
// # Errors
//
// Driver errors are translated by SQLSTATE (pgconn.PgError.Code), never by
// message text: 23505 is callbackd.ErrConflict; lost connections, 08xxx,
// 53xxx (53300 too many connections), 57P01-57P03 shutdowns, 25006 (a
// standby after failover) and timeouts are SERVICE_UNAVAILABLE, wrapped
// with their cause for the log; 40001 and 40P01, and driver errors that
// happened before anything was sent, make the whole transaction run again,
// up to 5 times with jittered backoff, then SERVICE_UNAVAILABLE. fn given
// to UpdateCallback may thus run more than once, each time on a freshly
// read record; its own errors are returned as is.
//
// # Data
//
// Times are bigint UTC unix milliseconds, as in sqlite. Ids and keys use
// the "C" collation, so ordering and Counters' ranges compare bytes like
// SQLite and Go do, whatever the database locale. Properties and holds are
// JSON in TEXT columns, not JSONB: JSONB refuses the \u0000 that
// encoding/json writes for a NUL, and TEXT keeps bytes as written.
// PostgreSQL text cannot hold NUL or invalid UTF-8 at all: such a value in
// a typed field or lookup is answered BAD_PARAMETER (SQLite would store
// it); Counters rewrites a NUL in its bounds exactly, since no key has one.
//
// # Events
//
// Event seq numbers come from an identity column, allocated at INSERT, not
// at COMMIT. With writers on many connections, an event with a smaller seq
// may commit after one with a larger seq, so a reader that tails the log
// with AfterSeq = last seq seen can skip it. The SQLite store, with its
// single writer, cannot. A tailing consumer should re-read a margin behind
// its last seq (or wait for older transactions, pg_snapshot_xmin) until
// the interface offers a commit-ordered cursor.
package postgres
