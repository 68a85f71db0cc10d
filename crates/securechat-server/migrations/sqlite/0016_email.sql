-- Email digests of missed mentions and DMs (when `SMTP_URL` is set): each
-- person's address, and the messages waiting to be listed in their next
-- digest.

-- One address per person. It receives nothing but its verification code
-- until `verified_at` is set. The pending code is kept only as a keyed hash
-- (`code_hash`), with its expiry and the wrong guesses made so far;
-- `code_sent_at` spaces out new codes. `last_digest_at` is when the last
-- digest was claimed: one per delay window at most.
CREATE TABLE email_addresses (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address         TEXT    NOT NULL CHECK (length(address) <= 254),
    verified_at     BIGINT,
    code_hash       BLOB,
    code_expires_at BIGINT,
    code_attempts   BIGINT  NOT NULL DEFAULT 0,
    code_sent_at    BIGINT,
    last_digest_at  BIGINT,
    created_at      BIGINT  NOT NULL
);

-- A message a person should hear about and has not read yet. `due_at` is
-- when a digest about it may go out (the message's time plus the delay,
-- or after a failed send the next retry). `leased_until` is set while a
-- sender mails it: no other claim takes the row until then, and a sender
-- that died leaves it to the next claim after that. `attempts` counts the
-- sends tried. Rows go once sent, read, or their message deleted.
CREATE TABLE email_pending (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    due_at     BIGINT  NOT NULL,
    attempts   BIGINT  NOT NULL DEFAULT 0,
    leased_until BIGINT,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX email_pending_due ON email_pending (due_at);
