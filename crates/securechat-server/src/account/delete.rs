//! "Delete my account", in the order that keeps it safe to stop half-way:
//!
//! 1. one transaction makes the account a tombstone and forgets what was
//!    only the person's ([`tombstone`]): from its commit nobody can
//!    sign in as them or encrypt to them;
//! 2. their open sockets are closed;
//! 3. they leave every room but their DMs, each departure starting the
//!    key rotations it needs and announced to the room, so the remaining
//!    members move to keys the deleted account never had;
//! 4. their uploads and avatar are removed from the file store (a blob the
//!    store refuses stays marked deleted, and the file sweep retries it).

use super::store::tombstone::{self, Outcome};
use crate::admin::store::SiteAudit;
use crate::auth::password::Priority;
use crate::auth::token;
use crate::error::Error;
use crate::files::cleanup;
use crate::state::AppState;
use crate::storage::now_ms;

/// Rooms named in the refusal for an owner, before "and N more".
const NAMED_ROOMS: usize = 5;

/// Deletes `user_id`'s account (the caller has checked who asks), in a
/// task of its own: a request cancelled half-way (the tab closed) does not
/// stop a deletion that has begun.
pub async fn delete_account(
    state: &AppState,
    user_id: i64,
    actor_id: Option<i64>,
) -> Result<(), Error> {
    let task = tokio::spawn({
        let state = state.clone();
        async move { run(&state, user_id, actor_id).await }
    });
    task.await
        .map_err(|e| Error::Internal(anyhow::anyhow!("account deletion task failed: {e}")))?
}

async fn run(state: &AppState, user_id: i64, actor_id: Option<i64>) -> Result<(), Error> {
    let unusable = state
        .hasher
        .hash(Priority::Session, token::new_token())
        .await?;
    let audit = SiteAudit::new(actor_id, "account_deleted", now_ms()).target(user_id);
    let (files, avatars) = match tombstone::delete(&state.db, user_id, &unusable, audit).await? {
        Outcome::Deleted { files, avatars } => (files, avatars),
        Outcome::OwnsRooms(rooms) => return Err(owns_rooms(&rooms)),
        Outcome::LastAdmin => {
            return Err(Error::conflict(
                "last_admin",
                "This is the site's last enabled administrator: make someone else an \
                 administrator first",
            ));
        }
        Outcome::Gone => {
            return Err(Error::not_found("user_not_found", "No such account"));
        }
    };
    state.notify.sessions_ended(user_id);
    let left = crate::rooms::membership::remove_deleted(state, user_id)
        .await
        .map_err(Error::Internal)?;
    let blobs = &state.files.blobs;
    for (id, key) in &files {
        cleanup::purge(&state.db, blobs, *id, key).await?;
    }
    for key in &avatars {
        cleanup::delete_blob(blobs, key).await;
    }
    tracing::info!(
        user_id,
        rooms = left,
        files = files.len(),
        "account deleted"
    );
    Ok(())
}

/// The refusal for an account that owns rooms, naming them.
fn owns_rooms(rooms: &[String]) -> Error {
    let mut names = rooms
        .iter()
        .take(NAMED_ROOMS)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if rooms.len() > NAMED_ROOMS {
        names.push_str(&format!(" and {} more", rooms.len() - NAMED_ROOMS));
    }
    Error::conflict(
        "owns_rooms",
        format!(
            "You own {}: transfer ownership to another member or delete {} first",
            if rooms.len() == 1 {
                format!("the room {names}")
            } else {
                format!("these rooms: {names}")
            },
            if rooms.len() == 1 { "it" } else { "them" }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_rooms_and_counts_the_rest() {
        let one = owns_rooms(&["design".into()]).to_string();
        assert!(one.contains("the room design"), "{one}");
        let many: Vec<String> = (1..=7).map(|i| format!("r{i}")).collect();
        let text = owns_rooms(&many).to_string();
        assert!(text.contains("r1, r2, r3, r4, r5 and 2 more"), "{text}");
    }
}
