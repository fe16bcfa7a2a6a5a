-- Forget-me: who an event without a stored callback is about (a refused
-- request's normalised customer number), so that it can be erased.
ALTER TABLE events ADD COLUMN subject TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX events_subject ON events (subject) WHERE subject <> '';
