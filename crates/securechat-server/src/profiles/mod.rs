//! Profiles: a display name, a status line, the availability a person
//! chose (online, away, do not disturb) and an avatar.
//!
//! - [`http`]: `PATCH /api/users/me/profile`, `GET /api/users/{id}/profile`,
//!   the avatar's upload, removal and download.
//! - [`avatar`]: decoding under limits, resizing and re-encoding, off the
//!   async workers and a few at a time.
//! - [`store`]: the SQL; [`view`]: what clients see.
//!
//! A profile is seen by the people who share a room with its owner (and by
//! site admins), like the directory's `/api/users/{id}`; a change is pushed
//! to them alone as `profile_updated`. Avatars live in the file store's
//! blob store under random keys, never counted in a file quota (two small
//! PNGs per person).

use crate::error::Error;
use crate::push::{Audience, ServerEvent};
use crate::state::AppState;
use crate::storage::now_ms;

pub mod avatar;
pub mod http;
pub mod store;
pub mod view;

/// Pushes `profile` to its owner's sockets and everyone who shares a room
/// with them.
pub async fn announce(state: &AppState, profile: &view::ProfileView) {
    let event = ServerEvent::ProfileUpdated(profile.clone());
    match crate::rooms::store::room_ids_of(&state.db, profile.user_id).await {
        Ok(rooms) if !rooms.is_empty() => state.notify.push(event, Audience::Rooms(rooms)),
        Ok(_) => state
            .notify
            .push(event, Audience::Users(vec![profile.user_id])),
        Err(e) => tracing::error!(error = %e, "cannot list rooms for a profile change"),
    }
}

/// 404 unless `viewer` may see `id`'s profile: themselves, someone they
/// share a room with, or anyone for a site admin.
pub async fn visible(
    state: &AppState,
    viewer: &crate::auth::AuthUser,
    id: i64,
) -> Result<(), Error> {
    let ok = viewer.is_admin
        || viewer.id == id
        || crate::auth::store::share_a_room(&state.db, viewer.id, id).await?;
    if ok {
        Ok(())
    } else {
        Err(Error::not_found("user_not_found", "No such user"))
    }
}

/// Stores `renditions` as `user_id`'s avatar (or removes it with `None`),
/// then deletes the blobs of the avatar it replaced. New blobs that lose a
/// race are deleted, and the change is tried again over the winner.
pub async fn replace_avatar(
    state: &AppState,
    user_id: i64,
    renditions: Option<avatar::Renditions>,
) -> Result<store::ProfileRow, Error> {
    let blobs = &state.files.blobs;
    let keys = match renditions {
        None => None,
        Some(r) => {
            let large = crate::files::new_storage_key()?;
            let small = crate::files::new_storage_key()?;
            for (key, bytes) in [(&large, r.large), (&small, r.small)] {
                let len = bytes.len() as u64;
                let body = futures_util::stream::iter([Ok::<_, std::io::Error>(
                    bytes::Bytes::from(bytes),
                )]);
                if let Err(e) = blobs.put(key, body, len).await {
                    crate::files::cleanup::delete_blob(blobs, &large).await;
                    return Err(Error::Internal(anyhow::anyhow!("avatar not stored: {e}")));
                }
            }
            Some((large, small))
        }
    };
    for _ in 0..8 {
        let old = store::get(&state.db, user_id).await?;
        let new_keys = keys.as_ref().map(|(l, s)| (l.as_str(), s.as_str()));
        let stored =
            store::set_avatar(&state.db, user_id, old.avatar_version, new_keys, now_ms()).await;
        match stored {
            Ok(Some(row)) => {
                for key in [old.avatar_key, old.avatar_small_key].into_iter().flatten() {
                    crate::files::cleanup::delete_blob(blobs, &key).await;
                }
                return Ok(row);
            }
            Ok(None) => continue,
            Err(e) => {
                forget(state, keys.as_ref()).await;
                return Err(e.into());
            }
        }
    }
    forget(state, keys.as_ref()).await;
    Err(Error::conflict(
        "avatar_changed",
        "The avatar was changed meanwhile; try again",
    ))
}

async fn forget(state: &AppState, keys: Option<&(String, String)>) {
    if let Some((large, small)) = keys {
        crate::files::cleanup::delete_blob(&state.files.blobs, large).await;
        crate::files::cleanup::delete_blob(&state.files.blobs, small).await;
    }
}
