//! The key backup, as I/O around the core: making it under a new recovery
//! key (the default) or a passphrase that is hard to guess and is not the
//! login password, keeping it up to date on the server when pins or log
//! heads change, and restoring it (see [`SecureClient::restore`]).

use super::SecureClient;
use crate::error::{Error, Result};

/// The least zxcvbn score a backup passphrase must reach (as for account
/// passwords): "safely unguessable", at least 10^8 guesses.
pub(crate) const PASSPHRASE_MIN_SCORE: u8 = 3;

/// How much of a passphrase the estimator reads (its matching is
/// quadratic).
const SCORED_PREFIX: usize = 128;

impl SecureClient {
    /// Makes a new recovery key, seals my identity, pins and log heads
    /// under it and stores the backup on the server. Returns the key's 12
    /// words: show them once; they are not kept anywhere. The key derived
    /// from them is kept in the key store, so the backup stays up to date.
    pub async fn backup_with_recovery_key(&mut self) -> Result<String> {
        let sealed = self.machine.create_recovery_key()?;
        self.save()?;
        self.client.put_key_backup(&sealed.backup).await?;
        self.machine.backup_uploaded(&sealed.digest);
        self.save()?;
        Ok(sealed.words.unwrap_or_default())
    }

    /// Seals the backup under `passphrase` instead (Argon2id) and stores
    /// it. Refused before anything is sealed when the passphrase is too
    /// easy to guess (zxcvbn score below 3, [`Error::WeakPassphrase`] with
    /// the estimator's advice) or is the login password this client knows
    /// ([`crate::Client::remember_login_password`]).
    pub async fn backup_with_passphrase(&mut self, passphrase: &str) -> Result<()> {
        check_passphrase(passphrase, self.client.is_login_password(passphrase))?;
        let sealed = self.machine.set_backup_passphrase(passphrase)?;
        self.save()?;
        self.client.put_key_backup(&sealed.backup).await?;
        self.machine.backup_uploaded(&sealed.digest);
        self.save()?;
        Ok(())
    }

    /// Seals the backup again and uploads it if my pins or log heads
    /// changed since the last upload. Returns whether it uploaded. Does
    /// nothing on a device that keeps no backup key.
    pub async fn sync_backup(&mut self) -> Result<bool> {
        let Some(sealed) = self.machine.backup_update()? else {
            return Ok(false);
        };
        self.client.put_key_backup(&sealed.backup).await?;
        self.machine.backup_uploaded(&sealed.digest);
        self.save()?;
        Ok(true)
    }

    /// [`SecureClient::sync_backup`] after a change of trust: a failed
    /// upload is retried at the next change, and does not fail the call
    /// that made the change.
    pub(crate) async fn sync_backup_after_change(&mut self) {
        if let Err(error) = self.sync_backup().await {
            tracing::warn!(%error, "the key backup could not be brought up to date");
        }
    }
}

/// Refuses a backup passphrase that is the login password or too easy to
/// guess, with what to do instead.
pub(crate) fn check_passphrase(passphrase: &str, is_login_password: bool) -> Result<()> {
    if is_login_password {
        return Err(Error::WeakPassphrase {
            code: "passphrase_is_password",
            message: "The backup passphrase must differ from your login password: whoever \
                      learns one would have both. Choose another, or use a recovery key."
                .into(),
        });
    }
    let scored: String = passphrase.chars().take(SCORED_PREFIX).collect();
    let estimate = zxcvbn::zxcvbn(&scored, &["securechat"]);
    if u8::from(estimate.score()) >= PASSPHRASE_MIN_SCORE {
        return Ok(());
    }
    let mut message = String::from("This passphrase is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push_str(&format!(": {warning}"));
        }
        for suggestion in feedback.suggestions() {
            message.push_str(&format!(" {suggestion}"));
        }
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    message.push_str(
        " Four or more unrelated words make a strong one, or use a recovery key instead.",
    );
    Err(Error::WeakPassphrase {
        code: "weak_passphrase",
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passphrases_and_the_login_password_are_refused() {
        for weak in [
            "password123",
            "qwertyuiop",
            "securechat2024",
            "aaaaaaaaaaaa",
        ] {
            let err = check_passphrase(weak, false).unwrap_err();
            assert_eq!(err.code(), Some("weak_passphrase"), "{weak}");
            assert!(err.to_string().contains("recovery key"), "{err}");
        }
        let strong = "plinth orbit saffron ledger kettle";
        assert!(check_passphrase(strong, false).is_ok());
        assert_eq!(
            check_passphrase(strong, true).unwrap_err().code(),
            Some("passphrase_is_password")
        );
    }
}
