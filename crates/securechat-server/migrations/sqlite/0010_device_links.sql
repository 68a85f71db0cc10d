-- Linking a new device: the server relays the new device's offer, the
-- approving device's answer and the sealed payload between two sessions
-- of the same person, for ten minutes. It stores the code's hash, never
-- the code, and can open nothing it relays.
CREATE TABLE device_links (
    code_hash  TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    offer      TEXT    NOT NULL,
    answer     TEXT,
    payload    TEXT,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX device_links_user ON device_links (user_id);
CREATE INDEX device_links_expiry ON device_links (expires_at);
