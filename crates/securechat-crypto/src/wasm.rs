//! The JavaScript API (wasm-bindgen, `--target web`).
//!
//! A thin typed layer over the Rust API: objects cross the boundary as the
//! same base64url wire strings the server stores, secrets stay inside WASM
//! memory in [`WasmIdentity`] (call `free()` when done) or travel as the
//! exported strings the page keeps in IndexedDB. User, channel and room ids
//! are JavaScript numbers and must be safe integers. Errors are thrown as
//! `Error` objects whose `code` property is [`Error::code`].

use wasm_bindgen::prelude::*;

use crate::membership::{Action, KeyRing, MembershipEntry, MembershipLog, Role};
use crate::{
    Backup, ChannelKey, Envelope, Error, ForwardSecrecyPolicy, Identity, MessageBinding,
    MessageKind, PublicBundle, SafetyNumber, SealedShare, SendCounter, ShareContext, SharePurpose,
};

/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn js_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}

fn err(e: Error) -> JsValue {
    js_error(e.code(), &e.to_string())
}

fn id(value: f64) -> Result<i64, JsValue> {
    if value.fract() != 0.0 || !(-MAX_SAFE..=MAX_SAFE).contains(&value) {
        return Err(js_error("invalid_argument", "ids must be safe integers"));
    }
    // Exact: the value is an integer within ±2^53.
    Ok(value as i64)
}

fn unsigned(value: f64) -> Result<u64, JsValue> {
    if value.fract() != 0.0 || !(0.0..=MAX_SAFE).contains(&value) {
        return Err(js_error(
            "invalid_argument",
            "timestamps must be non-negative safe integers",
        ));
    }
    Ok(value as u64)
}

fn purpose(name: &str, request_id: Option<f64>) -> Result<SharePurpose, JsValue> {
    match (name, request_id) {
        ("initial", None) => Ok(SharePurpose::Initial),
        ("rotation", None) => Ok(SharePurpose::Rotation),
        ("request", Some(r)) => Ok(SharePurpose::Request { request_id: id(r)? }),
        _ => Err(js_error(
            "invalid_argument",
            "purpose is initial, rotation, or request with a request id",
        )),
    }
}

fn role(name: &str) -> Result<Role, JsValue> {
    Role::parse(name).ok_or_else(|| js_error("invalid_argument", "role is owner, admin or member"))
}

/// A user's secret identity, held in WASM memory.
#[wasm_bindgen(js_name = Identity)]
pub struct WasmIdentity(Identity);

#[wasm_bindgen(js_class = Identity)]
impl WasmIdentity {
    /// Generates a fresh identity for `userId`.
    pub fn generate(user_id: f64) -> Result<WasmIdentity, JsValue> {
        Identity::generate(id(user_id)?)
            .map(WasmIdentity)
            .map_err(err)
    }

    /// Restores an identity from [`WasmIdentity::export`].
    pub fn import(exported: &str) -> Result<WasmIdentity, JsValue> {
        Identity::import(exported).map(WasmIdentity).map_err(err)
    }

    /// The secret export string (store locally only).
    pub fn export(&self) -> String {
        self.0.export().to_string()
    }

    /// The user id.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn user_id(&self) -> f64 {
        self.0.user_id() as f64
    }

    /// The public bundle to publish as `public_key`.
    pub fn bundle(&self) -> String {
        self.0.bundle().to_wire()
    }
}

/// Verifies `bundle` (self-signature, bound to `userId`) and returns its
/// fingerprint (base64url), the value to pin.
#[wasm_bindgen(js_name = bundleFingerprint)]
pub fn bundle_fingerprint(bundle: &str, user_id: f64) -> Result<String, JsValue> {
    let b = PublicBundle::parse_for(bundle, id(user_id)?).map_err(err)?;
    Ok(crate::encoding::to_wire(&b.fingerprint()))
}

/// A fresh channel key (secret; store locally only).
#[wasm_bindgen(js_name = generateChannelKey)]
pub fn generate_channel_key() -> Result<String, JsValue> {
    Ok(ChannelKey::generate().map_err(err)?.export().to_string())
}

