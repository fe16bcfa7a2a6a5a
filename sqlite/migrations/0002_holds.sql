-- Counters of holds (capacity buckets, queued callbacks per number...), kept
-- exact in the same transaction as the callbacks that hold them.
CREATE TABLE counters (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

ALTER TABLE callbacks ADD COLUMN holds TEXT NOT NULL DEFAULT '[]';
