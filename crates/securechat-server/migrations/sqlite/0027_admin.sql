-- The admin console (`admin/`): site settings an administrator changes at
-- run time, invitation links, one-time password-reset links, and the log
-- of site-wide administration.

-- One row per setting (`registration_mode`: open, invite_only, closed).
-- A row overrides the environment's default; no row, the default holds.
-- The `admin_guard` row holds no setting: every change to who is an
-- enabled administrator updates it first in its transaction, so such
-- changes run one after another and each sees the one before it.
CREATE TABLE site_settings (
    name       TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO site_settings (name, value, updated_at) VALUES ('admin_guard', '', 0);

-- An invitation link. The token is stored only as its SHA-256 (it is 256
-- random bits). `uses` grows by one per account made with it, in the
-- account's transaction, and never past `max_uses`.
CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB    NOT NULL UNIQUE,
    created_by BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    max_uses   BIGINT  NOT NULL CHECK (max_uses > 0),
    uses       BIGINT  NOT NULL DEFAULT 0 CHECK (uses <= max_uses),
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);

-- A one-time password-reset link an administrator made for someone: the
-- SHA-256 of its token, deleted when used.
CREATE TABLE password_resets (
    token_hash BLOB    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- Site-wide administration: who did what to which account or room.
CREATE TABLE site_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id       BIGINT,
    action         TEXT    NOT NULL,
    target_user_id BIGINT,
    detail         TEXT    NOT NULL DEFAULT '',
    created_at     BIGINT  NOT NULL
);
