-- Incoming webhooks: a URL per plaintext channel whose holder posts
-- messages to it. The URL's secret is stored only as a keyed hash (as
-- session tokens are). A webhook posts as the person who made it, so the
-- group-commit insert's membership rule holds for its messages too: when
-- its maker leaves the room, it stops working.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    creator_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    secret_hash     BLOB    NOT NULL UNIQUE,
    -- The poster may name itself (`username`) and its icon (`icon_url`).
    allow_overrides BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX webhooks_channel ON webhooks (channel_id, id);

-- A message posted through a webhook: which one, and the name and icon it
-- showed (kept on the message, so it reads the same after the webhook is
-- renamed or deleted; no foreign key, as for `thread_root_id`).
ALTER TABLE messages ADD COLUMN webhook_id BIGINT;
ALTER TABLE messages ADD COLUMN webhook_name TEXT;
ALTER TABLE messages ADD COLUMN webhook_icon TEXT;

-- Outgoing webhooks: a URL a channel's new messages (or those holding one
-- of its keywords) are POSTed to, signed with HMAC-SHA256 under a secret
-- derived from `SECRET_KEY` and `secret_salt` (so the database alone does
-- not hold it). `last_message_id` is how far into its channel's messages
-- the webhook has looked: ids grow in commit order within a channel, so
-- every message after it is yet to be considered, across restarts and
-- nodes.
CREATE TABLE outgoing_webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    creator_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    -- A JSON array of lower-cased keywords; empty: every message.
    keywords        TEXT    NOT NULL,
    secret_salt     BLOB    NOT NULL,
    last_message_id BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX outgoing_webhooks_channel ON outgoing_webhooks (channel_id, id);

-- The durable queue of deliveries and their log: `due_at` is when a sender
-- may next claim one (NULL once delivered or given up).
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  INTEGER NOT NULL REFERENCES outgoing_webhooks (id) ON DELETE CASCADE,
    message_id  BIGINT  NOT NULL,
    payload     TEXT    NOT NULL,
    -- `pending`, `delivered` or `failed`.
    status      TEXT    NOT NULL,
    attempts    BIGINT  NOT NULL,
    due_at      BIGINT,
    -- The last attempt's HTTP status, or why it got none.
    last_status BIGINT,
    last_error  TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
