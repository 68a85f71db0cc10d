//! Keys for end-to-end encryption: the server stores and relays them, and
//! checks what it can without any secret — that a bundle is self-signed for
//! its user, that a sealed share was signed by its sender and names the
//! channel, version and recipient it is filed under — but it never holds a
//! key that opens anything.
//!
//! - [`http`]: public keys, `share_key`, `request_key`, my sealed key, key backup.
//! - [`rotation`]: starting a rotation when membership changes, and choosing a rotator.
//! - [`store`]: the SQL.

pub mod http;
pub mod rotation;
pub mod store;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The bundle fingerprint as clients display and compare it.
pub fn fingerprint(bundle: &securechat_crypto::PublicBundle) -> String {
    URL_SAFE_NO_PAD.encode(bundle.fingerprint())
}
