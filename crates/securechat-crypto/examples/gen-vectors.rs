//! Writes the deterministic test vectors to `crates/securechat-crypto/vectors/`.
//!
//! ```sh
//! cargo run -p securechat-crypto --example gen-vectors
//! ```
//! The output depends only on fixed secrets and seeded RNGs, so running it
//! twice gives identical files; `tests/vectors.rs` fails if the files and the
//! code drift apart.

#[path = "../tests/support/vectors.rs"]
mod vectors;

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    std::fs::create_dir_all(&dir)?;
    for (name, value) in vectors::all()? {
        let path = dir.join(name);
        std::fs::write(&path, vectors::render(&value))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
