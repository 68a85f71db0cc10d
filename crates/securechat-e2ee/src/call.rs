//! The machine's operations by name, with JSON in and out.
//!
//! This is the boundary the browser crosses through WebAssembly, and the
//! form of the lying-server scenarios, which therefore run the same rules
//! natively (`cargo test`) and in the WASM build (Node).

use std::collections::BTreeMap;

use securechat_crypto::{Action, Role};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Refusal, Result};
use crate::keys::{ChannelFacts, ShareFacts};
use crate::log::{MemberFact, RoomFacts};
use crate::machine::Machine;
use crate::messages::{MessageFacts, SealAs};
use crate::state::KeyRequest;

fn input<T: DeserializeOwned>(value: &Value) -> Result<T> {
    T::deserialize(value).map_err(|e| Refusal::BadInput(e.to_string()))
}

#[derive(Deserialize)]
struct Bundle {
    user_id: i64,
    public_key: String,
    #[serde(default)]
    history: Vec<String>,
}

#[derive(Deserialize)]
struct Entries {
    room_id: i64,
    entries: Vec<String>,
}

#[derive(Deserialize)]
struct MentionArgs {
    room_id: i64,
    /// The sender as the core verified them (`read`'s `sender_id`).
    sender_id: i64,
    text: String,
    /// My username; empty for the sender's own check.
    #[serde(default)]
    username: String,
    /// The room's `everyone_mention_max_members` (null: anyone may).
    #[serde(default)]
    max_members: Option<u64>,
}

#[derive(Deserialize)]
struct StartLog {
    room: RoomFacts,
    members: Vec<MemberFact>,
    now: u64,
}

#[derive(Deserialize)]
struct SignChange {
    room_id: i64,
    entries: Vec<String>,
    op: String,
    #[serde(default)]
    subject: Option<i64>,
    #[serde(default)]
    role: Option<String>,
    now: u64,
}

#[derive(Deserialize)]
struct PlanSend {
    channel: ChannelFacts,
    now: u64,
}

#[derive(Deserialize)]
struct MakeVersion {
    channel: ChannelFacts,
    version: u32,
    entries: Vec<String>,
    #[serde(default)]
    bundles: BTreeMap<i64, String>,
    #[serde(default)]
    prekeys: BTreeMap<i64, Vec<String>>,
    #[serde(default)]
    hint: Option<Vec<i64>>,
    #[serde(default)]
    now: u64,
}

#[derive(Deserialize)]
struct SetUpDevice {
    #[serde(default)]
    device_list: Option<String>,
    now: u64,
}

#[derive(Deserialize)]
struct DeviceListArgs {
    user_id: i64,
    device_list: String,
}

#[derive(Deserialize)]
struct PrekeyArgs {
    user_id: i64,
    prekey: String,
    now: u64,
}

#[derive(Deserialize)]
struct LinkSas {
    approver: String,
}

#[derive(Deserialize)]
struct Offer {
    offer: String,
}

#[derive(Deserialize)]
struct ApproveLink {
    offer: String,
    #[serde(default)]
    device_list: Option<String>,
    #[serde(default)]
    channels: Vec<i64>,
    now: u64,
}

#[derive(Deserialize)]
struct Payload {
    payload: String,
}

#[derive(Deserialize)]
struct RevokeDevice {
    device_id: u64,
    device_list: String,
    now: u64,
}

#[derive(Deserialize)]
struct Now {
    now: u64,
}

#[derive(Deserialize)]
struct Retention {
    now: u64,
    #[serde(default)]
    days: Option<u64>,
}

#[derive(Deserialize)]
struct Version {
    channel_id: i64,
    version: u32,
    #[serde(default)]
    now: u64,
}

#[derive(Deserialize)]
struct AcceptShare {
    share: ShareFacts,
    room_id: i64,
    entries: Vec<String>,
    now: u64,
}

#[derive(Deserialize)]
struct Request {
    channel_id: i64,
    request_id: i64,
}

#[derive(Deserialize)]
struct RequestId {
    request_id: i64,
}

#[derive(Deserialize)]
struct Approve {
    request_id: i64,
    room_id: i64,
    entries: Vec<String>,
    public_key: String,
    /// The prekeys the server serves for the requester's devices.
    #[serde(default)]
    prekeys: Vec<String>,
    /// An older version the approver chose to release (history).
    #[serde(default)]
    version: Option<u32>,
    /// Unix seconds, to check the prekeys' age; needed with `prekeys`.
    #[serde(default)]
    now: Option<u64>,
}

