//! `securechat-cli whoami`: asks the server who the saved session is.

use anyhow::{Result, bail};
use securechat_client::{ApiError, Error};

use crate::session::SessionFile;

pub async fn run(file: &SessionFile) -> Result<()> {
    let Some(session) = file.load()? else {
        bail!("not logged in; run `securechat-cli login <username>`");
    };
    match session.client()?.me().await {
        Ok(user) => {
            let role = if user.is_admin { ", site admin" } else { "" };
            println!(
                "{} (id {}{role}) on {}",
                user.username, user.id, session.server
            );
            Ok(())
        }
        Err(Error::Api(ApiError { status: 401, .. })) => {
            file.remove()?;
            bail!(
                "the session of {} has ended (logged out elsewhere, password changed or expired); log in again",
                session.username
            )
        }
        Err(error) => Err(error.into()),
    }
}
