//! Socket.IO v5 packets, carried inside Engine.IO `message` packets.
//!
//! Wire format: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`,
//! where the namespace is omitted for `/`. Decoding is strict (unknown
//! types, stray ack ids, trailing bytes and wrongly shaped JSON are errors)
//! and never panics: it is fed whatever the server sends. Binary packets
//! (types 5 and 6) are recognised and rejected with their ack id.
//!
//! The writers append straight into the frame buffer, serializing the
//! payload once, with no intermediate `Value`: emitting is on the load
//! generator's hot path.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::codec_error::PacketError;

/// The default namespace, the only one this client connects to.
pub const DEFAULT_NAMESPACE: &str = "/";

/// One decoded Socket.IO packet. The namespace borrows from the frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Packet<'a> {
    /// The server accepted the connection; `data` is usually `{"sid": …}`.
    Connect {
        namespace: &'a str,
        data: Option<Value>,
    },
    /// The server ended this namespace's connection.
    Disconnect { namespace: &'a str },
    /// A server-sent event; with an `ack_id` the server waits for an answer.
    /// Its arguments are checked to be JSON but kept as text: most events
    /// a client receives are counted, forwarded or dropped, and a value
    /// tree built for each would be work thrown away.
    Event {
        namespace: &'a str,
        ack_id: Option<u64>,
        name: String,
        args: Vec<RawArg>,
    },
    /// The answer to one of our events.
    Ack {
        namespace: &'a str,
        ack_id: u64,
        args: Vec<Value>,
    },
    /// The server refused the connection (e.g. bad credentials).
    ConnectError {
        namespace: &'a str,
        message: String,
        data: Option<Value>,
    },
}

impl Packet<'_> {
    /// The namespace the packet belongs to.
    pub fn namespace(&self) -> &str {
        match self {
            Self::Connect { namespace, .. }
            | Self::Disconnect { namespace }
            | Self::Event { namespace, .. }
            | Self::Ack { namespace, .. }
            | Self::ConnectError { namespace, .. } => namespace,
        }
    }
}

/// Decodes one Socket.IO packet (the data of an Engine.IO `message`).
pub fn decode(text: &str) -> Result<Packet<'_>, PacketError> {
    let Some((&kind, _)) = text.as_bytes().split_first() else {
        return Err(PacketError::Empty);
    };
    // `kind` is checked to be ASCII before any slicing at 1.
    if !(b'0'..=b'6').contains(&kind) {
        return Err(PacketError::UnknownType(kind));
    }
    let mut rest = &text[1..];
    let binary = matches!(kind, b'5' | b'6');
    if binary {
        rest = skip_attachments(rest)?;
    }
    let namespace = match rest.strip_prefix('/') {
        Some(_) => {
            let end = rest.find(',').ok_or(PacketError::UnterminatedNamespace)?;
            let namespace = &rest[..end];
            rest = &rest[end + 1..];
            namespace
        }
        None => DEFAULT_NAMESPACE,
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack_id = if digits == 0 {
        None
    } else {
        let id = rest[..digits]
            .parse::<u64>()
            .map_err(|_| PacketError::AckIdOverflow)?;
        rest = &rest[digits..];
        Some(id)
    };
    if binary {
        // Only a BINARY_ACK's id is ours; a BINARY_EVENT's is the server's.
        let ack_id = if kind == b'6' { ack_id } else { None };
        return Err(PacketError::Binary { ack_id });
    }
    match kind {
        b'0' => {
            no_ack_id(ack_id)?;
            let data = if rest.is_empty() {
                None
            } else {
                match json(rest)? {
                    object @ Value::Object(_) => Some(object),
                    _ => return Err(PacketError::InvalidConnect),
                }
            };
            Ok(Packet::Connect { namespace, data })
        }
        b'1' => {
            no_ack_id(ack_id)?;
            if !rest.is_empty() {
                return Err(PacketError::TrailingData);
            }
            Ok(Packet::Disconnect { namespace })
        }
        b'2' => {
            let EventFrame { name, args } = serde_json::from_str(rest).map_err(|e| {
                if e.is_data() {
                    PacketError::InvalidEvent
                } else {
                    PacketError::InvalidJson(e.to_string())
                }
            })?;
            Ok(Packet::Event {
                namespace,
                ack_id,
                name,
                args,
            })
        }
        b'3' => {
            let ack_id = ack_id.ok_or(PacketError::MissingAckId)?;
            let args = match json(rest)? {
                Value::Array(args) => args,
                _ => return Err(PacketError::InvalidEvent),
            };
            Ok(Packet::Ack {
                namespace,
                ack_id,
                args,
            })
        }
        _ => {
            // b'4', the only type left after the checks above.
            no_ack_id(ack_id)?;
            let Value::Object(mut object) = json(rest)? else {
                return Err(PacketError::InvalidConnectError);
            };
            let Some(Value::String(message)) = object.remove("message") else {
                return Err(PacketError::InvalidConnectError);
            };
            Ok(Packet::ConnectError {
                namespace,
                message,
                data: object.remove("data"),
            })
        }
    }
}

