//! Standard output that a closed pipe (`securechat-cli tail … | head`)
//! ends quietly instead of panicking, as `println!` would.

use std::io::{self, Write};

use anyhow::{Context, Result};

/// Whether the reader of standard output has gone away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Ok,
    ReaderGone,
}

/// Writes `text` and flushes it, so a reader sees each line as it comes.
pub fn write(text: &str) -> Result<Written> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(Written::Ok),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(Written::ReaderGone),
        Err(error) => Err(error).context("cannot write to standard output"),
    }
}

/// Writes `text`; a reader that has gone away is not an error.
pub fn write_all(text: &str) -> Result<()> {
    write(text).map(|_| ())
}