/// The claimed header of a share (unauthenticated until opened).
#[wasm_bindgen(getter_with_clone)]
pub struct ShareInfo {
    /// The channel.
    #[wasm_bindgen(js_name = channelId)]
    pub channel_id: f64,
    /// The key version.
    #[wasm_bindgen(js_name = keyVersion)]
    pub key_version: u32,
    /// The sender.
    #[wasm_bindgen(js_name = senderId)]
    pub sender_id: f64,
    /// The recipient.
    #[wasm_bindgen(js_name = recipientId)]
    pub recipient_id: f64,
    /// `initial`, `rotation` or `request`.
    pub purpose: String,
    /// The request answered, for `request`.
    #[wasm_bindgen(js_name = requestId)]
    pub request_id: Option<f64>,
    /// The seed's `is_key_rotation`.
    #[wasm_bindgen(js_name = isKeyRotation)]
    pub is_key_rotation: bool,
    /// The share format (1 or 2).
    pub format: u8,
    /// The room (format 2).
    #[wasm_bindgen(js_name = roomId)]
    pub room_id: Option<f64>,
    /// The membership-log seq the version was made at (format 2).
    #[wasm_bindgen(js_name = logSeq)]
    pub log_seq: Option<f64>,
}

/// Seals `channelKey` to the holder of `recipientBundle` (the
/// `encrypted_key`): format 2 when `roomId` is given (with `logSeq`, 0 if
/// absent), else format 1.
#[wasm_bindgen(js_name = sealShare)]
#[allow(clippy::too_many_arguments)]
pub fn seal_share(
    sender: &WasmIdentity,
    recipient_bundle: &str,
    recipient_id: f64,
    channel_id: f64,
    key_version: u32,
    purpose_name: &str,
    request_id: Option<f64>,
    channel_key: &str,
    room_id: Option<f64>,
    log_seq: Option<f64>,
) -> Result<String, JsValue> {
    let recipient = PublicBundle::parse_for(recipient_bundle, id(recipient_id)?).map_err(err)?;
    let key = ChannelKey::import(channel_key).map_err(err)?;
    let purpose = purpose(purpose_name, request_id)?;
    let share = match room_id {
        Some(room_id) => SealedShare::seal(
            &sender.0,
            &recipient,
            id(room_id)?,
            id(channel_id)?,
            key_version,
            unsigned(log_seq.unwrap_or(0.0))?,
            purpose,
            &key,
        ),
        None => SealedShare::seal_format1(
            &sender.0,
            &recipient,
            id(channel_id)?,
            key_version,
            purpose,
            &key,
        ),
    }
    .map_err(err)?;
    Ok(share.to_wire())
}

/// Reads the claimed header of an `encrypted_key` (to fetch the sender's bundle).
#[wasm_bindgen(js_name = inspectShare)]
pub fn inspect_share(encrypted_key: &str) -> Result<ShareInfo, JsValue> {
    let share = SealedShare::parse(encrypted_key).map_err(err)?;
    let c = share.context();
    let request_id = match c.purpose {
        SharePurpose::Request { request_id } => Some(request_id as f64),
        _ => None,
    };
    Ok(ShareInfo {
        channel_id: c.channel_id as f64,
        key_version: c.key_version,
        sender_id: c.sender_id as f64,
        recipient_id: c.recipient_id as f64,
        purpose: c.purpose.name().to_string(),
        request_id,
        is_key_rotation: c.purpose.is_key_rotation(),
        format: share.format(),
        room_id: share.binding().map(|_| c.room_id as f64),
        log_seq: share.binding().map(|b| b.log_seq as f64),
    })
}

/// Opens an `encrypted_key` sealed to `recipient`, checking it was made by the
/// owner of `senderBundle` for exactly this channel, version and purpose.
/// Returns the channel key export string.
#[wasm_bindgen(js_name = openShare)]
#[allow(clippy::too_many_arguments)]
pub fn open_share(
    recipient: &WasmIdentity,
    encrypted_key: &str,
    sender_bundle: &str,
    sender_id: f64,
    channel_id: f64,
    key_version: u32,
    purpose_name: &str,
    request_id: Option<f64>,
    room_id: Option<f64>,
) -> Result<String, JsValue> {
    let sender_id = id(sender_id)?;
    let sender = PublicBundle::parse_for(sender_bundle, sender_id).map_err(err)?;
    let share = SealedShare::parse(encrypted_key).map_err(err)?;
    let expected = ShareContext {
        room_id: room_id.map(id).transpose()?.unwrap_or(0),
        channel_id: id(channel_id)?,
        key_version,
        sender_id,
        recipient_id: recipient.0.user_id(),
        purpose: purpose(purpose_name, request_id)?,
    };
    let key = share.open(&recipient.0, &sender, &expected).map_err(err)?;
    Ok(key.export().to_string())
}

