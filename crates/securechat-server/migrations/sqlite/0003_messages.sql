-- Messages, reactions and read markers.

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id    INTEGER   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    sender_id     INTEGER   REFERENCES users (id) ON DELETE SET NULL,
    -- Plaintext channels: the text. NULL in encrypted channels and once deleted.
    content       TEXT,
    -- Encrypted channels: the client's ciphertext envelope, stored as sent.
    envelope      TEXT,
    -- Encrypted channels: the channel-key version the envelope claims.
    key_version   BIGINT,
    -- Chosen by the client; a retry with the same id returns the original.
    client_msg_id TEXT   NOT NULL,
    reply_to      BIGINT,
    created_at    BIGINT NOT NULL,
    edited_at     BIGINT,
    deleted_at    BIGINT,
    UNIQUE (sender_id, client_msg_id)
);
-- History and resume are keyset scans on (channel_id, id).
CREATE INDEX messages_channel_id ON messages (channel_id, id);

CREATE TABLE reactions (
    message_id INTEGER   NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE read_markers (
    user_id    INTEGER   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id INTEGER   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

-- When the channel last got a message. Sending updates it first, which also
-- serializes the writers of one channel (see messages/store.rs).
ALTER TABLE channels ADD COLUMN last_message_at BIGINT;
