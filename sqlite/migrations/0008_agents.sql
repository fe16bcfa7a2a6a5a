-- Agents' live states (callbackd.AgentStore), so that a restarted node
-- knows who is logged in, who is ready and who holds which callback. One
-- row per agent that ever logged in, replaced whole by PutAgents. Times
-- are unix milliseconds, UTC, with 0 for the zero time, as in callbacks.
-- callback is a callback id but no foreign key: a purged or forgotten
-- callback must not take the agent's row with it.
CREATE TABLE agents (
    name       TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    since      INTEGER NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL DEFAULT '',
    callback   TEXT NOT NULL DEFAULT '',
    idle_since INTEGER NOT NULL DEFAULT 0,
    seen_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