/// The claimed header of a message envelope.
#[wasm_bindgen]
pub struct MessageInfo {
    /// The channel.
    #[wasm_bindgen(js_name = channelId)]
    pub channel_id: f64,
    /// The key version.
    #[wasm_bindgen(js_name = keyVersion)]
    pub key_version: u32,
    /// The sender.
    #[wasm_bindgen(js_name = senderId)]
    pub sender_id: f64,
    /// The sender's counter.
    pub counter: u32,
}

/// Encrypts and signs a message (bytes; use `TextEncoder` for text): a
/// format-2 chat message of room `roomId` when given, else format 1.
#[wasm_bindgen(js_name = encryptMessage)]
pub fn encrypt_message(
    sender: &WasmIdentity,
    channel_key: &str,
    channel_id: f64,
    key_version: u32,
    counter: u32,
    plaintext: &[u8],
    room_id: Option<f64>,
) -> Result<String, JsValue> {
    let key = ChannelKey::import(channel_key).map_err(err)?;
    let channel_id = id(channel_id)?;
    let env = match room_id {
        Some(room_id) => Envelope::encrypt(
            &sender.0,
            &key,
            channel_id,
            key_version,
            counter,
            &MessageBinding {
                room_id: id(room_id)?,
                kind: MessageKind::Message,
                target_id: 0,
                reply_to: 0,
            },
            plaintext,
        ),
        None => {
            Envelope::encrypt_format1(&sender.0, &key, channel_id, key_version, counter, plaintext)
        }
    }
    .map_err(err)?;
    Ok(env.to_wire())
}

/// Reads the claimed header of an envelope (to pick the key and sender bundle).
#[wasm_bindgen(js_name = inspectMessage)]
pub fn inspect_message(envelope: &str) -> Result<MessageInfo, JsValue> {
    let h = *Envelope::parse(envelope).map_err(err)?.header();
    Ok(MessageInfo {
        channel_id: h.channel_id as f64,
        key_version: h.key_version,
        sender_id: h.sender_id as f64,
        counter: h.counter,
    })
}

/// Verifies and decrypts an envelope expected in `channelId` under `keyVersion`,
/// and applies the default forward-secrecy policy to its counter.
#[wasm_bindgen(js_name = decryptMessage)]
pub fn decrypt_message(
    envelope: &str,
    channel_key: &str,
    sender_bundle: &str,
    channel_id: f64,
    key_version: u32,
) -> Result<Vec<u8>, JsValue> {
    let env = Envelope::parse(envelope).map_err(err)?;
    let sender = PublicBundle::parse_for(sender_bundle, env.header().sender_id).map_err(err)?;
    let key = ChannelKey::import(channel_key).map_err(err)?;
    let plain = env
        .decrypt(&key, &sender, id(channel_id)?, key_version)
        .map_err(err)?;
    ForwardSecrecyPolicy::default()
        .check_received(env.header().counter)
        .map_err(err)?;
    Ok(plain.to_vec())
}

/// Sender side of the forward-secrecy policy: `undefined` if a message with
/// counter `nextCounter` may be sent under a key obtained at `keyObtainedAt`
/// (unix seconds) at time `now`, else the rotation reason (`message_limit`,
/// `key_age`).
#[wasm_bindgen(js_name = sendPolicyCheck)]
pub fn send_policy_check(
    next_counter: u32,
    key_obtained_at: f64,
    now: f64,
) -> Result<Option<String>, JsValue> {
    let mut c = SendCounter {
        key_obtained_at: unsigned(key_obtained_at)?,
        next_counter,
        device: 0,
    };
    match c.next(&ForwardSecrecyPolicy::default(), unsigned(now)?) {
        Ok(_) => Ok(None),
        Err(Error::RotationRequired(reason)) => Ok(Some(reason.as_str().to_string())),
        Err(e) => Err(err(e)),
    }
}

/// The safety number of two users.
#[wasm_bindgen(getter_with_clone)]
pub struct SafetyNumberInfo {
    /// 60 digits.
    pub digits: String,
    /// 60 digits in groups of five.
    pub display: String,
    /// The scannable byte form.
    pub bytes: Vec<u8>,
}

/// Computes the safety number of two verified bundles.
#[wasm_bindgen(js_name = safetyNumber)]
pub fn safety_number(
    bundle_a: &str,
    user_a: f64,
    bundle_b: &str,
    user_b: f64,
) -> Result<SafetyNumberInfo, JsValue> {
    let a = PublicBundle::parse_for(bundle_a, id(user_a)?).map_err(err)?;
    let b = PublicBundle::parse_for(bundle_b, id(user_b)?).map_err(err)?;
    let n = SafetyNumber::compute(&a, &b);
    Ok(SafetyNumberInfo {
        digits: n.digits().to_string(),
        display: n.display(),
        bytes: n.bytes().to_vec(),
    })
}

