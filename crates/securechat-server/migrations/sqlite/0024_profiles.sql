-- A person's profile (`profiles/`): a display name, a status with an
-- optional emoji and expiry, the availability they chose (online, away,
-- do not disturb) and their avatar. No row: the username alone, online.
-- The avatar's two renditions (256 and 64 pixels square, PNG) live in the
-- blob store under server-made keys; `avatar_version` grows with every
-- change and is part of the avatar's URL, so a served copy never changes.
CREATE TABLE profiles (
    user_id           INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    display_name      TEXT,
    status_text       TEXT,
    status_emoji      TEXT,
    status_expires_at BIGINT,
    availability      TEXT   NOT NULL DEFAULT 'online',
    avatar_key        TEXT,
    avatar_small_key  TEXT,
    avatar_version    BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL
);
