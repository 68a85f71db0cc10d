-- Words of one or two Chinese, Japanese or Korean characters: SQLite keeps
-- a second index for them (its 0014). PostgreSQL needs none to find them
-- (the statement checks such words with ILIKE on each candidate), and keeps
-- this version so that both folders hold the same ones.
SELECT 1;
