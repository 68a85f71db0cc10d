-- What happened in a room, shown as quiet lines between its messages:
-- joins, departures and removals (room-wide: `channel_id` null), a
-- channel's creation, renaming and topic, and each new key version of an
-- encrypted channel. Written in the transaction of the change itself, so
-- a rolled-back change leaves no line. Only ids, names and times the
-- server already holds; never anything from encrypted content.
CREATE TABLE timeline_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    channel_id BIGINT REFERENCES channels (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    actor_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    target_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    detail     TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX timeline_events_room ON timeline_events (room_id, id);
