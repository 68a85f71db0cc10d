-- Uploaded files. The bytes live in the blob store (DATA_DIR/files or an
-- S3-compatible bucket) under storage_key, a random name the server made.
-- No foreign key to channels: when a channel or room is deleted the rows
-- stay until the janitor has removed their blobs.
CREATE TABLE files (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   BIGINT  NOT NULL,
    uploader_id  BIGINT,
    storage_key  TEXT    NOT NULL UNIQUE,
    -- Sanitized display name and checked type; empty for encrypted
    -- uploads, whose name and type travel inside the encrypted message.
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    -- Hex SHA-256 of the stored bytes, checked on every download.
    sha256       TEXT    NOT NULL,
    is_encrypted BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL,
    -- Set when its message is deleted; the blob is removed right after.
    deleted_at   BIGINT
);
CREATE INDEX files_channel ON files (channel_id, id);
CREATE INDEX files_uploader ON files (uploader_id);

-- The file a message carries (at most one message per file).
ALTER TABLE messages ADD COLUMN file_id BIGINT;
CREATE UNIQUE INDEX messages_file ON messages (file_id);

-- Shared links and documents of a room (optionally of one channel).
CREATE TABLE resources (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id     BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    channel_id  BIGINT  REFERENCES channels (id) ON DELETE CASCADE,
    -- Plaintext resources; all NULL for a resource of an encrypted channel.
    title       TEXT,
    url         TEXT,
    description TEXT,
    -- Encrypted channels: the title, URL and description sealed by the
    -- client as a message envelope, stored as sent.
    envelope    TEXT,
    key_version BIGINT,
    file_id     BIGINT,
    pinned      BOOLEAN NOT NULL DEFAULT FALSE,
    created_by  BIGINT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX resources_room ON resources (room_id, id);
