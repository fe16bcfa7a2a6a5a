-- Event numbers in commit order. seq was drawn from an identity sequence at
-- INSERT, so with writers on several connections a smaller number could
-- commit after a larger one, and a reader tailing the log past the larger
-- one skipped it. Numbers now come from this one row, updated by the last
-- statement of every transaction that writes events (see insertEvents).
-- Every node must run a binary with this migration: an older one inserts
-- events without seq, which now fails.
CREATE TABLE event_cursor (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);

INSERT INTO event_cursor (id, last) SELECT 1, COALESCE(MAX(seq), 0) FROM events;

ALTER TABLE events ALTER COLUMN seq DROP IDENTITY;
