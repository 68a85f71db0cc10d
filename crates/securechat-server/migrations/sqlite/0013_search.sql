-- Full-text search over plaintext messages (see src/search/).
--
-- An external-content FTS5 table: it stores only the trigram index, reading
-- the text from `messages`. The trigram tokenizer indexes every run of three
-- characters, so words in scripts written without spaces (Chinese, Japanese,
-- Korean) are found like any other substring. Triggers keep it in step in
-- the same transaction as every write to `messages` (the group-commit
-- writer's batches, edits, deletes, and rows removed with their channel), so
-- the index can never disagree with what was committed. Encrypted messages
-- have no `content` and are never indexed.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'trigram'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.content IS NOT NULL BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.content IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content WHERE old.content IS NOT NULL;
    INSERT INTO messages_fts (rowid, content)
        SELECT new.id, new.content WHERE new.content IS NOT NULL;
END;

-- Messages written before this version.
INSERT INTO messages_fts (rowid, content)
    SELECT id, content FROM messages WHERE content IS NOT NULL;
