//! The reminder bot: `remind me in 10m to stretch` (seconds `s`, minutes
//! `m`, hours `h`, up to a week) is answered at once with when, and at that
//! time with the reminder, in the same channel — encrypted in encrypted
//! channels. Reminders live in memory: a restart forgets them. See
//! `examples/README.md`.

use std::collections::BTreeMap;
use std::time::Duration;

use securechat_examples::{Bot, Next};
use tokio::time::Instant;

/// The longest wait a reminder may ask for.
const MAX_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// `remind me in <n><s|m|h> to <what>` → the wait and what to say.
fn parse(text: &str) -> Option<(Duration, String)> {
    let rest = text.trim().strip_prefix("remind me in ")?;
    let (amount, rest) = rest.split_once(' ')?;
    let what = rest.trim_start().strip_prefix("to ")?.trim();
    let unit = match amount.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => return None,
    };
    let n: u64 = amount[..amount.len() - 1].parse().ok()?;
    let wait = Duration::from_secs(n.checked_mul(unit)?);
    (!what.is_empty() && wait <= MAX_WAIT).then(|| (wait, what.to_owned()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut bot = Bot::from_env("reminder-bot").await?;
    // Due time (with a sequence number, so equal times both stay) →
    // (channel, who asked, what).
    let mut due: BTreeMap<(Instant, u64), (i64, String, String)> = BTreeMap::new();
    let mut seq = 0u64;
    loop {
        let next_due = due.keys().next().map(|&(at, _)| at);
        match bot.next_message_before(next_due).await? {
            Next::Message(message) => {
                let Some((wait, what)) = parse(&message.text) else {
                    continue;
                };
                let who = message.sender_username.unwrap_or_else(|| "you".into());
                seq += 1;
                due.insert(
                    (Instant::now() + wait, seq),
                    (message.channel_id, who.clone(), what),
                );
                let answer = format!("OK {who}, I will remind you in {}s.", wait.as_secs());
                bot.say(message.channel_id, &answer).await?;
            }
            Next::Deadline => {
                while let Some(entry) = due.first_entry() {
                    if entry.key().0 > Instant::now() {
                        break;
                    }
                    let (channel_id, who, what) = entry.remove();
                    bot.say(channel_id, &format!("⏰ {who}: {what}")).await?;
                }
            }
            Next::Ended => {
                anyhow::bail!("the connection ended: the token was revoked or the server stopped")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_parse() {
        assert_eq!(
            parse("remind me in 10m to stretch"),
            Some((Duration::from_secs(600), "stretch".into()))
        );
        assert_eq!(
            parse(" remind me in 2h to call   bob "),
            Some((Duration::from_secs(7200), "call   bob".into()))
        );
        assert_eq!(parse("remind me in 10x to stretch"), None);
        assert_eq!(parse("remind me in 10m stretch"), None);
        assert_eq!(parse("remind me in 10m to "), None);
        assert_eq!(parse("remind me in 9999h to sleep"), None);
        assert_eq!(parse("hello"), None);
    }
}
