//! What a mail says: the digest of missed messages and the verification
//! code, each as a plain-text and an HTML body. Pure, so every rule is a
//! unit test here.
//!
//! A digest lists the messages by channel, in the order they came.
//! Plaintext channels show who wrote what (each text cut to
//! [`MAX_TEXT`] characters, at most [`MAX_LISTED`] messages a channel);
//! encrypted channels and DMs show only how many messages came and from
//! whom: the server has no content to show, and would not mail it if it
//! had. Everything that comes from people (names, texts) is escaped in the
//! HTML body and stripped of control characters in both.

use std::fmt::Write as _;

/// Characters of a message's text a digest shows.
pub const MAX_TEXT: usize = 200;
/// Messages of one channel a digest lists; the rest are counted.
pub const MAX_LISTED: usize = 10;

/// One missed message, as the digest needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub channel_id: i64,
    pub channel: String,
    pub room: String,
    pub is_dm: bool,
    pub encrypted: bool,
    /// `None` once the sender's account is gone.
    pub sender: Option<String>,
    /// Plaintext channels' text (`None`: encrypted, or a file alone).
    pub text: Option<String>,
}

/// A mail's subject and bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The digest of `items` (oldest first); `app_url` opens the app,
/// `unsubscribe_url` stops these mails.
pub fn digest(items: &[Item], app_url: &str, unsubscribe_url: &str) -> Mail {
    let n = items.len();
    let subject = if n == 1 {
        "1 missed message on Securechat".to_owned()
    } else {
        format!("{n} missed messages on Securechat")
    };
    let mut text = format!("You have {} on Securechat.\n", plural(n, "unread message"));
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>You have {} on \
         Securechat.</p>",
        plural(n, "unread message")
    );
    for group in groups(items) {
        let title = title(group[0]);
        let _ = write!(text, "\n{title}\n");
        let _ = write!(
            html,
            "<h2 style=\"font-size:1.1em\">{}</h2>",
            escape(&title)
        );
        if group[0].encrypted {
            let line = format!(
                "{} from {}",
                plural(group.len(), "new encrypted message"),
                senders(&group)
            );
            let _ = writeln!(text, "  {line}");
            let _ = write!(html, "<p>{}</p>", escape(&line));
            continue;
        }
        html.push_str("<ul>");
        for item in group.iter().take(MAX_LISTED) {
            let sender = clean(item.sender.as_deref().unwrap_or("someone"));
            let body = item
                .text
                .as_deref()
                .map_or_else(|| "(a file)".to_owned(), |t| cut(&clean(t), MAX_TEXT));
            let _ = writeln!(text, "  {sender}: {}", body.replace('\n', "\n    "));
            let _ = write!(
                html,
                "<li><b>{}</b>: <span style=\"white-space:pre-wrap\">{}</span></li>",
                escape(&sender),
                escape(&body)
            );
        }
        html.push_str("</ul>");
        if group.len() > MAX_LISTED {
            let more = format!("and {} more", group.len() - MAX_LISTED);
            let _ = writeln!(text, "  {more}");
            let _ = write!(html, "<p>{more}</p>");
        }
    }
    let _ = write!(
        text,
        "\nOpen Securechat: {app_url}\n\nYou get this email because messages for you stayed \
         unread. Stop these emails: {unsubscribe_url}\n"
    );
    let _ = write!(
        html,
        "<p><a href=\"{}\">Open Securechat</a></p><p style=\"color:#555;font-size:0.9em\">You get \
         this email because messages for you stayed unread. <a href=\"{}\">Stop these \
         emails</a>.</p></body></html>",
        escape(app_url),
        escape(unsubscribe_url)
    );
    Mail {
        subject,
        text,
        html,
    }
}

/// The mail with a verification code, valid for `minutes`.
pub fn verification(code: &str, minutes: i64, app_url: &str) -> Mail {
    let text = format!(
        "Your Securechat verification code is {code}.\n\nEnter it on your account page within \
         {minutes} minutes to get email about messages you missed. If you did not ask for it, \
         ignore this email: nothing will be sent to this address.\n\n{app_url}\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>Your Securechat \
         verification code is</p><p style=\"font-size:1.6em;letter-spacing:0.2em\"><b>{}</b></p>\
         <p>Enter it on your account page within {minutes} minutes to get email about messages \
         you missed. If you did not ask for it, ignore this email: nothing will be sent to this \
         address.</p><p><a href=\"{}\">{}</a></p></body></html>",
        escape(code),
        escape(app_url),
        escape(app_url)
    );
    Mail {
        subject: "Your Securechat verification code".to_owned(),
        text,
        html,
    }
}

/// The items grouped by channel, each group in order, groups in the order
/// of their first message.
fn groups(items: &[Item]) -> Vec<Vec<&Item>> {
    let mut groups: Vec<Vec<&Item>> = Vec::new();
    for item in items {
        match groups
            .iter_mut()
            .find(|g| g[0].channel_id == item.channel_id)
        {
            Some(group) => group.push(item),
            None => groups.push(vec![item]),
        }
    }
    groups
}

fn title(item: &Item) -> String {
    if item.is_dm {
        "In a direct message".to_owned()
    } else {
        format!("#{} in {}", clean(&item.channel), clean(&item.room))
    }
}

