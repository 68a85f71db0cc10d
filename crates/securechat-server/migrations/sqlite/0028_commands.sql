-- Slash commands a room's admins register: `/trigger` POSTs a
-- Mattermost/Slack-style form to `url` when someone runs it in one of the
-- room's plaintext channels. The token the receiver checks is derived from
-- `SECRET_KEY` and `token_salt` (so the database alone does not hold it).
CREATE TABLE slash_commands (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    creator_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Lower case, without the slash; one per room.
    name        TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    description TEXT    NOT NULL,
    usage_hint  TEXT    NOT NULL,
    token_salt  BLOB    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (room_id, name)
);
