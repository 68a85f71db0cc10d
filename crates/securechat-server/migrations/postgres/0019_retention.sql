-- Retention: how long a room keeps its messages, and disappearing messages
-- per channel (see src/retention/).
--
-- `rooms.retention_days`: NULL keeps messages forever; otherwise the purge
-- job deletes messages older than that many days, with their files,
-- reactions, pins, saved rows and search-index rows.
ALTER TABLE rooms ADD COLUMN retention_days BIGINT;

-- `channels.disappearing_seconds`: NULL is off; otherwise each message
-- stored while it is set expires that many seconds after it was sent. For
-- an encrypted channel the members' authoritative copy is an entry of the
-- signed membership log; this is the server's own copy.
ALTER TABLE channels ADD COLUMN disappearing_seconds BIGINT;

-- When a message disappears (ms since the epoch), fixed by the insert from
-- its channel's timer; NULL for messages that never do. Reads hide it from
-- that moment on; the purge job deletes it soon after.
ALTER TABLE messages ADD COLUMN expires_at BIGINT;
CREATE INDEX messages_expiring ON messages (expires_at) WHERE expires_at IS NOT NULL;
