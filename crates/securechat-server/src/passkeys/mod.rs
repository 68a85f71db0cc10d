//! Passkeys (WebAuthn, through webauthn-rs): a sign-in of their own
//! (password-less, with a discoverable credential: the authenticator names
//! the account) and a second factor at password sign-in, in place of a
//! TOTP code.
//!
//! - [`rp`]: the relying party (id and origin) a request is for.
//! - [`ceremony`]: challenges kept server-side (expiring, a few per
//!   owner, each answered once) and the webauthn-rs state they carry.
//! - [`verify`]: checking an assertion against a stored passkey and
//!   recording its counter, in the write that takes it.
//! - [`http`]: listing, adding and removing one's passkeys.
//! - [`signin`]: the password-less sign-in and the second-factor challenge.
//! - [`store`]: the SQL.
//!
//! A passkey sign-in needs user verification (a PIN or biometric on the
//! authenticator), so it is two factors by itself and skips the TOTP step.
//! As a second factor, a passkey answers the step TOTP turns on; it does
//! not turn that step on by itself, so an account never depends on one
//! device without the recovery codes TOTP comes with.

pub mod ceremony;
pub mod http;
pub mod rp;
pub mod signin;
pub mod store;
pub mod verify;
