//! Two-factor sign-in: TOTP (RFC 6238) codes from an authenticator app,
//! with one-time recovery codes, and the site's policy on who must use it.
//!
//! - [`totp`]: secrets, `otpauth://` URIs and matching a code to its time step.
//! - [`secret`]: sealing a TOTP secret for the database.
//! - [`recovery`]: recovery codes: making, normalizing.
//! - [`policy`]: `TWO_FACTOR_REQUIRED`, whom it covers.
//! - [`verify`]: checking a second factor (login, disable, new codes): a
//!   code is taken once, in the write that records it.
//! - [`store`]: the SQL.
//! - [`http`]: the `/api/auth/2fa/*` routes and the extractor they share.
//!
//! The policy is enforced in one place, the [`crate::auth::AuthUser`]
//! extractor (and the Socket.IO handshake, through the same
//! `AuthUser::from_token`): a covered person who has not enrolled gets 403
//! `second_factor_enrolment_required` everywhere except the routes that
//! take [`http::EnrollingUser`] instead (who am I, log out, and enrolment
//! itself).

pub mod http;
pub mod policy;
pub mod recovery;
pub mod secret;
pub mod store;
pub mod totp;
pub mod verify;
