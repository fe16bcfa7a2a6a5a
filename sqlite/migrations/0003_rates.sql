-- Uses of sliding-window limits (throttles): one row per accepted use,
-- pruned as the window slides.
CREATE TABLE rate_uses (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);

CREATE INDEX rate_uses_key_at ON rate_uses (key, at);
