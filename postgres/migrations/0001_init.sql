-- Callbacks: typed columns for what callbackd queries on, JSON for the rest.
-- Mirrors sqlite/migrations/0001_init.sql. Identifiers and keys use the "C"
-- collation so that ORDER BY and key ranges compare bytes, as SQLite's
-- BINARY collation and Go's string comparison do, whatever the database's
-- default locale. JSON is kept as TEXT, not JSONB: JSONB rejects the
-- \u0000 escape that encoding/json writes for a NUL in a property, and
-- TEXT keeps what was written byte for byte, like the SQLite store.
CREATE TABLE callbacks (
    id              TEXT COLLATE "C" PRIMARY KEY,
    service         TEXT COLLATE "C" NOT NULL,
    state           TEXT COLLATE "C" NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    customer_number TEXT NOT NULL DEFAULT '',
    desired_time    BIGINT NOT NULL, -- unix milliseconds, UTC
    expiration_time BIGINT NOT NULL,
    session_id      TEXT NOT NULL DEFAULT '',
    submit_attempts INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    properties      TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX callbacks_service_state_desired ON callbacks (service, state, desired_time);
CREATE INDEX callbacks_state_desired ON callbacks (state, desired_time);

-- Every value a lookup key ever had, so a query finds callbacks whose
-- property "is or was" equal to the value (spec 001).
CREATE TABLE callback_keys (
    key         TEXT COLLATE "C" NOT NULL,
    value       TEXT COLLATE "C" NOT NULL,
    callback_id TEXT COLLATE "C" NOT NULL REFERENCES callbacks (id) ON DELETE CASCADE,
    PRIMARY KEY (key, value, callback_id)
);

CREATE INDEX callback_keys_callback ON callback_keys (callback_id);

-- The history of every callback, for reporting. seq is allocated at INSERT,
-- not at COMMIT: see the package documentation.
CREATE TABLE events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time        BIGINT NOT NULL,
    callback_id TEXT COLLATE "C" NOT NULL,
    service     TEXT NOT NULL,
    type        TEXT NOT NULL,
    from_state  TEXT NOT NULL DEFAULT '',
    to_state    TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    properties  TEXT NOT NULL DEFAULT '{}'
);

-- (callback_id, seq) rather than SQLite's (callback_id): ListEvents for one
-- callback filters on seq and orders by it.
CREATE INDEX events_callback ON events (callback_id, seq);