/// One event argument: JSON, checked when its packet was decoded, kept as
/// its text.
#[derive(Debug, Clone)]
pub struct RawArg(Box<RawValue>);

impl RawArg {
    /// The argument's JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for RawArg {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// An event's JSON array: the name, then the arguments as text.
struct EventFrame {
    name: String,
    args: Vec<RawArg>,
}

impl<'de> Deserialize<'de> for EventFrame {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Frame;
        impl<'de> Visitor<'de> for Frame {
            type Value = EventFrame;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array starting with the event name")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EventFrame, A::Error> {
                let name = seq
                    .next_element::<String>()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let mut args = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(arg) = seq.next_element::<Box<RawValue>>()? {
                    args.push(RawArg(arg));
                }
                Ok(EventFrame { name, args })
            }
        }
        deserializer.deserialize_seq(Frame)
    }
}

/// Skips the `<count>-` prefix of a binary packet.
fn skip_attachments(rest: &str) -> Result<&str, PacketError> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest[digits..].strip_prefix('-') {
        Some(after) if digits > 0 => Ok(after),
        _ => Err(PacketError::InvalidAttachments),
    }
}

fn no_ack_id(ack_id: Option<u64>) -> Result<(), PacketError> {
    match ack_id {
        Some(_) => Err(PacketError::UnexpectedAckId),
        None => Ok(()),
    }
}

fn json(text: &str) -> Result<Value, PacketError> {
    serde_json::from_str(text).map_err(|e| PacketError::InvalidJson(e.to_string()))
}

/// Appends `CONNECT` to the default namespace, with an auth payload.
pub fn write_connect(out: &mut Vec<u8>, auth: Option<&Value>) -> Result<(), serde_json::Error> {
    out.push(b'0');
    match auth {
        Some(auth) => serde_json::to_writer(out, auth),
        None => Ok(()),
    }
}

/// Appends `DISCONNECT` from the default namespace.
pub fn write_disconnect(out: &mut Vec<u8>) {
    out.push(b'1');
}

/// Appends `EVENT` `[name, data]`, asking for an ack when `ack_id` is set.
pub fn write_event<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    name: &str,
    ack_id: Option<u64>,
    data: &T,
) -> Result<(), serde_json::Error> {
    out.push(b'2');
    if let Some(id) = ack_id {
        push_number(out, id);
    }
    out.push(b'[');
    serde_json::to_writer(&mut *out, name)?;
    out.push(b',');
    serde_json::to_writer(&mut *out, data)?;
    out.push(b']');
    Ok(())
}

/// Appends `ACK` `[data]` answering the server's event `ack_id`.
pub fn write_ack<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    ack_id: u64,
    data: &T,
) -> Result<(), serde_json::Error> {
    out.push(b'3');
    push_number(out, ack_id);
    out.push(b'[');
    serde_json::to_writer(&mut *out, data)?;
    out.push(b']');
    Ok(())
}

