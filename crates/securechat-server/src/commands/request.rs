//! One run of a registered command: the form body it POSTs ([`form`]),
//! the request through the SSRF-guarded clients ([`send`]) and what the
//! answer means ([`answer`]). All but the request are pure.
//!
//! The body follows Mattermost and Slack (`application/x-www-form-urlencoded`):
//! `token`, `team_id`/`team_domain` (the room), `channel_id`,
//! `channel_name`, `user_id`, `user_name`, `command` (with its slash),
//! `text`. The receiver compares `token` with the one shown when the
//! command was registered.

use std::time::Duration;

use serde::Deserialize;

use crate::config::allow_hosts::AllowHosts;
use crate::outbound::Clients;
use crate::outbound::guard::Target;

/// How long a receiver has to answer, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// The largest answer read; past it the answer is refused.
pub const MAX_ANSWER: usize = 16 * 1024;
/// The longest text an answer may show or post.
pub const MAX_TEXT: usize = 4000;

/// Who ran what, where: the fields of the form.
pub struct Invocation<'a> {
    pub token: &'a str,
    pub room_id: i64,
    pub room_name: &'a str,
    pub channel_id: i64,
    pub channel_name: &'a str,
    pub user_id: i64,
    pub user_name: &'a str,
    pub command: &'a str,
    pub text: &'a str,
}

/// The URL-encoded form body of `run`.
pub fn form(run: &Invocation<'_>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", run.token)
        .append_pair("team_id", &run.room_id.to_string())
        .append_pair("team_domain", run.room_name)
        .append_pair("channel_id", &run.channel_id.to_string())
        .append_pair("channel_name", run.channel_name)
        .append_pair("user_id", &run.user_id.to_string())
        .append_pair("user_name", run.user_name)
        .append_pair("command", &format!("/{}", run.command))
        .append_pair("text", run.text)
        .finish()
}

/// Where an answer's text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// To the caller only.
    Ephemeral,
    /// Posted in the channel as the caller.
    InChannel,
}

/// What a receiver's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub visibility: Visibility,
    /// `None`: nothing to show (an empty answer).
    pub text: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    response_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// Reads a 2xx answer's body: empty (nothing to show), JSON
/// `{response_type, text}` (`ephemeral` unless `in_channel`, as in Slack),
/// or plain text (shown to the caller). `Err` says why it is unusable.
pub fn answer(content_type: Option<&str>, body: &[u8]) -> Result<Answer, &'static str> {
    let body = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8")?;
    if body.trim().is_empty() {
        return Ok(Answer {
            visibility: Visibility::Ephemeral,
            text: None,
        });
    }
    let json = content_type.is_some_and(|t| t.starts_with("application/json"))
        || body.trim_start().starts_with('{');
    let (visibility, text) = if json {
        let parsed: Body =
            serde_json::from_str(body).map_err(|_| "the answer is not valid JSON")?;
        let visibility = match parsed.response_type.as_deref() {
            Some("in_channel") => Visibility::InChannel,
            None | Some("ephemeral") => Visibility::Ephemeral,
            Some(_) => return Err("response_type must be \"ephemeral\" or \"in_channel\""),
        };
        (visibility, parsed.text)
    } else {
        (Visibility::Ephemeral, Some(body.to_owned()))
    };
    let text = text.filter(|t| !t.trim().is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
        return Err("the answer's text is over 4000 characters");
    }
    Ok(Answer { visibility, text })
}

/// Sends `form` to `url`; the answer's content type and body, or why
/// there is none. Logs name the host only, never the text.
pub async fn send(
    clients: &Clients,
    allow: &AllowHosts,
    url: &str,
    form: String,
) -> Result<(Option<String>, Vec<u8>), String> {
    let target = Target::parse(url, allow).map_err(|e| e.to_string())?;
    let response = clients
        .for_target(&target)
        .post(target.url.clone())
        .header(
            http_client::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http_client::header::ACCEPT, "application/json")
        .body(form)
        .send()
        .await
        .map_err(|e| {
            tracing::debug!(host = %target.host(), error = %e, "slash command unreachable");
            "no answer in 3 seconds (connection failed or timed out)".to_owned()
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("it answered HTTP {}", status.as_u16()));
    }
    let content_type = response
        .headers()
        .get(http_client::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "the answer was cut off".to_owned())?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err("the answer is over 16 KiB".to_owned());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((content_type, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_carries_every_field_encoded() {
        let body = form(&Invocation {
            token: "tok",
            room_id: 3,
            room_name: "Project X",
            channel_id: 7,
            channel_name: "general",
            user_id: 1,
            user_name: "alice",
            command: "weather",
            text: "paris & lyon",
        });
        assert_eq!(
            body,
            "token=tok&team_id=3&team_domain=Project+X&channel_id=7&channel_name=general\
             &user_id=1&user_name=alice&command=%2Fweather&text=paris+%26+lyon"
        );
    }

    #[test]
    fn answers_are_ephemeral_unless_in_channel() {
        let a = answer(Some("application/json"), br#"{"text":"hi"}"#).unwrap();
        assert_eq!(a.visibility, Visibility::Ephemeral);
        assert_eq!(a.text.as_deref(), Some("hi"));
        let a = answer(None, br#"{"response_type":"in_channel","text":"all"}"#).unwrap();
        assert_eq!(a.visibility, Visibility::InChannel);
        let a = answer(Some("text/plain"), b"plain words").unwrap();
        assert_eq!(a.text.as_deref(), Some("plain words"));
        assert_eq!(answer(None, b"").unwrap().text, None);
        assert!(answer(None, br#"{"response_type":"everyone"}"#).is_err());
        assert!(answer(Some("application/json"), b"{nope").is_err());
        assert!(answer(None, &[0xff, 0xfe]).is_err());
    }
}
