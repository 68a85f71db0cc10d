-- The signed, hash-chained membership log of a room (docs/PROTOCOL.md §6).
-- Entries are the crypto crate's wire strings, verified before they are
-- stored; the server keeps room_members in step with the log.
CREATE TABLE membership_log (
    room_id    BIGINT   NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    -- 0 for an unsigned server_remove entry.
    actor_id   BIGINT NOT NULL,
    entry      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, seq)
);

-- Past bundles are needed to verify entries signed before a key change.
ALTER TABLE user_key_history ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
UPDATE user_key_history SET public_key = (
    SELECT k.public_key FROM user_keys k
    WHERE k.user_id = user_key_history.user_id AND k.fingerprint = user_key_history.fingerprint
) WHERE EXISTS (
    SELECT 1 FROM user_keys k
    WHERE k.user_id = user_key_history.user_id AND k.fingerprint = user_key_history.fingerprint
);
