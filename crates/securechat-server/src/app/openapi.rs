//! The OpenAPI document's frame. Paths and schemas come from the handlers'
//! `#[utoipa::path]` annotations, collected as the routers are merged, so
//! the document cannot drift from the routes.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::http::MAX_JSON_BODY;

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
        (name = "threads", description = "Thread replies' history, follows, per-thread read markers and the list of followed threads (ids only: encrypted channels too)"),
        (name = "pins", description = "Pinned messages of a channel and each person's saved messages (ids only: encrypted channels too)"),
        (name = "retention", description = "How long a room keeps messages, and disappearing messages per channel"),
        (name = "search", description = "Full-text search over the plaintext messages the caller can read"),
        (name = "keys", description = "End-to-end encryption keys (stored, never usable by the server)"),
        (name = "devices", description = "A person's signed device list, device prekeys and each device's key-share mailbox"),
        (name = "files", description = "Uploads and downloads (ciphertext only in encrypted channels)"),
        (name = "resources", description = "Shared links and documents of a room"),
        (name = "push", description = "Web Push: subscriptions, the VAPID key and notification settings"),
        (name = "email", description = "Email digests of missed messages: the address, its verification, unsubscribing"),
        (name = "profiles", description = "Display names, statuses, availability and avatars"),
        (name = "admin", description = "The admin console (site administrators only): accounts, invitations, the registration mode, rooms, the audit log across rooms, server status"),
        (name = "bots", description = "Bot accounts of a room: API tokens scoped to rooms, revocable"),
        (name = "commands", description = "Registered slash commands of a room, and running them in plaintext channels"),
        (name = "reminders", description = "One's own reminders of a channel at a time (`/remind`), delivered as `reminder_due`"),
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

/// The operations anyone may call; every other one needs a session.
/// (An incoming webhook's URL is its own credential.)
const PUBLIC: [&str; 14] = [
    "register",
    "login",
    "registration_info",
    "redeem_password_reset",
    "auth_options",
    "oidc_login",
    "oidc_callback",
    "oidc_second_factor",
    "passkey_sign_in_begin",
    "passkey_sign_in_finish",
    "passkey_second_factor_begin",
    "unsubscribe_page",
    "unsubscribe",
    "post_webhook_message",
];

/// The operations open to a signed-in person whom `TWO_FACTOR_REQUIRED`
/// holds at enrolment (they take `EnrollingUser`); every other one that
/// needs a session may answer 403 `second_factor_enrolment_required`.
const ENROLMENT_OPEN: [&str; 8] = [
    "me",
    "logout",
    "logout_all",
    "two_factor_status",
    "totp_setup",
    "totp_enable",
    "totp_disable",
    "new_recovery_codes",
];

/// Completes the merged document with what every operation shares rather
/// than what its handler declares: the session requirement (cookie or
/// bearer token) and its 401 on all but [`PUBLIC`], and the answers of the
/// extractors and middleware: `invalid_path`, `invalid_query`, the JSON
/// body's 400, 413, 415 and 422, and the 403 for cross-site writes.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, true),
            (&mut item.head, true),
            (&mut item.options, true),
            (&mut item.put, false),
            (&mut item.post, false),
            (&mut item.patch, false),
            (&mut item.delete, false),
            (&mut item.trace, true),
        ];
        for (operation, safe) in operations {
            if let Some(operation) = operation {
                complete_operation(operation, safe);
            }
        }
    }
}

fn complete_operation(op: &mut Operation, safe: bool) {
    let public = op
        .operation_id
        .as_deref()
        .is_some_and(|id| PUBLIC.contains(&id));
    if !public {
        op.security = Some(vec![
            SecurityRequirement::new("cookie", Vec::<String>::new()),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
        add(
            op,
            "401",
            "not signed in, or the session has ended (`unauthenticated`)",
        );
        let enrolment_open = op
            .operation_id
            .as_deref()
            .is_some_and(|id| ENROLMENT_OPEN.contains(&id));
        if !enrolment_open {
            add(
                op,
                "403",
                "the site requires a second factor of the caller, who has not turned TOTP on yet (`second_factor_enrolment_required`)",
            );
        }
    }
    let has_param = |op: &Operation, place: ParameterIn| {
        op.parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    if has_param(op, ParameterIn::Path) {
        add(
            op,
            "400",
            "a path parameter is not a valid id (`invalid_path`)",
        );
    }
    if has_param(op, ParameterIn::Query) {
        add(
            op,
            "400",
            "a query parameter has the wrong type (`invalid_query`)",
        );
    }
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    if json_body {
        add(
            op,
            "400",
            "the body is empty or not well-formed JSON (`malformed_json`)",
        );
        add(
            op,
            "413",
            &format!(
                "the body is larger than {} KiB (`payload_too_large`)",
                MAX_JSON_BODY / 1024
            ),
        );
        add(
            op,
            "415",
            "the body is not sent as `Content-Type: application/json` (`unsupported_media_type`)",
        );
        add(
            op,
            "422",
            "the body is not a JSON object of the documented shape (`invalid_body`)",
        );
    }
    if !safe {
        add(
            op,
            "403",
            "a browser marked the request as cross-site (`cross_site_request`)",
        );
    }
}

/// Documents one more reason for `status`: a new error response, or a
/// sentence added to the description of the one the handler declared.
fn add(op: &mut Operation, status: &str, reason: &str) {
    let responses = &mut op.responses.responses;
    match responses.get_mut(status) {
        Some(RefOr::T(response)) => {
            let Response { description, .. } = response;
            if description.is_empty() {
                description.push_str(&capitalized(reason));
            } else if !description.contains(reason) {
                description.push_str("; or ");
                description.push_str(reason);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let body = ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build();
            let response = ResponseBuilder::new()
                .description(capitalized(reason))
                .content("application/json", body)
                .build();
            responses.insert(status.to_owned(), RefOr::T(response));
        }
    }
}

fn capitalized(reason: &str) -> String {
    let mut chars = reason.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
