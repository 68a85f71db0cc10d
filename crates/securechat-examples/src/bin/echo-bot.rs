//! The echo bot: answers every message in its channels with `echo: <text>`,
//! encrypted in encrypted channels. See `examples/README.md`.

use securechat_examples::Bot;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut bot = Bot::from_env("echo-bot").await?;
    while let Some(message) = bot.next_message().await? {
        bot.say(message.channel_id, &format!("echo: {}", message.text))
            .await?;
    }
    anyhow::bail!("the connection ended: the token was revoked or the server stopped")
}
