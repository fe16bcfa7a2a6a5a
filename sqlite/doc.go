// Package sqlite is callbackd's embedded store: one SQLite file, through
// the pure-Go modernc.org/sqlite driver (no cgo, so the binary stays
// static).
//
// Durability: the database runs in WAL mode with synchronous=FULL, so a
// COMMIT returns only after the WAL is fsynced; a 200 is sent only after
// the COMMIT. A crash at any instant loses nothing that was acknowledged.
//
// Concurrency: SQLite allows one writer at a time. Instead of letting
// connections fight over the write lock (SQLITE_BUSY and retries), all
// writes go through one connection (MaxOpenConns=1) whose transactions
// start with BEGIN IMMEDIATE; reads use a separate pool of read-only
// connections, which WAL lets run beside the writer.
//
// Group commit: a disk takes about a thousand fsyncs a second, so one
// transaction per write would cap the store there. Writes are queued
// (internal/groupcommit) and one goroutine runs everything that waits, up
// to maxBatch writes, in one transaction: each write in its own SAVEPOINT,
// so that its error (a full counter, a duplicate id, the caller's fn
// refusing) rolls back that write alone and reaches that caller alone; one
// COMMIT, one fsync; then every caller is answered. A write later in a
// batch sees the earlier ones' changes (one connection, one transaction),
// so limits stay exact. A lone write commits at once: batches come only
// from writes that arrive while a commit is in flight. A caller whose
// context ends while its write waits gets ctx.Err() and the write is never
// run; once taken, a write's statements run to the end (its caller's
// cancellation does not reach a transaction others share). Close runs the
// writes already queued before closing the file.
//
// Times are stored as UTC unix milliseconds, the API's precision.
//
// Agents (callbackd.AgentStore): the agents table holds one row per agent,
// replaced whole by PutAgents. A call is one write of the group commit,
// all its upserts in its transaction (and savepoint), so its agents are
// written all or none and are durable when it returns; the single writer
// orders concurrent calls. Unset times are stored as 0 and read back as
// the zero time. The callback column names a callback without a foreign
// key, so purging or forgetting a callback leaves the agent's row alone.
package sqlite
