-- Expiry of unfinished callbacks and purging of finished ones.
CREATE INDEX callbacks_expiring ON callbacks (expiration_time) WHERE state <> 'COMPLETED' AND session_id = '';
CREATE INDEX callbacks_finished ON callbacks (updated_at) WHERE state = 'COMPLETED';
