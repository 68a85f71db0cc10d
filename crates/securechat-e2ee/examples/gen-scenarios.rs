//! Writes the lying-server scenarios to `crates/securechat-e2ee/scenarios/`.
//!
//! ```sh
//! cargo run -p securechat-e2ee --example gen-scenarios
//! ```
//! The output depends only on seeded RNGs and deterministic signatures, so
//! running it twice gives identical files; `tests/lying_server.rs` fails if
//! the files and the generator drift apart. Files of scenarios that no
//! longer exist are removed.

#[path = "../tests/support/scenarios.rs"]
mod scenarios;

use std::collections::BTreeSet;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::create_dir_all(&dir)?;
    let mut written = BTreeSet::new();
    for (name, value) in scenarios::all() {
        let path = dir.join(&name);
        std::fs::write(&path, scenarios::render(&value))?;
        println!("wrote {}", path.display());
        written.insert(name);
    }
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.ends_with(".json") && !written.contains(&name) {
            std::fs::remove_file(&path)?;
            println!("removed {}", path.display());
        }
    }
    Ok(())
}