#[derive(Deserialize)]
struct Seal {
    channel_id: i64,
    version: u32,
    text: String,
    #[serde(flatten)]
    what: SealAs,
    now: u64,
}

/// Many messages of one channel read in one call (a page of history being
/// indexed for search): the state is saved once for the page, not once per
/// message.
#[derive(Deserialize)]
struct ReadMany {
    messages: Vec<MessageFacts>,
    encrypted: bool,
}

#[derive(Deserialize)]
struct Read {
    message: MessageFacts,
    encrypted: bool,
}

#[derive(Deserialize)]
struct UserId {
    user_id: i64,
}

#[derive(Deserialize)]
struct Accept {
    user_id: i64,
    fingerprint: String,
}

#[derive(Deserialize)]
struct Published {
    #[serde(default)]
    published: Option<String>,
}

#[derive(Deserialize)]
struct Passphrase {
    #[serde(default)]
    backup: Option<String>,
    /// The passphrase, or the recovery key's words.
    #[serde(default)]
    passphrase: String,
}

#[derive(Deserialize)]
struct Digest {
    digest: String,
}

#[derive(Deserialize)]
struct Rooms {
    rooms: Vec<RoomFacts>,
}

#[derive(Deserialize)]
struct Listed {
    id: i64,
    #[serde(default)]
    is_encrypted: bool,
}

#[derive(Deserialize)]
struct Channels {
    channels: Vec<Listed>,
}

#[derive(Deserialize)]
struct Outbox {
    items: String,
}

#[derive(Deserialize)]
struct Register {
    room_id: i64,
    entries: Vec<String>,
    channel_id: i64,
    now: u64,
}

#[derive(Deserialize)]
struct ChannelId {
    channel_id: i64,
}

#[derive(Deserialize)]
struct SetDisappearing {
    room_id: i64,
    entries: Vec<String>,
    channel_id: i64,
    /// 0 turns the timer off.
    seconds: u32,
    now: u64,
}

#[derive(Deserialize)]
struct ChannelTimer {
    channel_id: i64,
    /// The server's `disappearing_seconds` (null: off).
    #[serde(default)]
    server_seconds: Option<u32>,
}

#[derive(Deserialize)]
struct Expiring {
    id: i64,
    created_at: i64,
    #[serde(default)]
    expires_at: Option<i64>,
}

#[derive(Deserialize)]
struct Expiry {
    channel_id: i64,
    messages: Vec<Expiring>,
}

fn action(op: &str, subject: Option<i64>, role: Option<&str>) -> Result<Action> {
    let subject = || subject.ok_or_else(|| Refusal::BadInput(format!("{op} needs a subject")));
    let role = || {
        role.and_then(Role::parse)
            .ok_or_else(|| Refusal::BadInput(format!("{op} needs a role")))
    };
    Ok(match op {
        "add" => Action::Add {
            subject: subject()?,
            role: role()?,
        },
        "remove" => Action::Remove {
            subject: subject()?,
        },
        "leave" => Action::Leave,
        "join_public" => Action::JoinPublic,
        "set_role" => Action::SetRole {
            subject: subject()?,
            role: role()?,
        },
        other => return Err(Refusal::BadInput(format!("unknown log operation {other}"))),
    })
}

fn out<T: serde::Serialize>(value: T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Refusal::BadInput(e.to_string()))
}

