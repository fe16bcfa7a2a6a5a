-- The nodes sharing this database, as their heartbeats report them: which
-- configuration (fingerprint) each runs and when it was last seen. Only
-- for operators and for the nodes' disagreement warning: no invariant
-- depends on it (leases carry their owner and expiry on the callbacks).
CREATE TABLE nodes (
    id         TEXT COLLATE "C" PRIMARY KEY,
    addr       TEXT NOT NULL DEFAULT '',
    config     TEXT NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL, -- unix milliseconds, UTC
    seen_at    BIGINT NOT NULL
);
