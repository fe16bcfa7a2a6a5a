-- Callbacks: typed columns for what callbackd queries on, JSON for the rest.
CREATE TABLE callbacks (
    id              TEXT PRIMARY KEY,
    service         TEXT NOT NULL,
    state           TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    customer_number TEXT NOT NULL DEFAULT '',
    desired_time    INTEGER NOT NULL, -- unix milliseconds, UTC
    expiration_time INTEGER NOT NULL,
    session_id      TEXT NOT NULL DEFAULT '',
    submit_attempts INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    properties      TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;

CREATE INDEX callbacks_service_state_desired ON callbacks (service, state, desired_time);
CREATE INDEX callbacks_state_desired ON callbacks (state, desired_time);

-- Every value a lookup key ever had, so a query finds callbacks whose
-- property "is or was" equal to the value (spec 001).
CREATE TABLE callback_keys (
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    callback_id TEXT NOT NULL REFERENCES callbacks (id) ON DELETE CASCADE,
    PRIMARY KEY (key, value, callback_id)
) WITHOUT ROWID;

CREATE INDEX callback_keys_callback ON callback_keys (callback_id);

-- The history of every callback, for reporting.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    time        INTEGER NOT NULL,
    callback_id TEXT NOT NULL,
    service     TEXT NOT NULL,
    type        TEXT NOT NULL,
    from_state  TEXT NOT NULL DEFAULT '',
    to_state    TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    properties  TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX events_callback ON events (callback_id);
