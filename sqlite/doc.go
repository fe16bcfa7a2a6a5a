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
// Times are stored as UTC unix milliseconds, the API's precision.
package sqlite
