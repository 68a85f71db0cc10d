-- Web Push (RFC 8030/8291/8292): browsers' push subscriptions, who wants
-- to be notified of what, and the queue of pushes not yet delivered.

-- The public half of the VAPID key pair (base64url of the uncompressed
-- point). Written once, by the first node to start; every later node
-- compares its own key with it and refuses to start on a mismatch, since
-- browsers bind their subscriptions to one key. The private half is never
-- stored here.
CREATE TABLE push_vapid (
    id         BIGINT  PRIMARY KEY CHECK (id = 1),
    public_key TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- A browser's subscription: where to send (a push service URL) and the
-- keys to encrypt for (base64url, as `PushSubscription.toJSON()` gives
-- them). One owner per endpoint; a browser that signs in as someone else
-- moves it.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- A person's notification settings: do-not-disturb hours (minutes after
-- local midnight, in their UTC offset; both null when off) and whether
-- pushes of plaintext channels leave out the text.
CREATE TABLE push_settings (
    user_id     BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    dnd_start   BIGINT,
    dnd_end     BIGINT,
    utc_offset  BIGINT  NOT NULL DEFAULT 0,
    no_content  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  BIGINT  NOT NULL
);

-- A person's setting for one channel: 'all', 'mentions' or 'none' (null:
-- the default, every message in a DM and mentions elsewhere), and muted
-- until a time (UTC milliseconds).
CREATE TABLE channel_notifications (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    level      TEXT   CHECK (level IN ('all', 'mentions', 'none')),
    mute_until BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

-- Pushes waiting to be sent, one per subscription. `payload` is the JSON
-- the service worker receives (for encrypted channels, ids only); it is
-- encrypted for the subscription when sent. `due_at` is when a sender may
-- next claim the row: now for a new row, the end of a sender's lease while
-- it sends, or the next retry after a failure.
CREATE TABLE push_queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT  NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    user_id         BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    payload         TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    due_at          BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX push_queue_due ON push_queue (due_at);
CREATE INDEX push_queue_user ON push_queue (user_id, id);

-- Pushes queued for each person in the current minute: the rate cap.
CREATE TABLE push_budget (
    user_id      BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    window_start BIGINT  NOT NULL,
    used         BIGINT  NOT NULL
);
