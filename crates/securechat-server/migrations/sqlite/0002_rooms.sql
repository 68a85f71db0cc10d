-- Rooms, their members, bans, channels and audit log.

CREATE TABLE rooms (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'room', or 'dm' for a direct-message conversation of two people.
    kind        TEXT    NOT NULL CHECK (kind IN ('room', 'dm')),
    name        TEXT    NOT NULL,
    -- Lower-cased name, for directory search.
    name_key    TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    is_private  BOOLEAN NOT NULL,
    -- 'lowid:highid' for DMs, so each pair has at most one.
    dm_key      TEXT    UNIQUE,
    created_by  INTEGER    REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX rooms_directory ON rooms (is_private, kind, name_key);

CREATE TABLE room_members (
    room_id   INTEGER   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   INTEGER   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT   NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

CREATE TABLE room_bans (
    room_id    INTEGER   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    INTEGER   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  INTEGER   REFERENCES users (id) ON DELETE SET NULL,
    reason     TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

-- Every room member is a member of all its channels.
CREATE TABLE channels (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id      INTEGER    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    name_key     TEXT    NOT NULL,
    topic        TEXT    NOT NULL DEFAULT '',
    -- Fixed at creation: an encrypted channel never accepts plaintext.
    is_encrypted BOOLEAN NOT NULL,
    -- Current channel-key version (E2EE); 0 until the first key is shared.
    key_version  BIGINT  NOT NULL DEFAULT 0,
    created_by   INTEGER    REFERENCES users (id) ON DELETE SET NULL,
    created_at   BIGINT  NOT NULL,
    UNIQUE (room_id, name_key)
);

-- Who did what to whom. No foreign keys: the record outlives rooms and users.
CREATE TABLE room_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id        BIGINT NOT NULL,
    actor_id       BIGINT,
    action         TEXT   NOT NULL,
    target_user_id BIGINT,
    detail         TEXT   NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX room_audit_room ON room_audit (room_id, id);
