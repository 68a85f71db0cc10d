-- Passkeys (WebAuthn credentials): a second factor at password sign-in
-- and a sign-in of their own. `passkey` is webauthn-rs's `Passkey` as
-- JSON (public key, algorithm, counter); `credential_id` is unique across
-- accounts, so one authenticator credential never belongs to two people.
-- `sign_count` is the authenticator's signature counter last accepted: an
-- assertion is taken by `UPDATE … WHERE sign_count < new` (or both zero),
-- so a cloned authenticator that falls behind is refused.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BLOB    NOT NULL UNIQUE,
    user_handle   BLOB    NOT NULL,
    name          TEXT    NOT NULL,
    passkey       TEXT    NOT NULL,
    sign_count    BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id, id);

-- Ceremonies under way: the challenge state webauthn-rs needs to check
-- the answer, kept here rather than with the client. `owner` is who may
-- hold it (`user:ID`, or a keyed hash of the client address for password-
-- less sign-in); each owner keeps only its newest few. A challenge is
-- taken by deleting its row, so it answers once.
CREATE TABLE webauthn_challenges (
    id         TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX webauthn_challenges_by_owner ON webauthn_challenges (owner, created_at);
CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges (expires_at);
