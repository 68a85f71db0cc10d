-- Bot accounts: a `users` row marked `is_bot`, with a password hash no
-- one can match, made by a room admin or a site admin (`bot_created_by`).
-- A bot signs in with API tokens only: `bot_tokens` holds the keyed hash
-- of each token (as `sessions` does), and `bot_token_rooms` the rooms a
-- token may reach. Revoking a token deletes its row.
ALTER TABLE users ADD COLUMN is_bot BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN bot_created_by INTEGER REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE bot_tokens (
    token_hash BLOB    PRIMARY KEY,
    bot_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX bot_tokens_by_bot ON bot_tokens (bot_id);

CREATE TABLE bot_token_rooms (
    token_hash BLOB    NOT NULL REFERENCES bot_tokens (token_hash) ON DELETE CASCADE,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    PRIMARY KEY (token_hash, room_id)
);
CREATE INDEX bot_token_rooms_by_room ON bot_token_rooms (room_id);
