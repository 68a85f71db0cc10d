-- Accounts, sessions and login throttling.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT    NOT NULL,
    -- Lower-cased username: uniqueness is case-insensitive.
    username_key        TEXT    NOT NULL UNIQUE,
    password_hash       TEXT    NOT NULL,
    is_admin            BOOLEAN NOT NULL DEFAULT FALSE,
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT  NOT NULL,
    password_changed_at BIGINT  NOT NULL
);

-- A session is known only by a keyed hash of its token.
CREATE TABLE sessions (
    token_hash   BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed logins per username and per client address (keyed hashes, so the
-- table holds no addresses).
CREATE TABLE login_throttle (
    scope_key    BLOB    PRIMARY KEY,
    failures     BIGINT  NOT NULL,
    window_start BIGINT  NOT NULL,
    locked_until BIGINT  NOT NULL
);
