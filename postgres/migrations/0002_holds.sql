-- Counters of holds (capacity buckets, queued callbacks per number...), kept
-- exact in the same transaction as the callbacks that hold them. Mirrors
-- sqlite/migrations/0002_holds.sql; the "C" collation makes Counters' key
-- ranges byte-wise.
CREATE TABLE counters (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);

ALTER TABLE callbacks ADD COLUMN holds TEXT NOT NULL DEFAULT '[]';