/// Seals `identity` under `passphrase` (NFC-normalize it first) with the
/// default Argon2id parameters.
#[wasm_bindgen(js_name = sealBackup)]
pub fn seal_backup(identity: &WasmIdentity, passphrase: &str) -> Result<String, JsValue> {
    Ok(Backup::seal(&identity.0, passphrase.as_bytes())
        .map_err(err)?
        .to_wire())
}

/// Restores an identity from a backup blob.
#[wasm_bindgen(js_name = openBackup)]
pub fn open_backup(blob: &str, passphrase: &str) -> Result<WasmIdentity, JsValue> {
    let backup = Backup::parse(blob).map_err(err)?;
    backup
        .open(passphrase.as_bytes())
        .map(WasmIdentity)
        .map_err(err)
}

/// One member of a room.
#[wasm_bindgen(getter_with_clone)]
pub struct Member {
    /// The user.
    #[wasm_bindgen(js_name = userId)]
    pub user_id: f64,
    /// `owner`, `admin` or `member`.
    pub role: String,
}

fn members(map: &std::collections::BTreeMap<i64, Role>) -> Vec<Member> {
    map.iter()
        .map(|(&user_id, role)| Member {
            user_id: user_id as f64,
            role: role.as_str().to_string(),
        })
        .collect()
}

fn key_ring(bundles: Vec<String>) -> Result<KeyRing, JsValue> {
    let parsed = bundles
        .iter()
        .map(|b| PublicBundle::parse(b))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(KeyRing::from_bundles(parsed))
}

/// A verified membership log with the bundles it trusts.
#[wasm_bindgen(js_name = MembershipLog)]
pub struct WasmMembershipLog {
    log: MembershipLog,
    keys: KeyRing,
}

#[wasm_bindgen(js_class = MembershipLog)]
impl WasmMembershipLog {
    /// Starts a room's log; the `create` entry is `entries()[0]`.
    pub fn create(
        owner: &WasmIdentity,
        room_id: f64,
        public: bool,
        timestamp: f64,
    ) -> Result<WasmMembershipLog, JsValue> {
        Ok(WasmMembershipLog {
            log: MembershipLog::create(&owner.0, id(room_id)?, public, unsigned(timestamp)?),
            keys: KeyRing::from_bundles([owner.0.bundle()]),
        })
    }

    /// Verifies a whole log (wire strings) against trusted (pinned) bundles.
    pub fn verify(
        entries: Vec<String>,
        bundles: Vec<String>,
    ) -> Result<WasmMembershipLog, JsValue> {
        let keys = key_ring(bundles)?;
        let log = MembershipLog::verify_wire(&entries, &keys).map_err(err)?;
        Ok(WasmMembershipLog { log, keys })
    }

    /// Trusts one more (pinned) bundle for later entries.
    #[wasm_bindgen(js_name = addBundle)]
    pub fn add_bundle(&mut self, bundle: &str) -> Result<(), JsValue> {
        self.keys.insert(PublicBundle::parse(bundle).map_err(err)?);
        Ok(())
    }

    /// Verifies and appends one received entry.
    pub fn apply(&mut self, entry: &str) -> Result<(), JsValue> {
        let entry = MembershipEntry::parse(entry).map_err(err)?;
        self.log.apply(entry, &self.keys).map_err(err)
    }

