//! From a provider identity to an account: the identity's own account if
//! it signed in before; otherwise the account whose verified email it
//! shares, when the provider says the email is verified too; otherwise a
//! new account, named after the identity.

use super::SsoError;
use super::provider::Identity;
use super::store;
use crate::auth::password::Priority;
use crate::auth::store::{self as users, UserRow};
use crate::auth::token;
use crate::auth::validate;
use crate::rooms::events::RoomEvent;
use crate::rooms::model::Role;
use crate::state::AppState;
use crate::storage::now_ms;

/// Longest subject accepted (OpenID Connect Core: 255 ASCII characters).
const SUBJECT_MAX: usize = 255;
/// Shortest and longest usernames.
const NAME_MIN: usize = *validate::USERNAME_LEN.start();
const NAME_MAX: usize = *validate::USERNAME_LEN.end();
/// Names tried with a numbered suffix before random ones.
const NUMBERED_TRIES: u32 = 8;
/// Random suffixes tried after the numbered ones.
const RANDOM_TRIES: u32 = 4;

/// The account `identity` signs in to, created or linked on its first
/// sign-in.
pub async fn resolve(state: &AppState, identity: &Identity) -> Result<UserRow, SsoError> {
    if identity.subject.is_empty() || identity.subject.len() > SUBJECT_MAX {
        return Err(SsoError::Refused);
    }
    let user_id = match store::identity_user(&state.db, &identity.issuer, &identity.subject).await?
    {
        Some(id) => id,
        None => first_sign_in(state, identity).await?,
    };
    users::user_by_id(&state.db, user_id)
        .await?
        .ok_or(SsoError::Failed)
}

async fn first_sign_in(state: &AppState, identity: &Identity) -> Result<i64, SsoError> {
    let now = now_ms();
    if let Some(email) = identity.email.as_deref()
        && let Some(owner) = store::verified_email_owner(&state.db, email).await?
    {
        // An address the provider has not verified could be anyone's:
        // it never reaches the account that verified it here.
        if !identity.email_verified {
            return Err(SsoError::EmailUnverified);
        }
        let user_id =
            store::link(&state.db, &identity.issuer, &identity.subject, owner, now).await?;
        tracing::info!(user_id, "single sign-on identity linked by verified email");
        return Ok(user_id);
    }
    create(state, identity).await
}

/// A new account with a random password no one knows (it signs in
/// through the provider; a password can be set by an administrator).
async fn create(state: &AppState, identity: &Identity) -> Result<i64, SsoError> {
    let password = token::new_token();
    let hash = state
        .hasher
        .hash(Priority::Anonymous, password)
        .await
        .map_err(|e| {
            tracing::warn!("cannot hash a new account's password: {e}");
            SsoError::Unavailable
        })?;
    let base = base_name(identity);
    let candidates = (1..=NUMBERED_TRIES)
        .map(|n| {
            with_suffix(
                &base,
                if n == 1 {
                    String::new()
                } else {
                    format!("-{n}")
                },
            )
        })
        .chain(
            (0..RANDOM_TRIES)
                .map(|_| with_suffix(&base, format!("-{:04}", rand::random::<u16>() % 10_000))),
        );
    for username in candidates {
        if validate::username(&username).is_err() {
            continue;
        }
        let created = store::create_account(
            &state.db,
            &username,
            &hash,
            &identity.issuer,
            &identity.subject,
            now_ms(),
            &state.default_rooms,
        )
        .await;
        match created {
            Ok((user, joined)) => {
                tracing::info!(user_id = user.id, "account created by single sign-on");
                for (room_id, rotations) in joined {
                    state.events.publish(RoomEvent::MemberJoined {
                        room_id,
                        user_id: user.id,
                        role: Role::Member,
                        rotations,
                    });
                }
                return Ok(user.id);
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                // The identity may have been linked by a racing sign-in.
                if let Some(id) =
                    store::identity_user(&state.db, &identity.issuer, &identity.subject).await?
                {
                    return Ok(id);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(SsoError::NoUsername)
}

/// A username from `preferred_username`, else the email's local part,
/// else "user": only the characters usernames allow, 3 to 32 of them.
fn base_name(identity: &Identity) -> String {
    let source = identity
        .preferred_username
        .as_deref()
        .or_else(|| identity.email.as_deref().and_then(|e| e.split('@').next()))
        .unwrap_or_default();
    let mut name: String = source
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(NAME_MAX)
        .collect();
    if name.len() < NAME_MIN {
        name = format!("user{name}");
    }
    name
}

/// `base` with `suffix`, cut so the whole stays within the length limit.
fn with_suffix(base: &str, suffix: String) -> String {
    let keep = NAME_MAX.saturating_sub(suffix.len()).min(base.len());
    format!("{}{suffix}", &base[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(preferred: Option<&str>, email: Option<&str>) -> Identity {
        Identity {
            issuer: "https://id.example".into(),
            subject: "1".into(),
            email: email.map(Into::into),
            email_verified: true,
            preferred_username: preferred.map(Into::into),
        }
    }

    #[test]
    fn names_come_from_the_identity_and_fit_the_rules() {
        assert_eq!(base_name(&identity(Some("Ann Lee!"), None)), "AnnLee");
        assert_eq!(base_name(&identity(None, Some("bo@example.com"))), "userbo");
        assert_eq!(base_name(&identity(Some("日本"), None)), "user");
        let long = "x".repeat(60);
        let name = with_suffix(&base_name(&identity(Some(&long), None)), "-12".into());
        assert_eq!(name.len(), 32);
        assert!(name.ends_with("-12"));
        assert!(validate::username(&name).is_ok());
    }
}
