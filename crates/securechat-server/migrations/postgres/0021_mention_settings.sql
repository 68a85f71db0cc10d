-- Who may use a channel-wide mention (@channel, @here, @everyone, @room) in
-- a room: in a room of more members than `everyone_mention_max_members`,
-- only its owner and admins. No row, or NULL: anyone may. Set by the
-- owner; the server enforces it in plaintext channels, clients in
-- encrypted ones (by the verified membership log).
CREATE TABLE mention_settings (
    room_id                      BIGINT  PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    everyone_mention_max_members BIGINT,
    updated_at                   BIGINT  NOT NULL
);
