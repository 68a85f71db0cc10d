//! `/api/admin/…` for the site: invitation links, the registration mode,
//! rooms, the audit log across rooms and the server's status; and the
//! public `GET /api/auth/registration` the sign-up page reads.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::mode::RegistrationMode;
use super::store::{self, AuditRow, InviteRow, SiteAudit};
use super::{SiteAdmin, registration_mode, token_hash};
use crate::auth::token;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, Success};
use crate::rooms::events::RoomEvent;
use crate::rooms::store::{self as rooms, Audit};
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// The longest an invitation may last: 90 days.
const MAX_INVITE_HOURS: i64 = 90 * 24;
/// The most accounts one invitation may make.
const MAX_INVITE_USES: i64 = 1000;

/// The routes of this file.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(get_settings, update_settings))
        .routes(routes!(registration_info))
        .routes(routes!(list_rooms))
        .routes(routes!(delete_room))
        .routes(routes!(list_audit))
        .routes(routes!(status))
}

/// The page size asked for, 1-200 (default 50).
fn page_size(limit: Option<i64>) -> i64 {
    limit.unwrap_or(50).clamp(1, 200)
}

/// The last key of a full page, to ask for the next one.
fn next_key<T>(rows: &[T], limit: i64, key: impl Fn(&T) -> i64) -> Option<i64> {
    (rows.len() == usize::try_from(limit).unwrap_or(0))
        .then(|| rows.last().map(key))
        .flatten()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BeforeQuery {
    /// Entries with an id below this one (for the next page).
    pub before: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

/// An invitation link (its token is shown only when created).
#[derive(Serialize, ToSchema)]
pub struct Invitation {
    pub id: i64,
    pub created_by: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub max_uses: i64,
    pub uses: i64,
    pub revoked: bool,
    /// Still admits someone: not revoked, expired or used up.
    pub usable: bool,
}

impl Invitation {
    fn of(row: &InviteRow, now: i64) -> Self {
        Self {
            id: row.id,
            created_by: row.creator_username.clone(),
            created_at: rfc3339(row.created_at),
            expires_at: rfc3339(row.expires_at),
            max_uses: row.max_uses,
            uses: row.uses,
            revoked: row.revoked,
            usable: !row.revoked && row.expires_at > now && row.uses < row.max_uses,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvitationPage {
    pub success: bool,
    /// Newest first.
    pub invitations: Vec<Invitation>,
    /// Pass as `before` for the next page; null at the end.
    pub next_before: Option<i64>,
}

/// Invitation links, newest first, keyset-paginated.
#[utoipa::path(get, path = "/api/admin/invitations", operation_id = "admin_list_invitations", tag = "admin",
    params(BeforeQuery),
    responses((status = 200, body = InvitationPage),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)")))]
async fn list_invitations(
    State(state): State<AppState>,
    _admin: SiteAdmin,
    ApiQuery(query): ApiQuery<BeforeQuery>,
) -> Result<axum::Json<InvitationPage>, Error> {
    let limit = page_size(query.limit);
    let rows = store::invites_page(&state.db, query.before.unwrap_or(i64::MAX), limit).await?;
    let now = now_ms();
    Ok(axum::Json(InvitationPage {
        success: true,
        next_before: next_key(&rows, limit, |r| r.id),
        invitations: rows.iter().map(|r| Invitation::of(r, now)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewInvitation {
    /// Hours until the link stops working, 1-2160 (90 days).
    #[schema(minimum = 1, maximum = 2160)]
    pub expires_in_hours: i64,
    /// Accounts the link may create, 1-1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_uses: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInvitation {
    pub success: bool,
    pub invitation: Invitation,
    /// The token; shown once, stored only as a hash.
    pub token: String,
    /// Where to send people: `/register?invite=…`.
    pub path: String,
}

/// Makes an invitation link with an expiry and a number of uses.
#[utoipa::path(post, path = "/api/admin/invitations", operation_id = "admin_create_invitation", tag = "admin",
    request_body = NewInvitation,
    responses((status = 201, body = CreatedInvitation),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 422, body = ErrorBody, description = "Expiry or uses out of range (`invalid_invitation`)")))]
async fn create_invitation(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<(StatusCode, axum::Json<CreatedInvitation>), Error> {
    if !(1..=MAX_INVITE_HOURS).contains(&body.expires_in_hours)
        || !(1..=MAX_INVITE_USES).contains(&body.max_uses)
    {
        return Err(Error::unprocessable(
            "invalid_invitation",
            "An invitation lasts 1 hour to 90 days and admits 1 to 1000 people",
        ));
    }
    let secret = token::new_token();
    let now = now_ms();
    let expires_at = now + body.expires_in_hours * 3_600_000;
    let audit = SiteAudit::new(Some(admin.id), "invitation_created", now);
    let id = store::create_invite(
        &state.db,
        &token_hash(&secret),
        expires_at,
        body.max_uses,
        audit,
    )
    .await?;
    let row = InviteRow {
        id,
        creator_username: Some(admin.username.clone()),
        created_at: now,
        expires_at,
        max_uses: body.max_uses,
        uses: 0,
        revoked: false,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedInvitation {
            success: true,
            invitation: Invitation::of(&row, now),
            path: format!("/register?invite={}", secret.as_str()),
            token: secret.to_string(),
        }),
    ))
}

/// Revokes an invitation link: it admits nobody from now on.
#[utoipa::path(delete, path = "/api/admin/invitations/{id}", operation_id = "admin_revoke_invitation", tag = "admin",
    params(("id" = i64, Path, description = "Invitation id")),
    responses((status = 200, body = Success),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody)))]
async fn revoke_invitation(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    let audit = SiteAudit::new(Some(admin.id), "invitation_revoked", now_ms())
        .detail(format!("invitation {id}"));
    if !store::revoke_invite(&state.db, id, audit).await? {
        return Err(Error::not_found(
            "invitation_not_found",
            "No such invitation",
        ));
    }
    Ok(axum::Json(Success::new()))
}

#[derive(Serialize, ToSchema)]
pub struct SiteSettings {
    pub success: bool,
    /// The mode in force.
    pub registration_mode: RegistrationMode,
    /// `REGISTRATION_MODE`: what holds when the Admin page sets nothing.
    pub registration_mode_default: RegistrationMode,
    /// The mode in force was set from the Admin page (it overrides the
    /// environment).
    pub registration_mode_overridden: bool,
}

async fn settings(state: &AppState) -> Result<SiteSettings, Error> {
    let stored = store::setting(&state.db, store::REGISTRATION_MODE)
        .await?
        .as_deref()
        .and_then(RegistrationMode::parse);
    Ok(SiteSettings {
        success: true,
        registration_mode: stored.unwrap_or(state.registration_default),
        registration_mode_default: state.registration_default,
        registration_mode_overridden: stored.is_some(),
    })
}

/// The site's settings: the registration mode in force and its default.
#[utoipa::path(get, path = "/api/admin/settings", operation_id = "admin_get_settings", tag = "admin",
    responses((status = 200, body = SiteSettings),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)")))]
async fn get_settings(
    State(state): State<AppState>,
    _admin: SiteAdmin,
) -> Result<axum::Json<SiteSettings>, Error> {
    Ok(axum::Json(settings(&state).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SettingsChange {
    /// The registration mode; null goes back to `REGISTRATION_MODE`.
    pub registration_mode: Option<RegistrationMode>,
}

/// Sets the registration mode (overriding `REGISTRATION_MODE`), or with
/// null goes back to the environment's.
#[utoipa::path(put, path = "/api/admin/settings", operation_id = "admin_update_settings", tag = "admin",
    request_body = SettingsChange,
    responses((status = 200, body = SiteSettings),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)")))]
async fn update_settings(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiJson(body): ApiJson<SettingsChange>,
) -> Result<axum::Json<SiteSettings>, Error> {
    let value = body.registration_mode.map(RegistrationMode::as_str);
    let audit = SiteAudit::new(Some(admin.id), "registration_mode_set", now_ms())
        .detail(value.unwrap_or("default"));
    store::set_setting(&state.db, store::REGISTRATION_MODE, value, audit).await?;
    Ok(axum::Json(settings(&state).await?))
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationInfo {
    pub success: bool,
    /// Who may register now.
    pub mode: RegistrationMode,
}

/// Who may register (for the sign-up page): open, invite only or closed.
#[utoipa::path(get, path = "/api/auth/registration", operation_id = "registration_info", tag = "auth",
    responses((status = 200, body = RegistrationInfo)))]
async fn registration_info(
    State(state): State<AppState>,
) -> Result<axum::Json<RegistrationInfo>, Error> {
    Ok(axum::Json(RegistrationInfo {
        success: true,
        mode: registration_mode(&state).await?,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AfterQuery {
    /// Rooms with an id above this one (for the next page).
    pub after: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

/// A room with its owner and size (metadata only, never messages).
#[derive(Serialize, ToSchema)]
pub struct AdminRoom {
    pub id: i64,
    pub name: String,
    pub is_private: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub owner_id: Option<i64>,
    pub owner_username: Option<String>,
    pub members: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RoomPage {
    pub success: bool,
    /// By id.
    pub rooms: Vec<AdminRoom>,
    /// Pass as `after` for the next page; null at the end.
    pub next_after: Option<i64>,
}

/// Every room (not DMs) with its owner and size, by id, keyset-paginated.
#[utoipa::path(get, path = "/api/admin/rooms", operation_id = "admin_list_rooms", tag = "admin",
    params(AfterQuery),
    responses((status = 200, body = RoomPage),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)")))]
async fn list_rooms(
    State(state): State<AppState>,
    _admin: SiteAdmin,
    ApiQuery(query): ApiQuery<AfterQuery>,
) -> Result<axum::Json<RoomPage>, Error> {
    let limit = page_size(query.limit);
    let rows = store::rooms_page(&state.db, query.after.unwrap_or(0), limit).await?;
    Ok(axum::Json(RoomPage {
        success: true,
        next_after: next_key(&rows, limit, |r| r.id),
        rooms: rows
            .iter()
            .map(|r| AdminRoom {
                id: r.id,
                name: r.name.clone(),
                is_private: r.is_private,
                created_at: rfc3339(r.created_at),
                owner_id: r.owner_id,
                owner_username: r.owner_username.clone(),
                members: r.members,
            })
            .collect(),
    }))
}

/// Deletes a room with its channels, messages and memberships.
#[utoipa::path(delete, path = "/api/admin/rooms/{id}", operation_id = "admin_delete_room", tag = "admin",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Success),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody)))]
async fn delete_room(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    let room = rooms::room(&state.db, id)
        .await?
        .filter(|r| r.kind == "room")
        .ok_or_else(|| Error::not_found("room_not_found", "No such room"))?;
    let now = now_ms();
    let audit = Audit::new(id, admin.id, "room_deleted", now).detail(&room.name);
    let (channel_ids, member_ids) = rooms::delete_room(&state.db, id, audit).await?;
    let site = SiteAudit::new(Some(admin.id), "room_deleted", now).detail(room.name);
    store::record(&state.db, site).await?;
    state.events.publish(RoomEvent::RoomDeleted {
        room_id: id,
        channel_ids,
        member_ids,
    });
    Ok(axum::Json(Success::new()))
}

#[derive(Deserialize, Clone, Copy, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditScope {
    /// Every room's audit log.
    #[default]
    Rooms,
    /// Site administration (accounts, invitations, settings).
    Site,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `rooms` (default) or `site`.
    #[param(inline)]
    pub scope: Option<AuditScope>,
    /// Entries with an id below this one (for the next page).
    pub before: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// Null for site administration.
    pub room_id: Option<i64>,
    pub room_name: Option<String>,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub action: String,
    pub target_user_id: Option<i64>,
    pub target_username: Option<String>,
    pub detail: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl From<&AuditRow> for AuditEntry {
    fn from(a: &AuditRow) -> Self {
        Self {
            id: a.id,
            room_id: a.room_id,
            room_name: a.room_name.clone(),
            actor_id: a.actor_id,
            actor_username: a.actor_username.clone(),
            action: a.action.clone(),
            target_user_id: a.target_user_id,
            target_username: a.target_username.clone(),
            detail: a.detail.clone(),
            created_at: rfc3339(a.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub success: bool,
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next page; null at the end.
    pub next_before: Option<i64>,
}

/// The audit log across every room, or of site administration, newest
/// first, keyset-paginated.
#[utoipa::path(get, path = "/api/admin/audit", operation_id = "admin_list_audit", tag = "admin",
    params(AuditQuery),
    responses((status = 200, body = AuditPage),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)")))]
async fn list_audit(
    State(state): State<AppState>,
    _admin: SiteAdmin,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<axum::Json<AuditPage>, Error> {
    let limit = page_size(query.limit);
    let before = query.before.unwrap_or(i64::MAX);
    let rows = match query.scope.unwrap_or_default() {
        AuditScope::Rooms => store::room_audit_page(&state.db, before, limit).await?,
        AuditScope::Site => store::site_audit_page(&state.db, before, limit).await?,
    };
    Ok(axum::Json(AuditPage {
        success: true,
        next_before: next_key(&rows, limit, |r| r.id),
        entries: rows.iter().map(AuditEntry::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ServerStatus {
    pub success: bool,
    /// This build's version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Live nodes of the cluster (`REDIS_URL`); 1 for a single server.
    pub nodes: i64,
    /// Whether this node is one of a cluster.
    pub clustered: bool,
    /// Socket.IO connections open on this node.
    pub connections: i64,
    pub users: i64,
    pub disabled_users: i64,
    /// Enabled site administrators.
    pub admins: i64,
    pub rooms: i64,
}

/// The server's version, database, nodes, connections and sizes.
#[utoipa::path(get, path = "/api/admin/status", operation_id = "admin_status", tag = "admin",
    responses((status = 200, body = ServerStatus),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)")))]
async fn status(
    State(state): State<AppState>,
    _admin: SiteAdmin,
) -> Result<axum::Json<ServerStatus>, Error> {
    let counts = store::counts(&state.db).await?;
    let (nodes, clustered) = match state.cluster.get() {
        Some(cluster) => match cluster.node_count().await {
            Ok(n) => (n, true),
            Err(e) => {
                tracing::warn!(error = %e, "cannot count the cluster's nodes");
                (0, true)
            }
        },
        None => (1, false),
    };
    Ok(axum::Json(ServerStatus {
        success: true,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: state.db.engine().to_owned(),
        nodes,
        clustered,
        connections: crate::metrics::get().sockets.get(),
        users: counts.users,
        disabled_users: counts.disabled_users,
        admins: counts.admins,
        rooms: counts.rooms,
    }))
}
