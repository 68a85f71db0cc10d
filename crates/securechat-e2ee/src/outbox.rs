//! The outbox of encrypted channels, kept in the state but sealed.
//!
//! A message written while its key is being made, or while offline, must
//! survive a reload, yet its plaintext must never be stored as it is. The
//! shell hands the core its pending messages (opaque JSON text); the core
//! seals them with the crypto crate's file format under a random key kept in
//! the state (each sealing derives a fresh key from a random file id, so the
//! key can be reused), and opens them again after a reload.

use securechat_crypto::encoding::{from_wire, to_wire};
use securechat_crypto::file::{self, FileKey};

use crate::error::{Refusal, Result};
use crate::machine::Machine;

impl Machine {
    /// Keeps `items` (the shell's pending messages as JSON text) sealed in
    /// the state; an empty text clears the outbox.
    pub fn keep_outbox(&mut self, items: &str) -> Result<()> {
        if items.is_empty() {
            if self.state.outbox.take().is_some() {
                self.touch();
            }
            return Ok(());
        }
        let key = match self.state.vault_key.as_deref() {
            Some(exported) => FileKey::import(exported)?,
            None => {
                let key = FileKey::generate()?;
                self.state.vault_key = Some(key.export().to_string());
                key
            }
        };
        let sealed = file::encrypt(&key, items.as_bytes())?;
        self.state.outbox = Some(to_wire(&sealed));
        self.touch();
        Ok(())
    }

    /// The pending messages kept by [`Machine::keep_outbox`], opened (empty
    /// text when there are none).
    pub fn outbox(&self) -> Result<String> {
        let (Some(sealed), Some(key)) = (&self.state.outbox, &self.state.vault_key) else {
            return Ok(String::new());
        };
        let key = FileKey::import(key)?;
        let opened = file::decrypt(&key, &from_wire(sealed)?)?;
        String::from_utf8(opened.to_vec())
            .map_err(|_| Refusal::BadInput("the kept outbox is not text".into()))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Machine, State};

    #[test]
    fn the_outbox_is_sealed_in_the_state_and_opens_after_a_reload() {
        let mut machine = Machine::new(State::new("s", 1)).unwrap();
        assert_eq!(machine.outbox().unwrap(), "");
        let items = r#"[{"content":"launch code 4711"}]"#;
        machine.keep_outbox(items).unwrap();
        let saved = machine.state().to_json();
        assert!(!saved.contains("4711"), "no plaintext in the state");
        let reloaded = Machine::new(State::from_json(&saved).unwrap()).unwrap();
        assert_eq!(reloaded.outbox().unwrap(), items);
        machine.keep_outbox("").unwrap();
        assert_eq!(machine.outbox().unwrap(), "");
    }
}
