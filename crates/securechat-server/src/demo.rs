//! Demo data for `securechat init-db --demo`: the seed's default users, a
//! public "Lobby" and a private "Project X" with an encrypted channel.
//! Idempotent: what exists is left as it is.

use anyhow::bail;

use crate::auth::{admin, store as users, validate};
use crate::config::AppEnv;
use crate::rooms::model::Role;
use crate::rooms::store::{self as rooms, Audit};
use crate::storage::{Db, now_ms};

/// The seed's demo accounts: (username, password, site admin).
pub const DEMO_USERS: [(&str, &str, bool); 4] = [
    ("admin", "admin123", true),
    ("alice", "password123", false),
    ("bob", "password456", false),
    ("charlie", "password789", false),
];

/// Creates whichever demo users and rooms are missing. Refused in
/// production, where well-known passwords would be an open door.
pub async fn create(db: &Db, env: AppEnv) -> anyhow::Result<Vec<String>> {
    if env == AppEnv::Production {
        bail!("demo data is refused when APP_ENV=production (it has well-known passwords)");
    }
    let mut created = Vec::new();
    for (username, password, is_admin) in DEMO_USERS {
        let key = validate::username_key(username);
        if users::user_by_key(db, &key).await?.is_none() {
            admin::add_demo_user(db, username, password, is_admin).await?;
            created.push(format!("user {username}"));
        }
    }
    let id = |name: &'static str| async move { admin::find(db, name).await.map(|u| u.id) };
    let (admin_id, alice, bob, charlie) = (
        id("admin").await?,
        id("alice").await?,
        id("bob").await?,
        id("charlie").await?,
    );
    let now = now_ms();

    if rooms::room_named(db, "Lobby").await?.is_none() {
        let (room, _) =
            rooms::create_room(db, "Lobby", "Say hello to everyone", false, admin_id, now).await?;
        let audit = Audit::new(room.id, admin_id, "channel_created", now).detail("random");
        rooms::create_channel(db, room.id, "random", "Anything goes", false, audit).await?;
        for user in [alice, bob, charlie] {
            let audit = Audit::new(room.id, user, "member_joined", now).target(user);
            rooms::add_member(db, room.id, user, Role::Member, audit).await?;
        }
        created.push("room Lobby".into());
    }
    if rooms::room_named(db, "Project X").await?.is_none() {
        let (room, _) =
            rooms::create_room(db, "Project X", "Private project room", true, alice, now).await?;
        for (user, role) in [(bob, Role::Admin), (charlie, Role::Member)] {
            let audit = Audit::new(room.id, alice, "member_added", now).target(user);
            rooms::add_member(db, room.id, user, role, audit).await?;
        }
        let audit = Audit::new(room.id, alice, "channel_created", now).detail("secrets");
        rooms::create_channel(db, room.id, "secrets", "End-to-end encrypted", true, audit).await?;
        created.push("room Project X".into());
    }
    Ok(created)
}
