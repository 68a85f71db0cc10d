//! The OpenAPI document's frame. Paths and schemas come from the handlers'
//! `#[utoipa::path]` annotations, collected as the routers are merged, so
//! the document cannot drift from the routes.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Securechat API",
        description = "JSON API of Securechat. Every response has `success`; errors add `message` and `code`.",
        license(name = "MIT")
    ),
    modifiers(&SessionAuth),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "users", description = "Finding people"),
        (name = "rooms", description = "Rooms, DMs and the audit log"),
        (name = "members", description = "Membership, roles and bans"),
        (name = "channels", description = "Channels of a room"),
        (name = "messages", description = "Message history"),
        (name = "keys", description = "End-to-end encryption keys (stored, never usable by the server)"),
        (name = "files", description = "Uploads and downloads (ciphertext only in encrypted channels)"),
        (name = "resources", description = "Shared links and documents of a room"),
    )
)]
pub struct ApiDoc;

/// Declares the two ways to present a session: cookie and bearer token.
struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::session::COOKIE_NAME,
            ))),
        );
    }
}
