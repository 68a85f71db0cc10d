-- End-to-end encryption material the server stores and relays but cannot use.

-- A user's current public key bundle (the seed's public_key), verified on upload.
CREATE TABLE user_keys (
    user_id     INTEGER   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    public_key  TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Every bundle a user has published, so key changes can be shown.
CREATE TABLE user_key_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    fingerprint TEXT   NOT NULL,
    changed_at  BIGINT NOT NULL
);

-- One sealed copy of a channel key per (channel, version, recipient).
CREATE TABLE channel_keys (
    channel_id      INTEGER    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    key_version     BIGINT  NOT NULL,
    recipient_id    INTEGER    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sender_id       BIGINT  NOT NULL,
    encrypted_key   TEXT    NOT NULL,
    is_key_rotation BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, key_version, recipient_id)
);

CREATE TABLE key_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   INTEGER   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    requester_id INTEGER   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    fulfilled_at BIGINT,
    fulfilled_by BIGINT
);
CREATE INDEX key_requests_channel ON key_requests (channel_id, requester_id);

-- The user's identity sealed under their recovery passphrase (opaque here).
CREATE TABLE key_backups (
    user_id    INTEGER   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    backup     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The version a rotation is moving to, until its rotator shares it.
ALTER TABLE channels ADD COLUMN pending_version BIGINT;
