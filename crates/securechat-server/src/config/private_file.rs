//! Secrets the server makes once and keeps in the data directory
//! (`secret_key`, `vapid_private_key`): read when present, else created
//! readable by their owner only, never over an existing file.

use std::io::Write;
use std::path::Path;

use zeroize::Zeroizing;

use super::error::ConfigError;

/// The content of `path`, or `None` if there is no such file; errors
/// name `var`, the variable that would replace the file.
pub fn read(path: &Path, var: &'static str) -> Result<Option<Zeroizing<String>>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(Zeroizing::new(text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::new(
            var,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// Writes `text` to a new file at `path` (mode 0600), creating its
/// directory; fails if the file exists.
pub fn create(path: &Path, text: &str, var: &'static str) -> Result<(), ConfigError> {
    let fail = |problem: String| ConfigError::new(var, problem);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| fail(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))
}
