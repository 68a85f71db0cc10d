-- Full-text search over plaintext messages (see src/search/).
--
-- A trigram index (pg_trgm) on the text itself: PostgreSQL keeps it in step
-- with every insert, edit and delete in the same transaction. Trigrams
-- rather than a `tsvector`: the text-search parser splits words at spaces,
-- which Chinese, Japanese and Korean do not use, while trigrams find any
-- substring in any script, as the SQLite side's FTS5 trigram tokenizer does,
-- so a query finds the same messages on both engines. pg_trgm ships with
-- PostgreSQL and is a trusted extension: the database's owner may create it.
-- Encrypted messages have no `content` and are never indexed.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX messages_content_trgm ON messages USING gin (content gin_trgm_ops)
    WHERE content IS NOT NULL;
