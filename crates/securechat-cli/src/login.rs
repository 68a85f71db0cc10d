//! `securechat-cli login <username>`: the password from the terminal
//! (without echo) or from the first line of standard input, never a flag.

use std::io::BufRead;

use anyhow::{Context, Result, bail};
use securechat_client::Client;

use crate::session::{Session, SessionFile};

#[derive(clap::Args)]
pub struct Args {
    /// The account to log in as.
    username: String,
    /// The server's address.
    #[arg(long, env = "SECURECHAT_URL", default_value = "http://localhost:5000")]
    server: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn run(args: Args, file: &SessionFile, store: std::path::PathBuf) -> Result<()> {
    let password = if args.password_stdin {
        password_from_stdin()?
    } else {
        rpassword::prompt_password(format!("Password for {}: ", args.username))
            .context("cannot read the password from the terminal (try --password-stdin)")?
    };
    let mut client = Client::new(&args.server)?;
    let user = client.login(&args.username, &password).await?;
    let token = client
        .token()
        .context("the server answered the login without a session token")?
        .expose()
        .to_owned();

    // Replacing a saved session: end the old one on its server rather than
    // leave it valid and forgotten. Best effort: it may have expired.
    if let Ok(Some(previous)) = file.load()
        && let Ok(mut previous) = previous.client()
    {
        let _ = previous.logout().await;
    }
    file.save(&Session {
        server: client.base_url().to_string(),
        username: user.username.clone(),
        token,
    })?;
    println!(
        "Logged in to {} as {} (session saved in {}).",
        client.base_url(),
        user.username,
        file.path().display()
    );
    // First login on this device: generate and publish the identity (or
    // say clearly that it must be restored from a backup).
    match securechat_client::SecureClient::open(client, store).await {
        Ok(secure) => println!("Key store: {}.", secure.store_path().display()),
        Err(error @ securechat_client::Error::IdentityElsewhere { .. }) => {
            eprintln!("securechat-cli: {error}");
        }
        Err(error) => return Err(error).context("cannot set up end-to-end encryption"),
    }
    Ok(())
}

fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password.to_owned())
}
