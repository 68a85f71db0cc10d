//! Reading a zip the server wrote with an independent reader: Python's
//! `zipfile`, whose `testzip` checks every entry's CRC first.

use serde_json::Value;

/// The archive's entries as `name → {sha256, text}` (text when it is
/// UTF-8; the digest hex).
pub fn unzip_independently(archive: &[u8]) -> serde_json::Map<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.zip");
    std::fs::write(&path, archive).unwrap();
    let script = "import sys, zipfile, json, hashlib\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  bad = z.testzip()\n\
                  assert bad is None, bad\n\
                  def text(b):\n\
                  \x20   try:\n\
                  \x20       return b.decode('utf-8')\n\
                  \x20   except UnicodeDecodeError:\n\
                  \x20       return None\n\
                  print(json.dumps({n: {'sha256': hashlib.sha256(z.read(n)).hexdigest(), \
                  'text': text(z.read(n))} for n in z.namelist()}))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python could not read the archive: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The JSON entry `name` of an archive read by [`unzip_independently`].
pub fn json_entry(entries: &serde_json::Map<String, Value>, name: &str) -> Value {
    let text = entries[name]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no {name}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}\n{text}"))
}
