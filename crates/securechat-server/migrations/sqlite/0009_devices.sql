-- Several devices per person. The server stores what the devices publish
-- and routes key shares sealed to a device's prekey to that device; it can
-- open none of them.

-- The newest device list each person's identity signed (crypto crate
-- `DeviceList`, wire form), and the fingerprint of the bundle it verified
-- under: a list replaces the stored one only if its version is higher, or
-- if it was signed by another (newer) identity.
CREATE TABLE device_lists (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version     BIGINT  NOT NULL,
    fingerprint TEXT    NOT NULL,
    device_list TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- Each listed device's current signed prekey (crypto crate `SignedPrekey`),
-- and when the device was last seen (publishing a prekey, fetching its
-- shares). Rows of devices that leave the list are deleted with the change.
CREATE TABLE device_prekeys (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id    BIGINT  NOT NULL,
    prekey_id    BIGINT  NOT NULL,
    prekey       TEXT    NOT NULL,
    created_ms   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Key shares sealed to one device's prekey (share format 3), waiting for
-- that device. A share is deleted once the device acknowledges it, when the
-- device leaves the list, or after the retention period.
CREATE TABLE device_shares (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    key_version     BIGINT  NOT NULL,
    recipient_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id       BIGINT  NOT NULL,
    prekey_id       BIGINT  NOT NULL,
    sender_id       BIGINT  NOT NULL,
    encrypted_key   TEXT    NOT NULL,
    is_key_rotation BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    UNIQUE (channel_id, key_version, recipient_id, device_id)
);
CREATE INDEX device_shares_mailbox ON device_shares (recipient_id, device_id, id);
CREATE INDEX device_shares_created ON device_shares (created_at);
