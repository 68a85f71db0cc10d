//! What an incoming webhook accepts: a Slack-compatible JSON body
//! (`text`, and the `username` and `icon_url` overrides where the webhook
//! allows them; other Slack fields are ignored), and who the message is
//! then shown as. Pure.

use serde::Deserialize;
use utoipa::ToSchema;

use super::store::WebhookRow;
use crate::error::Error;
use crate::messages::writer::Integration;

/// Longest name a webhook shows (its own or the poster's `username`).
pub const MAX_NAME: usize = 64;
/// Longest `icon_url`, in bytes.
pub const MAX_ICON_URL: usize = 512;

/// A Slack-compatible incoming-webhook body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IncomingMessage {
    /// The message, rendered as markdown by clients (at most 8 KiB).
    #[schema(max_length = 8192)]
    pub text: Option<String>,
    /// Shown as the sender's name instead of the webhook's, if the webhook
    /// allows overrides (1 to 64 characters); ignored otherwise.
    #[schema(max_length = 64)]
    pub username: Option<String>,
    /// An `https` image URL shown as the sender's icon, if the webhook
    /// allows overrides; ignored otherwise.
    #[schema(max_length = 512)]
    pub icon_url: Option<String>,
}

/// Who a message posted with `body` through `webhook` is shown as: the
/// webhook's name, or the body's overrides where the webhook allows them
/// (an invalid override is refused, not dropped, so its sender learns).
pub fn shown_as(webhook: &WebhookRow, body: &IncomingMessage) -> Result<Integration, Error> {
    let mut shown = Integration {
        id: webhook.id,
        name: webhook.name.clone(),
        icon_url: None,
    };
    if !webhook.allow_overrides {
        return Ok(shown);
    }
    if let Some(name) = body.username.as_deref().filter(|n| !n.trim().is_empty()) {
        shown.name = crate::rooms::validate::display_name("username", name, MAX_NAME)?;
    }
    if let Some(icon) = body.icon_url.as_deref().filter(|i| !i.is_empty()) {
        shown.icon_url = Some(icon_url(icon)?);
    }
    Ok(shown)
}

/// An absolute `https` URL without credentials, at most [`MAX_ICON_URL`]
/// bytes. Clients decide whether to load it; the server never does.
fn icon_url(value: &str) -> Result<String, Error> {
    let fits = value.len() <= MAX_ICON_URL
        && url::Url::parse(value).is_ok_and(|u| {
            u.scheme() == "https"
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
    if !fits {
        return Err(Error::unprocessable(
            "invalid_icon_url",
            format!("icon_url must be an https URL of at most {MAX_ICON_URL} bytes"),
        ));
    }
    Ok(value.to_owned())
}

/// The message text: present and not blank (the length and character
/// rules are the messages' own, applied when it is posted).
pub fn text(body: &IncomingMessage) -> Result<&str, Error> {
    body.text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Error::unprocessable("missing_text", "The body needs a non-empty \"text\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(allow_overrides: bool) -> WebhookRow {
        WebhookRow {
            id: 3,
            channel_id: 1,
            creator_id: 1,
            creator_username: Some("alice".into()),
            name: "CI".into(),
            allow_overrides,
            created_at: 0,
            last_used_at: None,
        }
    }

    fn body(text: Option<&str>, username: Option<&str>, icon: Option<&str>) -> IncomingMessage {
        IncomingMessage {
            text: text.map(str::to_owned),
            username: username.map(str::to_owned),
            icon_url: icon.map(str::to_owned),
        }
    }

    #[test]
    fn overrides_apply_only_where_allowed() {
        let b = body(
            Some("hi"),
            Some("  Deploy bot "),
            Some("https://x.example/i.png"),
        );
        let shown = shown_as(&hook(true), &b).unwrap();
        assert_eq!(shown.name, "Deploy bot");
        assert_eq!(shown.icon_url.as_deref(), Some("https://x.example/i.png"));
        let shown = shown_as(&hook(false), &b).unwrap();
        assert_eq!(
            (shown.id, shown.name.as_str(), shown.icon_url),
            (3, "CI", None)
        );
        // Blank overrides are absent ones.
        let shown = shown_as(&hook(true), &body(Some("hi"), Some(" "), Some(""))).unwrap();
        assert_eq!(shown.name, "CI");
    }

    #[test]
    fn bad_overrides_are_refused() {
        for (name, icon) in [
            (Some("x".repeat(MAX_NAME + 1)), None),
            (Some("a\u{202E}b".to_owned()), None),
            (None, Some("http://x.example/i.png".to_owned())),
            (None, Some("javascript:alert(1)".to_owned())),
            (None, Some("https://u:p@x.example/i.png".to_owned())),
            (
                None,
                Some(format!("https://x.example/{}", "a".repeat(MAX_ICON_URL))),
            ),
        ] {
            let b = body(Some("hi"), name.as_deref(), icon.as_deref());
            assert!(shown_as(&hook(true), &b).is_err(), "{name:?} {icon:?}");
        }
    }

    #[test]
    fn text_must_be_there() {
        assert!(text(&body(None, None, None)).is_err());
        assert!(text(&body(Some(" \n "), None, None)).is_err());
        assert_eq!(text(&body(Some("*done*"), None, None)).unwrap(), "*done*");
    }
}
