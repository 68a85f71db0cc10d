-- Single sign-on with OpenID Connect: the provider identities that sign
-- in to each account. An identity is (issuer, subject), the pair OpenID
-- Connect promises never to reassign; an account may have several (or
-- none, when it signs in with its password only). The primary key is what
-- keeps one identity from reaching two accounts, even when two first
-- sign-ins race.
CREATE TABLE oidc_identities (
    issuer     TEXT    NOT NULL CHECK (length(issuer) <= 512),
    subject    TEXT    NOT NULL CHECK (length(subject) <= 255),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities (user_id);
