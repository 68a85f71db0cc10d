-- "Delete my account" (`account/`): when the account was deleted. The row
-- stays as a tombstone named `deleted-<id>`, so what the person sent keeps
-- a sender; everything only theirs is removed in the same transaction.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
