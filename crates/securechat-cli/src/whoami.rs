//! `securechat-cli whoami`: asks the server who the saved session is.

use anyhow::Result;

use crate::session::SessionFile;

pub async fn run(file: &SessionFile) -> Result<()> {
    let session = file.require()?;
    let user = session
        .client()?
        .me()
        .await
        .map_err(|e| file.explain(&session, e))?;
    let role = if user.is_admin { ", site admin" } else { "" };
    println!(
        "{} (id {}{role}) on {}",
        user.username, user.id, session.server
    );
    Ok(())
}
