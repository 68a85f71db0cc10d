//! Demo data for `securechat init-db --demo`: the seed's default users.
//! Idempotent: existing accounts are left as they are.

use anyhow::bail;

use crate::auth::{admin, store, validate};
use crate::config::AppEnv;
use crate::storage::Db;

/// The seed's demo accounts: (username, password, site admin).
pub const DEMO_USERS: [(&str, &str, bool); 4] = [
    ("admin", "admin123", true),
    ("alice", "password123", false),
    ("bob", "password456", false),
    ("charlie", "password789", false),
];

/// Creates whichever demo users are missing. Refused in production, where
/// well-known passwords would be an open door.
pub async fn create(db: &Db, env: AppEnv) -> anyhow::Result<Vec<&'static str>> {
    if env == AppEnv::Production {
        bail!("demo data is refused when APP_ENV=production (it has well-known passwords)");
    }
    let mut created = Vec::new();
    for (username, password, is_admin) in DEMO_USERS {
        let key = validate::username_key(username);
        if store::user_by_key(db, &key).await?.is_none() {
            admin::add_user(db, username, password, is_admin).await?;
            created.push(username);
        }
    }
    Ok(created)
}
