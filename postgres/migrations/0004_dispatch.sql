-- When each callback is next due for submission, and the dispatcher lease
-- that protects an attempt in progress.
ALTER TABLE callbacks ADD COLUMN due_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE callbacks ADD COLUMN lease_owner TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE callbacks ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;

CREATE INDEX callbacks_due ON callbacks (due_at) WHERE due_at > 0;