/// "alice", "alice and bob", "alice, bob and carol" (each name once).
fn senders(group: &[&Item]) -> String {
    let mut names: Vec<String> = Vec::new();
    for item in group {
        let name = clean(item.sender.as_deref().unwrap_or("someone"));
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "someone".to_owned(),
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `text` without control characters other than line breaks.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The first `max` characters of `text`, with an ellipsis if it was longer.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `text` safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(channel_id: i64, sender: &str, text: Option<&str>) -> Item {
        Item {
            channel_id,
            channel: "general".into(),
            room: "Lobby".into(),
            is_dm: false,
            encrypted: false,
            sender: Some(sender.into()),
            text: text.map(str::to_owned),
        }
    }

    fn sealed(channel_id: i64, sender: &str) -> Item {
        Item {
            is_dm: true,
            encrypted: true,
            text: None,
            ..item(channel_id, sender, None)
        }
    }

    const APP: &str = "https://chat.example.com";
    const STOP: &str = "https://chat.example.com/api/email/unsubscribe?token=1.abc";

    #[test]
    fn messages_are_grouped_by_channel_in_order() {
        let mut ops = item(2, "carol", Some("deploy done"));
        ops.channel = "ops".into();
        let mail = digest(
            &[
                item(1, "alice", Some("@bob lunch?")),
                ops,
                item(1, "alice", Some("@bob 12:30")),
            ],
            APP,
            STOP,
        );
        assert_eq!(mail.subject, "3 missed messages on Securechat");
        let general = mail.text.find("#general in Lobby").unwrap();
        let lunch = mail.text.find("alice: @bob lunch?").unwrap();
        let half = mail.text.find("alice: @bob 12:30").unwrap();
        let ops = mail.text.find("#ops in Lobby").unwrap();
        assert!(
            general < lunch && lunch < half && half < ops,
            "{}",
            mail.text
        );
        assert!(mail.text.contains(STOP) && mail.text.contains(APP));
        assert!(mail.html.contains("<b>carol</b>: "));
        assert_eq!(
            digest(&[sealed(1, "bob")], APP, STOP).subject,
            "1 missed message on Securechat"
        );
    }

    #[test]
    fn encrypted_channels_show_a_count_and_the_senders_only() {
        let items = [sealed(7, "bob"), sealed(7, "bob"), sealed(7, "bob")];
        let mail = digest(&items, APP, STOP);
        assert!(
            mail.text
                .contains("In a direct message\n  3 new encrypted messages from bob\n"),
            "{}",
            mail.text
        );
        let mut group = vec![sealed(3, "alice"), sealed(3, "bob"), sealed(3, "alice")];
        group.push(sealed(3, "carol"));
        let mail = digest(&group, APP, STOP);
        assert!(
            mail.text
                .contains("4 new encrypted messages from alice, bob and carol")
        );
    }

    #[test]
    fn html_escapes_everything_people_wrote() {
        let mut evil = item(1, "mallory", Some("<script>alert('x')</script> & \"q\""));
        evil.room = "<b>Room</b>".into();
        let mail = digest(&[evil], "https://chat.example.com/?a=1&b=\"2\"", STOP);
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(!mail.html.contains("<b>Room</b>"));
        assert!(
            mail.html
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        );
        assert!(
            mail.html
                .contains("href=\"https://chat.example.com/?a=1&amp;b=&quot;2&quot;\"")
        );
        // The plain-text body is not HTML: it keeps the characters.
        assert!(mail.text.contains("<script>alert('x')</script>"));
        assert_eq!(escape("a<b>&'\""), "a&lt;b&gt;&amp;&#39;&quot;");
    }

    #[test]
    fn long_texts_are_cut_and_long_channels_counted() {
        let long = "é".repeat(MAX_TEXT + 50);
        let mail = digest(&[item(1, "alice", Some(&long))], APP, STOP);
        let shown = format!("alice: {}…\n", "é".repeat(MAX_TEXT));
        assert!(mail.text.contains(&shown), "{}", mail.text);
        let many: Vec<Item> = (0..MAX_LISTED + 3)
            .map(|i| item(1, "alice", Some(&format!("message {i}"))))
            .collect();
        let mail = digest(&many, APP, STOP);
        assert!(mail.text.contains(&format!("message {}", MAX_LISTED - 1)));
        assert!(!mail.text.contains(&format!("message {MAX_LISTED}")));
        assert!(mail.text.contains("and 3 more"));
        let file = digest(&[item(1, "alice", None)], APP, STOP);
        assert!(file.text.contains("alice: (a file)"));
    }

    #[test]
    fn control_characters_are_dropped_and_lines_indented() {
        let mail = digest(
            &[item(1, "alice", Some("one\u{7}\r\ntwo\u{1b}[31m"))],
            APP,
            STOP,
        );
        assert!(
            mail.text.contains("alice: one\n    two[31m\n"),
            "{:?}",
            mail.text
        );
    }

    #[test]
    fn the_verification_mail_carries_the_code() {
        let mail = verification("042917", 15, APP);
        assert!(mail.text.contains("042917") && mail.text.contains("15 minutes"));
        assert!(mail.html.contains("<b>042917</b>"));
    }
}
