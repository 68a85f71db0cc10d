//! The rules of a sealed body, in one place for everything that carries
//! one (messages and resources): an encrypted channel takes an envelope and
//! never plaintext; the envelope is bounded, under the channel's current key
//! version, names this room, channel, version and sender, and is signed by
//! the sender's published key. A plaintext channel takes no envelope.

use securechat_crypto::{Envelope, PublicBundle};

use crate::error::Error;
use crate::keys::store::PublicKeyRow;
use crate::rooms::store::ChannelRow;
use crate::state::AppState;

/// Longest ciphertext envelope, in bytes.
pub const MAX_ENVELOPE: usize = 64 * 1024;

/// The envelope of something posted to an encrypted channel, refusing
/// plaintext beside it (`has_plaintext`) and envelopes missing, empty or
/// too large.
pub fn sealed(has_plaintext: bool, envelope: Option<&str>) -> Result<&str, Error> {
    if has_plaintext {
        return Err(Error::unprocessable(
            "plaintext_in_encrypted_channel",
            "This channel is end-to-end encrypted: send a ciphertext envelope, never plaintext",
        ));
    }
    let envelope = envelope.ok_or_else(|| {
        Error::unprocessable("missing_envelope", "An encrypted channel needs an envelope")
    })?;
    if envelope.is_empty() || envelope.len() > MAX_ENVELOPE {
        return Err(Error::unprocessable(
            "invalid_envelope",
            format!("The envelope must be 1 to {MAX_ENVELOPE} bytes"),
        ));
    }
    Ok(envelope)
}

/// A plaintext channel takes no envelope.
pub fn none_in_plaintext(has_envelope: bool) -> Result<(), Error> {
    if has_envelope {
        return Err(Error::unprocessable(
            "unexpected_envelope",
            "This channel is not encrypted; send plaintext, not an envelope",
        ));
    }
    Ok(())
}

/// An encrypted message must be under the channel's current key version,
/// and nothing is sent while a rotation waits for its new key (the sender
/// is then asked to perform it: the seed's "first speaks" rule).
pub fn check_key_version(channel: &ChannelRow, claimed: Option<i64>) -> Result<(), Error> {
    if let Some(pending) = channel.pending_version {
        return Err(Error::conflict(
            "key_rotation_pending",
            format!("The channel key is being rotated; share version {pending} first"),
        ));
    }
    if channel.key_version == 0 {
        return Err(Error::conflict(
            "no_channel_key",
            "This channel has no key yet; share version 1 with its members first",
        ));
    }
    if claimed != Some(channel.key_version) {
        return Err(Error::conflict(
            "stale_key_version",
            format!(
                "Messages here must be encrypted under key version {}",
                channel.key_version
            ),
        ));
    }
    Ok(())
}

/// What the server can check of a ciphertext without any key: that it is a
/// well-formed envelope whose header names this channel, the claimed key
/// version and the sender, signed by the sender's published bundle. Anything
/// else (garbage, a replay from another channel or version, someone else's
/// envelope) is refused before it is stored or relayed.
pub async fn check(
    state: &AppState,
    sender_id: i64,
    channel: &ChannelRow,
    key_version: Option<i64>,
    envelope: &str,
) -> Result<(), Error> {
    let key = crate::keys::store::public_key(&state.db, sender_id).await?;
    verify(sender_id, channel, key_version, envelope, key.as_ref())
}

/// [`check`] with the sender's published key already read.
pub fn verify(
    sender_id: i64,
    channel: &ChannelRow,
    key_version: Option<i64>,
    envelope: &str,
    sender_key: Option<&PublicKeyRow>,
) -> Result<(), Error> {
    let parsed = Envelope::parse(envelope).map_err(|e| {
        Error::unprocessable("invalid_envelope", format!("Not a message envelope: {e}"))
    })?;
    let header = parsed.header();
    // Format 2 names the room too (format 1, from before it, names none).
    if header.channel_id != channel.id
        || parsed
            .binding()
            .is_some_and(|b| b.room_id != channel.room_id)
        || Some(i64::from(header.key_version)) != key_version
        || header.sender_id != sender_id
    {
        return Err(Error::unprocessable(
            "envelope_context_mismatch",
            "The envelope names another room, channel, key version or sender",
        ));
    }
    let bundle = sender_key
        .and_then(|row| PublicBundle::parse_for(&row.public_key, sender_id).ok())
        .ok_or_else(|| {
            Error::conflict(
                "no_public_key",
                "Publish your public key before sending here",
            )
        })?;
    parsed.verify_signature(&bundle).map_err(|_| {
        Error::unprocessable(
            "bad_envelope_signature",
            "The envelope is not signed by your key",
        )
    })
}
