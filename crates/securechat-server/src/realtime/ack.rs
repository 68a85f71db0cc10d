//! Acknowledgement replies: `{"success": true, ...fields}` or
//! `{"success": false, "message": "...", "code": "..."}`, the same shape as
//! the HTTP API's errors.

use serde::Serialize;
use serde_json::{Map, Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::AckSender;

use crate::error::Error;

/// A success reply: `fields`' own fields next to `success: true`.
#[derive(Serialize)]
struct Success<'a, T> {
    success: bool,
    #[serde(flatten)]
    fields: &'a T,
}

/// Answers with `fields` (a struct) plus `success: true`, serialized
/// straight from it. For a message's ack this saves building a JSON tree
/// of the message, which copied its text or envelope once more.
pub fn ok_with<A: Adapter, T: Serialize>(ack: AckSender<A>, fields: &T) {
    let _ = ack.send(&Success {
        success: true,
        fields,
    });
}

/// Answers with `fields` (a JSON object) plus `success: true`.
pub fn ok<A: Adapter>(ack: AckSender<A>, fields: Value) {
    let body = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    ok_with(ack, &body);
}

/// Answers with an error. Internal errors are logged and not described.
pub fn err<A: Adapter>(ack: AckSender<A>, error: &Error) {
    let _ = ack.send(&error_body(error));
}

/// The error reply body.
pub fn error_body(error: &Error) -> Value {
    let message = match error {
        Error::Database(e) => {
            tracing::error!(error = %e, "database error in a socket handler");
            "Internal server error; the incident was logged".to_owned()
        }
        Error::Internal(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "internal error in a socket handler"
            );
            "Internal server error; the incident was logged".to_owned()
        }
        other => other.to_string(),
    };
    json!({"success": false, "message": message, "code": error.code()})
}

/// Answers a send over the rate limit with how long to wait.
pub fn rate_limited<A: Adapter>(ack: AckSender<A>, wait: std::time::Duration) {
    let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
    let _ = ack.send(&json!({
        "success": false,
        "code": "rate_limited",
        "message": format!("You are sending too fast; wait {ms} ms"),
        "retry_after_ms": ms,
    }));
}

/// The event's data, or `None` after answering that it is malformed.
pub fn parsed<A: Adapter, T>(
    data: Result<T, socketioxide::ParserError>,
    ack: AckSender<A>,
) -> Option<(T, AckSender<A>)> {
    match data {
        Ok(value) => Some((value, ack)),
        Err(e) => {
            bad_payload(ack, &e.to_string());
            None
        }
    }
}

/// Answers a malformed payload.
pub fn bad_payload<A: Adapter>(ack: AckSender<A>, detail: &str) {
    err(
        ack,
        &Error::bad_request(
            "invalid_payload",
            format!("The event's data is not what it should be: {detail}"),
        ),
    );
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::json;

    use super::Success;

    /// A typed reply carries the same JSON as the same fields given as a
    /// tree to [`super::ok`].
    #[test]
    fn typed_replies_flatten_their_fields_next_to_success() {
        #[derive(Serialize)]
        struct Reply<'a> {
            message: &'a str,
            count: u32,
        }
        let reply = Reply {
            message: "hi \"there\"",
            count: 2,
        };
        let body = Success {
            success: true,
            fields: &reply,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"success": true, "message": "hi \"there\"", "count": 2})
        );
    }
}
