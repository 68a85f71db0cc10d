//! `ApiJson<T>`: a JSON request body whose every rejection is one of our
//! JSON errors, so a bad body is a clear 4xx in the same shape as every
//! other error.
//!
//! Stricter than `axum::Json` in one way: the body must be a JSON object.
//! (serde would otherwise accept `["alice", "pw"]` for a struct.)

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Largest JSON body accepted by the API, in bytes.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// A JSON request body. Requires `Content-Type: application/json`, which
/// also keeps HTML forms on other sites from posting to the API.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(Error::UnsupportedMediaType {
                message: "Send the body as JSON with Content-Type: application/json".into(),
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                // Most routes take MAX_JSON_BODY; some less (incoming
                // webhooks: 16 KiB), as their description says.
                Error::PayloadTooLarge {
                    message: "The request body is larger than this endpoint accepts \
                              (see /api/openapi.json)"
                        .into(),
                }
            } else {
                Error::bad_request("bad_body", "The request body could not be read")
            }
        })?;
        parse(&bytes).map(Self)
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Parses an object body into `T`, classifying failures.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(Error::bad_request(
                "malformed_json",
                "The request body is empty",
            ));
        }
        Some(_) => {
            return Err(Error::unprocessable(
                "invalid_body",
                "The request body must be a JSON object",
            ));
        }
    }
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => Error::unprocessable("invalid_body", format!("Invalid body: {e}")),
            Category::Syntax | Category::Eof | Category::Io => {
                Error::bad_request("malformed_json", format!("Malformed JSON: {e}"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Login {
        #[allow(dead_code)]
        username: String,
    }

    #[test]
    fn classifies_failures() {
        let status = |body: &str| parse::<Login>(body.as_bytes()).err().map(|e| e.status());
        assert_eq!(status(r#"{"username": "a"}"#), None);
        assert_eq!(status(""), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status("{nope"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(
            status(r#"{"username": 1}"#),
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        );
        assert_eq!(status(r#"{}"#), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(status(r#"["a"]"#), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(status("42"), Some(StatusCode::UNPROCESSABLE_ENTITY));
    }
}
