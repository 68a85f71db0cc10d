-- Two-factor sign-in with TOTP (RFC 6238). One credential per account:
-- `enabled_at` is NULL while it is only set up (the secret shown, no code
-- confirmed yet). The secret is sealed with AES-256-GCM under a key
-- derived from SECRET_KEY (`twofactor/secret.rs`): a copy of the database
-- alone does not yield it. `last_step` is the last time step whose code
-- was accepted; a code is taken by `UPDATE … WHERE last_step < step`, so
-- one code cannot sign in twice, not even by two requests at once.
CREATE TABLE totp_credentials (
    user_id       BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed BYTEA   NOT NULL,
    enabled_at    BIGINT,
    last_step     BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL
);

-- One-time recovery codes, stored as keyed hashes; a code is used by
-- deleting its row. They go with the credential.
CREATE TABLE totp_recovery_codes (
    user_id   BIGINT  NOT NULL REFERENCES totp_credentials (user_id) ON DELETE CASCADE,
    code_hash BYTEA   NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
