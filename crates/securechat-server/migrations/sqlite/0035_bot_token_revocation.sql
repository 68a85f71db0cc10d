-- A revoked bot token keeps its row, marked with the time it was revoked,
-- so a room's admins still see the bots they revoked (and when), and the
-- rooms it reached stay on record. Only a token with no `revoked_at`
-- signs a bot in or keeps it in its rooms.
ALTER TABLE bot_tokens ADD COLUMN revoked_at BIGINT;
