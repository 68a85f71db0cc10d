//! Domain separation: object type tags, signature labels and KDF labels.
//!
//! Matrix's 2022 breaks included key-type confusion and signatures valid for
//! more than one purpose. Here every serialized object starts with its own
//! type tag, and every signature is made over `len(label) || label || body`
//! with a label unique to its purpose (MLS's `SignWithLabel` construction), so
//! a signature on a bundle can never be replayed as a signature on a share, a
//! message or a log entry, even if the bodies happened to collide.

/// Object type tag of a public key bundle.
pub const TAG_BUNDLE: u8 = 0x01;
/// Object type tag of a sealed channel-key share.
pub const TAG_SHARE: u8 = 0x02;
/// Object type tag of a channel message envelope.
pub const TAG_MESSAGE: u8 = 0x03;
/// Object type tag of a membership log entry.
pub const TAG_MEMBERSHIP: u8 = 0x04;
/// Object type tag of a passphrase-sealed backup.
pub const TAG_BACKUP: u8 = 0x05;
/// Object type tag of a secret identity export.
pub const TAG_IDENTITY: u8 = 0x06;
/// Object type tag of a channel key export.
pub const TAG_CHANNEL_KEY: u8 = 0x07;
/// Object type tag of an encrypted file header.
pub const TAG_FILE: u8 = 0x08;
/// Object type tag of a person's signed device list.
pub const TAG_DEVICE_LIST: u8 = 0x09;
/// Object type tag of a device's secret signing key export.
pub const TAG_DEVICE_KEY: u8 = 0x0A;
/// Object type tag of a device's signed prekey.
pub const TAG_PREKEY: u8 = 0x0B;
/// Object type tag of a link offer (a new device asking to be linked).
pub const TAG_LINK_OFFER: u8 = 0x0C;
/// Object type tag of a link payload (what the linking device sends).
pub const TAG_LINK_PAYLOAD: u8 = 0x0D;

/// Format version 1, which every object has.
pub const FORMAT_V1: u8 = 0x01;
/// Format version 2 of a key share: bound to its room, to the membership-log
/// entry it was made at, and to a commitment to the key.
pub const FORMAT_V2: u8 = 0x02;
/// Format version 3 of a key share: sealed to one device's signed prekey
/// instead of the identity's long-term agreement key.
pub const FORMAT_V3: u8 = 0x03;

/// Signature label of a public key bundle (self-signature).
pub const SIG_BUNDLE: &[u8] = b"securechat/v1/sig/bundle";
/// Signature label of a device list (by the identity).
pub const SIG_DEVICE_LIST: &[u8] = b"securechat/v3/sig/device-list";
/// Signature label of a signed prekey (by its device).
pub const SIG_PREKEY: &[u8] = b"securechat/v3/sig/prekey";
/// Hash label of a signed prekey's digest, which a share names.
pub const HASH_PREKEY: &[u8] = b"securechat/v3/hash/prekey";
/// KDF label of a device link: the payload key and the short
/// authentication string.
pub const KDF_LINK: &[u8] = b"securechat/v3/kdf/link";
/// Signature label of a sealed key share.
pub const SIG_SHARE: &[u8] = b"securechat/v1/sig/key-share";
/// Signature label of a channel message.
pub const SIG_MESSAGE: &[u8] = b"securechat/v1/sig/message";
/// Signature label of a membership log entry.
pub const SIG_MEMBERSHIP: &[u8] = b"securechat/v1/sig/membership";

/// HKDF info label of the key-encryption key of a share.
pub const KDF_SHARE: &[u8] = b"securechat/v1/kdf/key-share";
/// HKDF info label of a message key.
pub const KDF_MESSAGE: &[u8] = b"securechat/v1/kdf/message";
/// HKDF info label of a file chunk key.
pub const KDF_FILE: &[u8] = b"securechat/v1/kdf/file";
/// HKDF info label of a device's local search-index key: the key the
/// browser encrypts its index of decrypted messages with at rest.
pub const KDF_SEARCH_INDEX: &[u8] = b"securechat/v4/kdf/local-search-index";
/// Hash label of the membership log chain.
pub const HASH_MEMBERSHIP: &[u8] = b"securechat/v1/hash/membership";
/// Hash label of a bundle fingerprint.
pub const HASH_BUNDLE: &[u8] = b"securechat/v1/hash/bundle";
/// Hash label of a channel key commitment (format 2 shares).
pub const HASH_KEY_COMMITMENT: &[u8] = b"securechat/v2/hash/channel-key";

/// The bytes actually signed for `label` and `body`: `u8 len(label) || label || body`.
///
/// Labels are ASCII constants shorter than 256 bytes, so one length byte is
/// enough and keeps the encoding prefix-free.
pub(crate) fn labeled(label: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + label.len() + body.len());
    // Labels are crate constants; the truncation can never happen, but the
    // conversion is checked rather than cast so it cannot silently wrap.
    out.push(u8::try_from(label.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(label);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_and_short() {
        let all = [
            SIG_BUNDLE,
            SIG_DEVICE_LIST,
            SIG_PREKEY,
            HASH_PREKEY,
            KDF_LINK,
            SIG_SHARE,
            SIG_MESSAGE,
            SIG_MEMBERSHIP,
            KDF_SHARE,
            KDF_MESSAGE,
            KDF_FILE,
            HASH_MEMBERSHIP,
            HASH_BUNDLE,
            HASH_KEY_COMMITMENT,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.len() < 256);
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn labeled_prefixes_length() {
        let m = labeled(b"ab", b"xyz");
        assert_eq!(m, b"\x02abxyz");
        assert_ne!(labeled(b"ab", b"cx"), labeled(b"abc", b"x"));
    }
}