fn push_number(out: &mut Vec<u8>, n: u64) {
    // Writing to a Vec cannot fail.
    use std::io::Write;
    let _ = write!(out, "{n}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn raw(texts: &[&str]) -> Vec<RawArg> {
        texts
            .iter()
            .map(|t| RawArg(RawValue::from_string((*t).to_owned()).unwrap()))
            .collect()
    }

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decodes_connect_with_and_without_data() {
        assert_eq!(
            decode(r#"0{"sid":"x1"}"#).unwrap(),
            Packet::Connect {
                namespace: "/",
                data: Some(json!({"sid": "x1"}))
            }
        );
        assert_eq!(
            decode("0/admin,").unwrap(),
            Packet::Connect {
                namespace: "/admin",
                data: None
            }
        );
        assert_eq!(decode("0[1]"), Err(PacketError::InvalidConnect));
        assert_eq!(decode("01{}"), Err(PacketError::UnexpectedAckId));
    }

    #[test]
    fn decodes_disconnect() {
        assert_eq!(decode("1").unwrap(), Packet::Disconnect { namespace: "/" });
        assert_eq!(
            decode("1/chat,").unwrap(),
            Packet::Disconnect { namespace: "/chat" }
        );
        assert_eq!(decode("1{}"), Err(PacketError::TrailingData));
    }

    #[test]
    fn decodes_events_with_and_without_ack_ids() {
        assert_eq!(
            decode(r#"2["new_message",{"id":1},"x"]"#).unwrap(),
            Packet::Event {
                namespace: "/",
                ack_id: None,
                name: "new_message".into(),
                args: raw(&[r#"{"id":1}"#, r#""x""#]),
            }
        );
        assert_eq!(
            decode(r#"2/chat,12["ping"]"#).unwrap(),
            Packet::Event {
                namespace: "/chat",
                ack_id: Some(12),
                name: "ping".into(),
                args: raw(&[]),
            }
        );
    }

    #[test]
    fn rejects_malformed_events() {
        assert_eq!(decode("2[]"), Err(PacketError::InvalidEvent));
        assert_eq!(decode("2[1]"), Err(PacketError::InvalidEvent));
        assert_eq!(decode(r#"2{"a":1}"#), Err(PacketError::InvalidEvent));
        assert!(matches!(decode("2"), Err(PacketError::InvalidJson(_))));
        assert!(matches!(
            decode(r#"2["a"]x"#),
            Err(PacketError::InvalidJson(_))
        ));
        assert_eq!(
            decode(r#"299999999999999999999999["a"]"#),
            Err(PacketError::AckIdOverflow)
        );
        assert_eq!(
            decode(r#"2/chat["a"]"#),
            Err(PacketError::UnterminatedNamespace)
        );
    }

    #[test]
    fn decodes_acks_and_requires_their_id() {
        assert_eq!(
            decode(r#"37[{"success":true}]"#).unwrap(),
            Packet::Ack {
                namespace: "/",
                ack_id: 7,
                args: vec![json!({"success": true})],
            }
        );
        assert_eq!(decode("3[]"), Err(PacketError::MissingAckId));
        assert_eq!(decode("37{}"), Err(PacketError::InvalidEvent));
    }

    #[test]
    fn decodes_connect_errors() {
        assert_eq!(
            decode(r#"4{"message":"not authorized","data":{"code":"auth"}}"#).unwrap(),
            Packet::ConnectError {
                namespace: "/",
                message: "not authorized".into(),
                data: Some(json!({"code": "auth"})),
            }
        );
        assert_eq!(
            decode(r#"4{"msg":"x"}"#),
            Err(PacketError::InvalidConnectError)
        );
        assert_eq!(decode(r#"4"text""#), Err(PacketError::InvalidConnectError));
    }

    #[test]
    fn rejects_binary_packets_with_their_ack_id() {
        assert_eq!(
            decode(r#"51-["a",{"_placeholder":true,"num":0}]"#),
            Err(PacketError::Binary { ack_id: None })
        );
        assert_eq!(
            decode(r#"61-/chat,5[{"_placeholder":true,"num":0}]"#),
            Err(PacketError::Binary { ack_id: Some(5) })
        );
        assert_eq!(
            decode(r#"51-9["a",{"_placeholder":true,"num":0}]"#),
            Err(PacketError::Binary { ack_id: None })
        );
        assert_eq!(decode("5-[]"), Err(PacketError::InvalidAttachments));
        assert_eq!(decode("51[]"), Err(PacketError::InvalidAttachments));
    }

    #[test]
    fn rejects_unknown_types() {
        assert_eq!(decode(""), Err(PacketError::Empty));
        assert_eq!(decode("7[]"), Err(PacketError::UnknownType(b'7')));
        assert!(decode("ü").is_err());
    }

    #[test]
    fn writes_packets() {
        let auth = json!({"token": "t"});
        assert_eq!(
            written(|o| write_connect(o, Some(&auth)).unwrap()),
            r#"0{"token":"t"}"#
        );
        assert_eq!(written(|o| write_connect(o, None).unwrap()), "0");
        assert_eq!(written(write_disconnect), "1");
        assert_eq!(
            written(|o| write_event(o, "say \"hi\"", Some(3), &json!({"a": 1})).unwrap()),
            r#"23["say \"hi\"",{"a":1}]"#
        );
        assert_eq!(
            written(|o| write_event(o, "x", None, "text").unwrap()),
            r#"2["x","text"]"#
        );
        assert_eq!(
            written(|o| write_ack(o, 42, &json!([1, 2])).unwrap()),
            "342[[1,2]]"
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn decode_never_panics(text in "\\PC*") {
            let _ = decode(&text);
        }

        #[test]
        fn decode_never_panics_on_near_valid_packets(
            kind in 0u8..10,
            rest in "[0-9/,\\-{}\\[\\]\":a-z]{0,40}",
        ) {
            let _ = decode(&format!("{kind}{rest}"));
        }

        #[test]
        fn events_round_trip(name in "\\PC{0,20}", ack_id in proptest::option::of(any::<u64>()), data in json_value()) {
            let text = written(|o| write_event(o, &name, ack_id, &data).unwrap());
            let decoded = decode(&text).unwrap();
            let Packet::Event { namespace, ack_id: id, name: decoded_name, args } = decoded else {
                panic!("not an event: {decoded:?}");
            };
            prop_assert_eq!((namespace, id, decoded_name), ("/", ack_id, name));
            prop_assert_eq!(args.len(), 1);
            prop_assert_eq!(serde_json::from_str::<Value>(args[0].get()).unwrap(), data);
        }

        #[test]
        fn acks_round_trip(ack_id in any::<u64>(), data in json_value()) {
            let text = written(|o| write_ack(o, ack_id, &data).unwrap());
            prop_assert_eq!(decode(&text).unwrap(), Packet::Ack { namespace: "/", ack_id, args: vec![data] });
        }
    }
}