/// Runs operation `op` with `args` (a JSON object) on `machine`; the answer
/// is JSON. Unknown operations and unreadable arguments are
/// [`Refusal::BadInput`].
pub fn call(machine: &mut Machine, op: &str, args: &Value) -> Result<Value> {
    match op {
        "create_identity" => {
            let a: Published = input(args)?;
            out(json!({"public_key": machine.create_identity(a.published.as_deref())?}))
        }
        "start_over" => out(json!({"public_key": machine.start_over()?})),
        "restore_backup" => {
            let a: Passphrase = input(args)?;
            let blob = a
                .backup
                .ok_or_else(|| Refusal::BadInput("no backup".into()))?;
            out(machine.restore_backup(&blob, &a.passphrase)?)
        }
        "create_recovery_key" => out(machine.create_recovery_key()?),
        "seal_backup" => {
            let a: Passphrase = input(args)?;
            out(machine.set_backup_passphrase(&a.passphrase)?)
        }
        "backup_update" => out(json!({"update": machine.backup_update()?})),
        "backup_uploaded" => {
            let a: Digest = input(args)?;
            machine.backup_uploaded(&a.digest);
            out(json!({}))
        }
        "backup_kind" => {
            let a: Passphrase = input(args)?;
            let blob = a
                .backup
                .ok_or_else(|| Refusal::BadInput("no backup".into()))?;
            out(json!({"kind": crate::backup::backup_kind(&blob)?}))
        }
        "test_backup" => {
            let a: Passphrase = input(args)?;
            let blob = a
                .backup
                .ok_or_else(|| Refusal::BadInput("no backup".into()))?;
            out(json!({"opens": machine.test_backup(&blob, &a.passphrase)?}))
        }
        "my_bundle" => {
            let (public_key, fingerprint) = machine.my_bundle()?;
            out(
                json!({"public_key": public_key, "fingerprint": fingerprint, "device": machine.device()}),
            )
        }
        "observe_bundle" => {
            let a: Bundle = input(args)?;
            out(machine.observe_bundle(a.user_id, &a.public_key, &a.history)?)
        }
        "is_pinned" => {
            let a: UserId = input(args)?;
            out(json!({"pinned": machine.is_pinned(a.user_id)}))
        }
        "accept_offered" => {
            let a: Accept = input(args)?;
            let (previous, now) = machine.accept_offered(a.user_id, &a.fingerprint)?;
            out(json!({"previous": previous, "fingerprint": now}))
        }
        "key_changes" => out(machine.key_changes()),
        "safety_number" => {
            let a: UserId = input(args)?;
            out(machine.safety_number(a.user_id)?)
        }
        "unknown_signers" => {
            let a: Entries = input(args)?;
            out(machine.unknown_signers(&a.entries))
        }
        "verify_log" => {
            let a: Entries = input(args)?;
            out(machine.log_view(a.room_id, &a.entries)?)
        }
        "should_start_log" => {
            let room: RoomFacts = input(args)?;
            out(json!({"start": machine.should_start_log(&room)}))
        }
        "start_log" => {
            let a: StartLog = input(args)?;
            out(machine.start_log(&a.room, &a.members, a.now)?)
        }
        "sign_change" => {
            let a: SignChange = input(args)?;
            let action = action(&a.op, a.subject, a.role.as_deref())?;
            out(json!({"entry": machine.sign_change(a.room_id, &a.entries, action, a.now)?}))
        }
        "register_channel" => {
            let a: Register = input(args)?;
            out(
                json!({"entry": machine.register_channel(a.room_id, &a.entries, a.channel_id, a.now)?}),
            )
        }
        "set_disappearing" => {
            let a: SetDisappearing = input(args)?;
            out(
                json!({"entry": machine.set_disappearing(a.room_id, &a.entries, a.channel_id, a.seconds, a.now)?}),
            )
        }
        "channel_timer" => {
            let a: ChannelTimer = input(args)?;
            out(machine.channel_timer(a.channel_id, a.server_seconds))
        }
        "message_expiry" => {
            // Many messages of one channel at once (a page of history).
            let a: Expiry = input(args)?;
            let list: Vec<Value> = a
                .messages
                .iter()
                .map(|m| {
                    let at = machine.message_expiry(a.channel_id, m.created_at, m.expires_at);
                    json!({"id": m.id, "expires_at": at})
                })
                .collect();
            out(list)
        }
        "plan_send" => {
            let a: PlanSend = input(args)?;
            out(machine.plan_send(&a.channel, a.now)?)
        }
        "observe_rooms" => {
            let a: Rooms = input(args)?;
            machine.observe_rooms(&a.rooms);
            out(json!({}))
        }
        "observe_channels" => {
            let a: Channels = input(args)?;
            let listed: Vec<(i64, bool)> =
                a.channels.iter().map(|c| (c.id, c.is_encrypted)).collect();
            out(json!({"downgraded": machine.observe_channels(&listed)}))
        }
        "note_encrypted" => {
            let a: ChannelId = input(args)?;
            machine.note_encrypted(a.channel_id);
            out(json!({}))
        }
        "make_version" => {
            let a: MakeVersion = input(args)?;
            out(machine.make_version(
                &a.channel,
                a.version,
                &a.entries,
                &a.bundles,
                &a.prekeys,
                a.hint.as_deref(),
                a.now,
            )?)
        }
        "set_up_device" => {
            let a: SetUpDevice = input(args)?;
            out(machine.set_up_device(a.device_list.as_deref(), a.now)?)
        }
        "observe_device_list" => {
            let a: DeviceListArgs = input(args)?;
            out(machine.observe_device_list(a.user_id, &a.device_list)?)
        }
        "prekey_to_seal_to" => {
            let a: PrekeyArgs = input(args)?;
            let prekey = machine.prekey_to_seal_to(a.user_id, &a.prekey, a.now)?;
            out(json!({"device_id": prekey.device_id(), "prekey_id": prekey.prekey_id()}))
        }
        "rotate_prekey" => {
            let a: Now = input(args)?;
            out(json!({"prekey": machine.rotate_prekey(a.now)?}))
        }
        "retire_prekeys" => out(json!({"retired": machine.retire_prekeys()})),
        "device_id" => out(json!({"device_id": machine.device_id()})),
        "search_index_key" => out(json!({"key": machine.search_index_key()?})),
        "held_channels" => out(machine.state().channel_keys.keys().collect::<Vec<_>>()),
        "forget_old_keys" => {
            let a: Retention = input(args)?;
            let days = a.days.unwrap_or(crate::DEFAULT_KEY_RETENTION_DAYS);
            out(json!({"forgotten": machine.forget_old_keys(a.now, days)}))
        }
        "current_prekey" => {
            let current = machine.my_prekeys()?.pop();
            out(json!({"prekey": current.map(|p| p.public().to_wire())}))
        }
        "revoke_device" => {
            let a: RevokeDevice = input(args)?;
            out(json!({"device_list": machine.revoke_device(a.device_id, &a.device_list, a.now)?}))
        }
        "channels_to_rotate" => out(machine.channels_to_rotate()),
        "start_link" => out(json!({"offer": machine.start_link()?})),
        "link_sas" => {
            let a: LinkSas = input(args)?;
            out(json!({"sas": machine.link_sas(&a.approver)?}))
        }
        "answer_link" => {
            let a: Offer = input(args)?;
            out(machine.answer_link(&a.offer)?)
        }
        "approve_link" => {
            let a: ApproveLink = input(args)?;
            out(machine.approve_link(&a.offer, a.device_list.as_deref(), &a.channels, a.now)?)
        }
        "finish_link" => {
            let a: Payload = input(args)?;
            out(machine.finish_link(&a.payload)?)
        }
        "confirm_version" => {
            let a: Version = input(args)?;
            machine.confirm_version(a.channel_id, a.version, a.now)?;
            out(json!({}))
        }
        "abandon_version" => {
            let a: Version = input(args)?;
            machine.abandon_version(a.channel_id, a.version);
            out(json!({}))
        }
        "has_key" => {
            let a: Version = input(args)?;
            out(json!({"held": machine.channel_key(a.channel_id, a.version).is_ok()}))
        }
        "accept_share" => {
            let a: AcceptShare = input(args)?;
            out(machine.accept_share(&a.share, a.room_id, &a.entries, a.now)?)
        }
        "record_request" => {
            let a: Request = input(args)?;
            machine.record_request(a.channel_id, a.request_id);
            out(json!({}))
        }
        "has_requested" => {
            let a: ChannelId = input(args)?;
            out(json!({"requested": machine.has_requested(a.channel_id)}))
        }
        "queue_request" => {
            let request: KeyRequest = input(args)?;
            machine.queue_request(request);
            out(json!({}))
        }
        "pending_requests" => out(machine.pending_requests()),
        "dismiss_request" => {
            let a: RequestId = input(args)?;
            machine.dismiss_request(a.request_id);
            out(json!({}))
        }
        "approve_request" => {
            let a: Approve = input(args)?;
            if a.now.is_none() && !a.prekeys.is_empty() {
                return Err(Refusal::BadInput(
                    "approve_request needs `now` to check the prekeys".into(),
                ));
            }
            out(machine.approve_request(
                a.request_id,
                a.room_id,
                &a.entries,
                &a.public_key,
                &a.prekeys,
                a.version,
                a.now.unwrap_or(0),
            )?)
        }
        "mention" => {
            let a: MentionArgs = input(args)?;
            out(machine.mention(a.room_id, a.sender_id, &a.text, &a.username, a.max_members))
        }
        "seal" => {
            let a: Seal = input(args)?;
            out(
                json!({"envelope": machine.seal(a.channel_id, a.version, &a.text, &a.what, a.now)?}),
            )
        }
        "keep_outbox" => {
            let a: Outbox = input(args)?;
            machine.keep_outbox(&a.items)?;
            out(json!({}))
        }
        "outbox" => out(json!({"items": machine.outbox()?})),
        "read" => {
            let a: Read = input(args)?;
            out(machine.read(&a.message, a.encrypted))
        }
        "read_many" => {
            let a: ReadMany = input(args)?;
            let shown: Vec<_> = a
                .messages
                .iter()
                .map(|m| machine.read(m, a.encrypted))
                .collect();
            out(shown)
        }
        other => Err(Refusal::BadInput(format!("unknown operation {other}"))),
    }
}
