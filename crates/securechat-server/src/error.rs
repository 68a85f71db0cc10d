//! The one error type every handler returns.
//!
//! Each variant knows its HTTP status and renders as
//! `{"success": false, "message": "...", "code": "..."}`: the seed's clients
//! read `success`, people read `message`, programs branch on `code`.
//! Internal failures are logged with the request's span and answered with a
//! generic 500; their details never reach the client.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A handler failure, mapped to a status code and a JSON body.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request is malformed.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 401: no valid session, or wrong credentials.
    #[error("{message}")]
    Unauthorized {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 403: authenticated (or not needed) but not allowed.
    #[error("{message}")]
    Forbidden {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 404: absent, or not visible to this user.
    #[error("{message}")]
    NotFound {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 409: conflicts with existing state (e.g. a taken username).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 413: the body is larger than allowed.
    #[error("{message}")]
    PayloadTooLarge { message: Cow<'static, str> },
    /// 415: not JSON.
    #[error("{message}")]
    UnsupportedMediaType { message: Cow<'static, str> },
    /// 422: well-formed but invalid values.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 429: slow down; `retry_after` seconds until the next attempt may succeed.
    #[error("{message}")]
    TooManyRequests {
        retry_after: u64,
        message: Cow<'static, str>,
    },
    /// 503: the server is at capacity for this kind of work; `retry_after`
    /// seconds until it likely has room again.
    #[error("{message}")]
    Unavailable {
        retry_after: u64,
        message: Cow<'static, str>,
    },
    /// 502: a server we called on the caller's behalf (a slash command's
    /// receiver) failed or gave an answer we cannot use.
    #[error("{message}")]
    BadGateway {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 500: a database failure. Logged, never shown.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// 500: any other internal failure. Logged, never shown.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// Shorthands used by handlers, so a check reads as one line.
impl Error {
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn unprocessable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
        }
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code in the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::BadGateway { code, .. } => code,
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable { .. } => "server_busy",
            Self::Database(_) | Self::Internal(_) => "internal_error",
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// What went wrong and, where possible, what to do.
    pub message: String,
    /// A stable machine-readable code.
    pub code: String,
}

/// Builds the JSON error response for `status`, used by the error type and
/// by middleware that answers before a handler runs.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        success: false,
        message: message.to_owned(),
        code: code.to_owned(),
    };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Database(e) => {
                tracing::error!(error = %e, "database error");
                "Internal server error; the incident was logged".to_owned()
            }
            Self::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                "Internal server error; the incident was logged".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = json_error(status, self.code(), &message);
        if let Self::TooManyRequests { retry_after, .. } | Self::Unavailable { retry_after, .. } =
            self
            && let Ok(value) = HeaderValue::from_str(&retry_after.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Turns a violated unique constraint into a chosen error, so handlers can
/// `?` an insert and still answer 409 instead of 500.
pub trait ResultExt<T> {
    fn on_unique_violation(self, err: impl FnOnce() -> Error) -> Result<T, Error>;
}

impl<T, E: Into<Error>> ResultExt<T> for Result<T, E> {
    fn on_unique_violation(self, err: impl FnOnce() -> Error) -> Result<T, Error> {
        self.map_err(|e| match e.into() {
            Error::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => err(),
            other => other,
        })
    }
}

/// `Result` with the HTTP error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_are_not_returned() {
        let err = Error::Internal(anyhow::anyhow!("secret path /etc/x"));
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let response = Error::TooManyRequests {
            retry_after: 42,
            message: "slow down".into(),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
    }
}
