-- Usernames that look alike (`aIice`, `al1ce` beside `alice`) may not
-- coexist. The column holds the folded form that `auth::validate` computes
-- (Unicode TR39 skeleton, then case folding with I, l and 1 merged); it is
-- filled for existing accounts at start-up, and the unique index makes the
-- rule part of every insert.
ALTER TABLE users ADD COLUMN username_skeleton TEXT;
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);
