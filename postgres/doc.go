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
// # Group commit and locking
//
// A disk takes about a thousand fsyncs a second. CreateCallback,
// UpdateCallback and AppendEvents therefore queue their writes
// (internal/groupcommit), and two committers, each on its own pool
// connection, take everything pending (at most 48 writes: a batch that
// runs again with savepoints runs each in a subtransaction, and past 64
// PostgreSQL's per-backend subtransaction cache overflows, which slows
// every other backend's snapshots) and run it as one READ COMMITTED
// transaction with one COMMIT (see commit.go), in two or three round trips
// whatever its size. A batch first runs without savepoints, its records
// and lookup keys written set-based (one INSERT or UPDATE per table from
// arrays, see batch_rows.go); if one of its writes fails, it is rolled
// back and runs again with each write in its own SAVEPOINT and a
// statement per record, so that the error (a full counter, a duplicate id, a NUL
// byte, its fn refusing) rolls back that write alone and reaches its
// caller alone; the others commit. A full counter or an existing id is seen as a statement
// that returns no row, not as a server error, so the transaction and pgx's
// prepared statements stay usable. Nobody is answered before the
// COMMIT is durable, and a failed COMMIT fails every write of the batch. A
// lone write commits at once; batches grow from the writes that arrive
// while the committers are busy. ClaimDue (a batch already),
// PurgeCompleted, PruneRateUses, SetCounter and migrations keep their own
// transactions.
//
// Deadlocks: every transaction takes its row locks in one global order,
// callback rows (by id), then counter rows (by key bytes), then the event
// cursor row; with one order there is no cycle between any number of
// transactions and nodes. Batching multiplies the locks of a transaction,
// so a batch does not take them write by write (write A's counter "b",
// then write B's counter "a" would cross another batch taking "a" then
// "b"): it first locks the records it updates with one SELECT ... ORDER
// BY id FOR UPDATE, runs the updates' fns, then locks every counter any of
// its writes touches with one upsert in key order (lockCounters), and
// only then runs the writes, which find their locks held. A batch holds
// at most one write per callback id, so each fn sees the latest record.
// ClaimDue takes its rows with SKIP LOCKED (it never waits for a row) and
// its counters in the same sorted step. The one exception is the INSERT
// of a new callback, which comes after the counters; a new row can only
// be waited for by a create with the same id, which ids made of UUIDs
// never are. TestNoDeadlocksBetweenBatches runs batches of creates and
// updates whose counters cross in every order on three nodes and requires
// zero deadlocks; with the counters locked write by write instead, it
// measured 1 to 8 deadlocks per run (each costing deadlock_timeout, 1 s).
// BenchmarkCreateConcurrent reports the batches run again: 0. A deadlock
// or serialization failure would re-run the whole batch, each update's fn
// again on a freshly read record.
//
// What batching serialises: counters are row locks held to COMMIT, so
// batches touching the same counter (a busy slot, a service's throttle
// windows) commit one after the other, and every transaction that writes
// events commits one after the other behind the event cursor (below).
// Two committers let one batch prepare while the other waits for its
// fsync; more would only queue on those locks.
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
// The transaction first locks every counter row it will touch, creating
// missing ones at 0 (lockCounters, in key order); a hold is then taken with
// one conditional UPDATE ... WHERE value < limit RETURNING value: the row
// lock, granted once any concurrent holder has committed, and READ
// COMMITTED's fresh snapshot per statement make check and increment one
// step across nodes, without SERIALIZABLE. No row back means the counter
// is full: the store returns *callbackd.LimitError and the write is rolled
// back (the batch runs again with savepoints). A limit <= 0 means
// unlimited. Counters that drop to zero stay as rows, but for the lock
// rows of rate holds, which PruneRateUses deletes with their old uses.
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
// Event seq numbers follow commit order, so a reader tailing the log with
// AfterSeq = the last seq it saw (GET /1/events, the SSE stream) never
// skips an event. They are not drawn at INSERT (as from the identity
// column of schema versions 1-5: a smaller number could then commit after
// a larger one, and a tailing reader skipped it) but from the one row of
// event_cursor, by the last statement before COMMIT, which inserts the
// events of the whole batch (insertEvents). A transaction gets its numbers
// only once every transaction that got smaller ones has committed or
// rolled back, and PostgreSQL makes a transaction visible before it
// releases its locks: a snapshot that shows seq n shows every committed
// event below n. The price is that event-writing transactions commit one
// at a time, which group commit makes one lock per batch rather than per
// event (TestEventSeqFollowsCommitOrder; it fails with the old numbering).
// Upgrading to schema 6 needs every node on the new binary: an older one
// inserts events without seq, which schema 6 refuses.
//
// # Agents
//
// The agents table (callbackd.AgentStore, schema 11) holds one row per
// agent. PutAgents does not join the group commit, built for callbacks'
// records, holds and events: it is one INSERT ... SELECT FROM unnest(...)
// ON CONFLICT DO UPDATE, its own transaction, with the agents sorted by
// name (the last state of a name given twice), so that calls on any
// nodes lock the rows they share in one order and never deadlock
// (TestCrossedAgentsAcrossNodes). The table touches no other table, so
// this order needs no place in the global one above. Times are BIGINT
// milliseconds like the callbacks', 0 for the zero time; names use the
// "C" collation, so ListAgents orders by bytes, as on SQLite.
package postgres
