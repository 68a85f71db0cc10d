//! Test peers written in Python (a push service, an SMTP server, TOTP
//! codes): the independent implementations some tests check the server
//! against. Each runs from a virtualenv the Makefile builds under
//! `target/`. A serving peer runs on a free
//! port of its own, with a temporary directory for what it records; it
//! prints a line containing `listening` once it accepts connections, and
//! it can be stopped and started again on the same port and directory (a
//! peer that goes away and comes back). A one-shot peer
//! ([`PeerSpec::run_once`]) prints its answer and exits.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Which peer: where its Python and its script are.
#[derive(Debug, Clone, Copy)]
pub struct PeerSpec {
    /// What it is, for messages ("the SMTP test peer").
    pub what: &'static str,
    /// Its virtualenv under `target/`, also the Makefile target that builds
    /// it; empty for a peer on Python's standard library alone.
    pub venv: &'static str,
    /// An environment variable naming another Python to use instead.
    pub python_var: &'static str,
    /// Its script, from the repository's root.
    pub script: &'static str,
    /// Its requirements file, from the repository's root (for the message
    /// when the virtualenv is missing).
    pub requirements: &'static str,
}

impl PeerSpec {
    /// Its virtualenv's Python (or the one `python_var` names); fails with
    /// how to install it when missing.
    pub fn python(&self) -> PathBuf {
        if self.venv.is_empty() {
            // A peer on the standard library alone: the system's Python.
            return std::env::var_os(self.python_var)
                .map_or_else(|| PathBuf::from("python3"), PathBuf::from);
        }
        let path = std::env::var_os(self.python_var).map_or_else(
            || {
                repository()
                    .join("target")
                    .join(self.venv)
                    .join("bin/python")
            },
            PathBuf::from,
        );
        assert!(
            path.is_file(),
            "{} is missing at {}: run `make {}` (or set {} to a Python with {} installed)",
            self.what,
            path.display(),
            self.venv,
            self.python_var,
            self.requirements,
        );
        path
    }

    /// Runs the script once, for a peer that answers on standard output
    /// rather than serving (the TOTP peer): its output, asserting success.
    pub fn run_once(&self, args: &[&str]) -> String {
        let output = Command::new(self.python())
            .arg(repository().join(self.script))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}: {}",
            self.what,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

/// A running Python peer.
pub struct PythonPeer {
    spec: PeerSpec,
    child: Option<Child>,
    port: u16,
    args: Vec<OsString>,
    dir: tempfile::TempDir,
}

/// A port on 127.0.0.1 that nothing listens on right now, for a peer
/// process to take.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl PythonPeer {
    /// Starts the peer on a free port: `script --port N` followed by the
    /// arguments `args` makes from the peer's temporary directory.
    pub fn start(spec: PeerSpec, args: impl FnOnce(&Path) -> Vec<OsString>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let args = args(dir.path());
        let mut peer = Self {
            spec,
            child: None,
            port,
            args,
            dir,
        };
        peer.run();
        peer
    }

    /// Starts the process (again) on the same port and directory, and
    /// waits until it listens.
    pub fn run(&mut self) {
        let mut child = Command::new(self.spec.python())
            .arg(repository().join(self.spec.script))
            .args(["--port", &self.port.to_string()])
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening"), "{}: {line:?}", self.spec.what);
        self.child = Some(child);
    }

    /// Stops the process; [`PythonPeer::run`] starts it again.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its temporary directory, kept while it lives.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        self.stop();
    }
}
