-- Agents' live states (callbackd.AgentStore), so that the node that runs
-- the engine, or takes it over, knows who is logged in, who is ready and
-- who holds which callback. Mirrors sqlite 0008. Times are BIGINT unix
-- milliseconds, UTC, with 0 for the zero time, as in callbacks; the name
-- uses the "C" collation so that ListAgents orders by bytes, as SQLite
-- does. callback is a callback id but no foreign key: a purged or
-- forgotten callback must not take the agent's row with it.
CREATE TABLE agents (
    name       TEXT COLLATE "C" PRIMARY KEY,
    state      TEXT NOT NULL,
    since      BIGINT NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL DEFAULT '',
    callback   TEXT COLLATE "C" NOT NULL DEFAULT '',
    idle_since BIGINT NOT NULL DEFAULT 0,
    seen_at    BIGINT NOT NULL DEFAULT 0
);
