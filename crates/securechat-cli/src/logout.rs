//! `securechat-cli logout`: ends the session on the server, then forgets it.

use anyhow::{Context, Result};
use securechat_client::Error;

use crate::session::SessionFile;

pub async fn run(file: &SessionFile) -> Result<()> {
    let Some(session) = file.load()? else {
        println!("Not logged in.");
        return Ok(());
    };
    match session.client()?.logout().await {
        // 401: the server had already ended it; forgetting it is all that is left.
        Ok(()) | Err(Error::Api(securechat_client::ApiError { status: 401, .. })) => {}
        // Unreachable server: keep the token so the logout can be retried,
        // since the session is still valid there.
        Err(error) => {
            return Err(error)
                .context("could not end the session on the server; it is kept, try again");
        }
    }
    file.remove()?;
    println!("Logged out of {} ({}).", session.server, session.username);
    Ok(())
}
