//! Engine.IO v4 packets: the transport layer under Socket.IO.
//!
//! Over a websocket every text frame is one packet: a one-digit type
//! followed by its data. This client only ever needs to *read* `open`,
//! `close`, `ping`, `message`, `upgrade` and `noop`, and to *write* `pong`
//! and `message`, so the writers are a constant and a prefix byte.
//!
//! Pure code: no I/O, no allocation beyond the open packet's fields.

use serde::Deserialize;

use super::codec_error::PacketError;

/// The prefix of an Engine.IO `message` packet; a Socket.IO packet follows.
pub const MESSAGE: u8 = b'4';

/// The prefix of an Engine.IO `pong` packet; the ping's data, if any, follows.
pub const PONG: u8 = b'3';

/// The handshake the server sends first: who we are and how it keeps the
/// connection alive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenInfo {
    /// The Engine.IO session id (not the Socket.IO socket id).
    pub sid: String,
    /// Transports the server could upgrade to; unused over a websocket.
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// Milliseconds between the server's pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for a pong (and we, a ping, on top of
    /// the interval) before calling the peer dead.
    pub ping_timeout: u64,
    /// The largest packet, in bytes, the server accepts.
    pub max_payload: u64,
}

/// One decoded Engine.IO packet, borrowing its data from the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket<'a> {
    Open(OpenInfo),
    Close,
    /// A heartbeat; answer with a pong carrying the same data.
    Ping(&'a str),
    Pong(&'a str),
    /// A Socket.IO packet.
    Message(&'a str),
    Upgrade,
    Noop,
}

/// Decodes one text frame.
pub fn decode(text: &str) -> Result<EnginePacket<'_>, PacketError> {
    let Some((&kind, _)) = text.as_bytes().split_first() else {
        return Err(PacketError::Empty);
    };
    if !kind.is_ascii_digit() {
        return Err(PacketError::UnknownEngineType(kind));
    }
    // An ASCII first byte makes `1..` a character boundary.
    let data = &text[1..];
    match kind {
        b'0' => {
            let info: OpenInfo =
                serde_json::from_str(data).map_err(|e| PacketError::InvalidOpen(e.to_string()))?;
            if info.ping_interval == 0 || info.ping_timeout == 0 {
                return Err(PacketError::InvalidOpen(
                    "pingInterval and pingTimeout must be positive".into(),
                ));
            }
            Ok(EnginePacket::Open(info))
        }
        b'1' => no_data(data, EnginePacket::Close),
        b'2' => Ok(EnginePacket::Ping(data)),
        b'3' => Ok(EnginePacket::Pong(data)),
        b'4' => Ok(EnginePacket::Message(data)),
        b'5' => no_data(data, EnginePacket::Upgrade),
        b'6' => no_data(data, EnginePacket::Noop),
        other => Err(PacketError::UnknownEngineType(other)),
    }
}

fn no_data<'a>(data: &str, packet: EnginePacket<'a>) -> Result<EnginePacket<'a>, PacketError> {
    if data.is_empty() {
        Ok(packet)
    } else {
        Err(PacketError::TrailingData)
    }
}

/// The pong answering a ping that carried `data` (usually empty).
pub fn pong(data: &str) -> String {
    let mut out = String::with_capacity(1 + data.len());
    out.push(char::from(PONG));
    out.push_str(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_the_open_packet() {
        let packet = decode(
            r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        assert_eq!(
            packet,
            EnginePacket::Open(OpenInfo {
                sid: "abc".into(),
                upgrades: vec![],
                ping_interval: 25000,
                ping_timeout: 20000,
                max_payload: 1_000_000,
            })
        );
    }

    #[test]
    fn rejects_an_open_packet_missing_fields_or_with_zero_timers() {
        assert!(matches!(
            decode(r#"0{"sid":"abc","pingInterval":25000}"#),
            Err(PacketError::InvalidOpen(_))
        ));
        assert!(matches!(
            decode(r#"0{"sid":"a","pingInterval":0,"pingTimeout":1,"maxPayload":1}"#),
            Err(PacketError::InvalidOpen(_))
        ));
        assert!(matches!(decode("0"), Err(PacketError::InvalidOpen(_))));
    }

    #[test]
    fn decodes_the_other_types() {
        assert_eq!(decode("1").unwrap(), EnginePacket::Close);
        assert_eq!(decode("2").unwrap(), EnginePacket::Ping(""));
        assert_eq!(decode("2probe").unwrap(), EnginePacket::Ping("probe"));
        assert_eq!(decode("3").unwrap(), EnginePacket::Pong(""));
        assert_eq!(
            decode("42[\"a\"]").unwrap(),
            EnginePacket::Message("2[\"a\"]")
        );
        assert_eq!(decode("5").unwrap(), EnginePacket::Upgrade);
        assert_eq!(decode("6").unwrap(), EnginePacket::Noop);
    }

    #[test]
    fn rejects_bad_frames() {
        assert_eq!(decode(""), Err(PacketError::Empty));
        assert_eq!(decode("7"), Err(PacketError::UnknownEngineType(b'7')));
        assert_eq!(decode("x"), Err(PacketError::UnknownEngineType(b'x')));
        assert_eq!(decode("1x"), Err(PacketError::TrailingData));
        assert!(decode("é").is_err());
    }

    #[test]
    fn pong_echoes_the_ping_data() {
        assert_eq!(pong(""), "3");
        assert_eq!(pong("probe"), "3probe");
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = decode(&text);
        }

        #[test]
        fn never_panics_on_near_valid_frames(kind in 0u8..10, rest in "[0-9{}\\[\\]\",:a-zA-Z]{0,40}") {
            let _ = decode(&format!("{kind}{rest}"));
        }
    }
}
