-- The node that runs the built-in engine (callbackd.EngineElector), so
-- that the other nodes know where to forward the agent API. The election
-- itself is a session advisory lock held by the leader's connection: it
-- ends with the connection, so a node that dies frees it at once.
CREATE TABLE engine_leader (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    node  TEXT NOT NULL,
    addr  TEXT NOT NULL,
    since BIGINT NOT NULL
);
