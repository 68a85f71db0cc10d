-- Pinned messages (per channel) and saved messages (each person's private
-- bookmarks). Only ids and times: neither needs a message's content, so
-- both work in encrypted channels. A deleted message (content cleared,
-- `deleted_at` set) is filtered out of both lists and out of their caps.

CREATE TABLE pins (
    channel_id BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    message_id BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    pinned_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    pinned_at  BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);

-- Whether members (not only admins and the owner) may pin in a room. No
-- row: they may not.
CREATE TABLE pin_settings (
    room_id         BIGINT  PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    members_may_pin BOOLEAN NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE saved_messages (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    saved_at   BIGINT  NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
-- The saved list is a keyset scan, newest first.
CREATE INDEX saved_messages_page ON saved_messages (user_id, saved_at, message_id);