    /// Signs and appends an action by `actor`: `op` is `add`, `remove`,
    /// `leave`, `join_public`, `set_role`, `channel` or `disappearing` (the
    /// subject is then a channel id); `role` for `add`/`set_role`; `seconds`
    /// for `disappearing` (0: off).
    /// Returns the entry to send to the server.
    pub fn append(
        &mut self,
        actor: &WasmIdentity,
        op: &str,
        subject_id: Option<f64>,
        role_name: Option<String>,
        timestamp: f64,
        seconds: Option<f64>,
    ) -> Result<String, JsValue> {
        let subject = |s: Option<f64>| {
            s.ok_or_else(|| js_error("invalid_argument", "this operation needs a subject"))
                .and_then(id)
        };
        let role_of = |r: Option<String>| {
            r.ok_or_else(|| js_error("invalid_argument", "this operation needs a role"))
                .and_then(|r| role(&r))
        };
        let action = match op {
            "add" => Action::Add {
                subject: subject(subject_id)?,
                role: role_of(role_name)?,
            },
            "remove" => Action::Remove {
                subject: subject(subject_id)?,
            },
            "leave" => Action::Leave,
            "join_public" => Action::JoinPublic,
            "set_role" => Action::SetRole {
                subject: subject(subject_id)?,
                role: role_of(role_name)?,
            },
            "channel" => Action::RegisterChannel {
                channel: subject(subject_id)?,
            },
            "disappearing" => Action::SetDisappearing {
                channel: subject(subject_id)?,
                seconds: seconds
                    .ok_or_else(|| js_error("invalid_argument", "disappearing needs seconds"))
                    .and_then(unsigned)
                    .and_then(|s| {
                        u32::try_from(s)
                            .map_err(|_| js_error("invalid_argument", "seconds out of range"))
                    })?,
            },
            _ => return Err(js_error("invalid_argument", "unknown operation")),
        };
        self.keys.insert(actor.0.bundle());
        let entry = self
            .log
            .append(&actor.0, action, unsigned(timestamp)?)
            .map_err(err)?;
        Ok(entry.to_wire())
    }

    /// Current members.
    pub fn members(&self) -> Vec<Member> {
        members(self.log.members())
    }

    /// Members right after entry `seq`.
    #[wasm_bindgen(js_name = membersAt)]
    pub fn members_at(&self, seq: f64) -> Result<Vec<Member>, JsValue> {
        let state = self.log.state_at(unsigned(seq)?).map_err(err)?;
        Ok(members(&state.members))
    }

    /// The channels the log registers as encrypted channels of the room.
    pub fn channels(&self) -> Vec<f64> {
        self.log.channels().iter().map(|&c| c as f64).collect()
    }

    /// The disappearing timer the log sets for `channelId`, in seconds (0: off).
    pub fn timer(&self, channel_id: f64) -> Result<f64, JsValue> {
        Ok(f64::from(self.log.state().timer(id(channel_id)?)))
    }

    /// The role of `userId`, or `undefined` if not a member.
    #[wasm_bindgen(js_name = roleOf)]
    pub fn role_of(&self, user_id: f64) -> Result<Option<String>, JsValue> {
        Ok(self
            .log
            .state()
            .role(id(user_id)?)
            .map(|r| r.as_str().to_string()))
    }

    /// The entries as wire strings.
    pub fn entries(&self) -> Vec<String> {
        self.log
            .entries()
            .iter()
            .map(MembershipEntry::to_wire)
            .collect()
    }

    /// The number of entries.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.log.len()).unwrap_or(u32::MAX)
    }

    /// The head hash (base64url), to pin with `length - 1`.
    #[wasm_bindgen(js_name = headHash)]
    pub fn head_hash(&self) -> String {
        crate::encoding::to_wire(&self.log.head_hash())
    }

    /// Throws `log_fork` unless entry `seq` has the pinned hash.
    #[wasm_bindgen(js_name = checkExtends)]
    pub fn check_extends(&self, seq: f64, hash: &str) -> Result<(), JsValue> {
        let bytes = crate::encoding::from_wire(hash).map_err(err)?;
        let pinned: [u8; 32] = bytes
            .try_into()
            .map_err(|_| js_error("invalid_argument", "a head hash is 32 bytes"))?;
        self.log.check_extends(unsigned(seq)?, &pinned).map_err(err)
    }
}

/// A fresh per-file key (base64url; send it inside a message envelope).
#[wasm_bindgen(js_name = generateFileKey)]
pub fn generate_file_key() -> Result<String, JsValue> {
    Ok(crate::file::FileKey::generate()
        .map_err(err)?
        .export()
        .to_string())
}

/// Encrypts a file's bytes under `fileKey` (64 KiB chunks).
#[wasm_bindgen(js_name = encryptFile)]
pub fn encrypt_file(file_key: &str, data: &[u8]) -> Result<Vec<u8>, JsValue> {
    let key = crate::file::FileKey::import(file_key).map_err(err)?;
    crate::file::encrypt(&key, data).map_err(err)
}

/// Decrypts and authenticates a blob made by `encryptFile`.
#[wasm_bindgen(js_name = decryptFile)]
pub fn decrypt_file(file_key: &str, blob: &[u8]) -> Result<Vec<u8>, JsValue> {
    let key = crate::file::FileKey::import(file_key).map_err(err)?;
    Ok(crate::file::decrypt(&key, blob).map_err(err)?.to_vec())
}
