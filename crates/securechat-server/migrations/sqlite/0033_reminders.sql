-- Reminders (`reminders/`, the composer's `/remind`): when to remind whom
-- of which channel, with a note only in plaintext channels (in an
-- encrypted one the server keeps no text the person typed). `fired_at` is
-- set by the node that delivers it, in the same statement that finds it
-- due, so that one node delivers each reminder once.
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id  BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    note        TEXT,
    due_at      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    fired_at    BIGINT
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE fired_at IS NULL;
CREATE INDEX reminders_user ON reminders (user_id, due_at);
