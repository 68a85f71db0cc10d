-- Words of one or two Chinese, Japanese or Korean characters, which the
-- trigram index of 0013 cannot look up (see src/search/cjk.rs).
--
-- A contentless FTS5 table over each message's CJK characters spaced apart
-- (one token a character with `unicode61`), keyed by the message id. The
-- text is made by the server, which writes it in the same transaction as
-- the message; `contentless_delete` lets the triggers below remove a row by
-- its id when the message's text changes or the message goes.
CREATE VIRTUAL TABLE messages_cjk USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61'
);

CREATE TRIGGER messages_cjk_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_cjk WHERE rowid = old.id;
END;

CREATE TRIGGER messages_cjk_update AFTER UPDATE OF content ON messages BEGIN
    DELETE FROM messages_cjk WHERE rowid = old.id;
END;

-- Every message up to this id has its row (when it has CJK text). Messages
-- written before this version are indexed when the server next starts.
CREATE TABLE search_cjk_mark (
    indexed_through INTEGER NOT NULL
);
INSERT INTO search_cjk_mark (indexed_through) VALUES (0);
