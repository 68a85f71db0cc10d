-- Who makes each channel key version. Any member may create the next
-- version; the first share of it claims the version for its sender, so two
-- members racing cannot both store a key for it.

-- Who created the current version (NULL for versions made before this).
ALTER TABLE channels ADD COLUMN key_creator_id BIGINT;
-- Who claimed the pending version, and when (UTC ms); a claim expires.
ALTER TABLE channels ADD COLUMN pending_creator_id BIGINT;
ALTER TABLE channels ADD COLUMN pending_claimed_at BIGINT;
