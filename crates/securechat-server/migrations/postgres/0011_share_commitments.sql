-- The key commitment of each stored share (hex; null for format-1 shares,
-- which carry none, and for rows from before this column). A sender may
-- replace their copy for a recipient only with a share of the same key,
-- so two devices of one person making one version at once cannot leave
-- members with different keys: the condition is part of the upsert.
ALTER TABLE channel_keys ADD COLUMN key_commitment TEXT;
ALTER TABLE device_shares ADD COLUMN key_commitment TEXT;
