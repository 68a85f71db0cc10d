-- Threads: a reply names its thread's root (a top-level message of the same
-- channel). Replies stay out of the channel's history and unread counts
-- unless also sent to the channel. No foreign key on `thread_root_id`: a
-- reply outlives its root's content the way any message outlives what it
-- replies to (the root becomes a tombstone, never a hole).
ALTER TABLE messages ADD COLUMN thread_root_id BIGINT;
ALTER TABLE messages ADD COLUMN also_send_to_channel BOOLEAN NOT NULL DEFAULT FALSE;
-- Thread history and resume are keyset scans on (thread_root_id, id).
CREATE INDEX messages_thread ON messages (thread_root_id, id) WHERE thread_root_id IS NOT NULL;

-- The summary a thread's root shows, kept by the writes themselves: the
-- group commit that stores replies adds them here in its transaction, a
-- delete takes its reply off in its own. `last_reply_id` is the root's id
-- while no live reply is left; it orders the list of followed threads.
CREATE TABLE thread_summaries (
    root_id       INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    channel_id    INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    reply_count   BIGINT  NOT NULL,
    last_reply_id BIGINT  NOT NULL,
    last_reply_at BIGINT
);

-- Each person's relation to a thread: whether they follow it (its root's
-- author and everyone who replies do, until they unfollow), their first
-- reply (the thread's participants, in order) and their read marker.
CREATE TABLE thread_follows (
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    root_id        INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    following      BOOLEAN NOT NULL,
    first_reply_id BIGINT,
    last_read_id   BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    PRIMARY KEY (user_id, root_id)
);
-- Participants of a page's roots.
CREATE INDEX thread_follows_root ON thread_follows (root_id, first_reply_id);
