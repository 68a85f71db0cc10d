//! The server's structure, checked: the rules of docs/ARCHITECTURE.md that
//! a reader could otherwise only check by reading every file.
//!
//! The source is parsed with `syn`; nothing here runs the server. Each test
//! names the invariant it guards, and fails with the files that break it.
//!
//! An *import* is a path that leaves its own file: `use crate::…`,
//! `super::…`, `self::child::…` or a child module's name, in `use` items, in
//! code and in macro bodies. `pub use` re-exports are not imports: a module
//! that re-exports its children is their facade, not their user. `#[cfg(test)]`
//! modules are skipped: tests may reach anywhere.

#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// One parsed source file of the server crate.
struct SourceFile {
    /// Path below `src/`, with `/` separators (`rooms/store/mod.rs`).
    rel: String,
    /// Files this one imports (by `rel`), never itself.
    imports: BTreeSet<String>,
    /// Every string literal, including those inside macro bodies.
    strings: Vec<String>,
    /// Every function defined in the file (outside test modules).
    functions: BTreeSet<String>,
    /// The last segment of every path the code uses (what it calls or names).
    names: BTreeSet<String>,
}

/// The crate's source: every file by its module path.
struct Crate {
    files: BTreeMap<String, SourceFile>,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `rooms/store/mod.rs` → `["rooms", "store"]`; `lib.rs` and `main.rs` → `[]`.
fn module_of(rel: &str) -> Vec<String> {
    let stem = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

impl Crate {
    fn load() -> Crate {
        let src = src_dir();
        let mut paths = Vec::new();
        rust_files(&src, &mut paths);
        let rels: Vec<String> = paths
            .iter()
            .map(|p| {
                p.strip_prefix(&src)
                    .expect("below src")
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        // main.rs is the binary: a crate of its own that reaches the library
        // by name, so it takes no part in the library's module tree.
        let modules: BTreeMap<Vec<String>, String> = rels
            .iter()
            .filter(|r| r.as_str() != "main.rs")
            .map(|r| (module_of(r), r.clone()))
            .collect();
        let mut files = BTreeMap::new();
        for (path, rel) in paths.iter().zip(&rels) {
            if rel == "main.rs" {
                continue;
            }
            let text = std::fs::read_to_string(path).expect("read source");
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("parse {rel}: {e}"));
            let mut walker = Walker {
                modules: &modules,
                file_module: module_of(rel),
                inline: Vec::new(),
                imports: BTreeSet::new(),
                strings: Vec::new(),
                functions: BTreeSet::new(),
                names: BTreeSet::new(),
            };
            walker.visit_file(&ast);
            let mut imports = walker.imports;
            imports.remove(rel);
            files.insert(
                rel.clone(),
                SourceFile {
                    rel: rel.clone(),
                    imports,
                    strings: walker.strings,
                    functions: walker.functions,
                    names: walker.names,
                },
            );
        }
        Crate { files }
    }

    /// Strongly connected components with more than one file (Tarjan).
    fn cycles(&self) -> Vec<Vec<String>> {
        struct Tarjan<'a> {
            graph: &'a BTreeMap<String, SourceFile>,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            next: usize,
            out: Vec<Vec<String>>,
        }
        impl<'a> Tarjan<'a> {
            fn visit(&mut self, v: &'a str) {
                self.index.insert(v, self.next);
                self.low.insert(v, self.next);
                self.next += 1;
                self.stack.push(v);
                self.on_stack.insert(v);
                for w in &self.graph[v].imports {
                    let w = w.as_str();
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.on_stack.contains(w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack.remove(w);
                        component.push(w.to_owned());
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort();
                        self.out.push(component);
                    }
                }
            }
        }
        let mut t = Tarjan {
            graph: &self.files,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in self.files.keys() {
            if !t.index.contains_key(v.as_str()) {
                t.visit(v);
            }
        }
        t.out
    }

    /// Files (other than `allowed`) whose code contains one of `needles` as a
    /// whole string literal.
    fn literal_outside(&self, needles: &[&str], allowed: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for f in self.files.values() {
            if allowed.contains(&f.rel.as_str()) {
                continue;
            }
            for s in &f.strings {
                if needles.contains(&s.as_str()) {
                    out.push(format!("{}: \"{s}\"", f.rel));
                }
            }
        }
        out
    }
}

struct Walker<'a> {
    modules: &'a BTreeMap<Vec<String>, String>,
    file_module: Vec<String>,
    /// Inline modules entered inside this file.
    inline: Vec<String>,
    imports: BTreeSet<String>,
    strings: Vec<String>,
    functions: BTreeSet<String>,
    names: BTreeSet<String>,
}

impl Walker<'_> {
    fn current(&self) -> Vec<String> {
        let mut m = self.file_module.clone();
        m.extend(self.inline.iter().cloned());
        m
    }

    /// Resolves a path's leading segments to the file that defines the
    /// deepest module they name, and records it.
    fn record(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let module = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.current(),
            "super" => {
                let mut m = self.current();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    m.pop();
                    rest = &rest[1..];
                }
                return self.resolve(m, rest);
            }
            _ => {
                // A child module named without `self::` (2018 paths).
                let mut child = self.current();
                child.push(first.clone());
                if self.modules.contains_key(&child) {
                    self.current()
                } else {
                    return;
                }
            }
        };
        let rest = if matches!(first.as_str(), "crate" | "self") {
            &segments[1..]
        } else {
            segments
        };
        self.resolve(module, rest);
    }

    fn resolve(&mut self, mut module: Vec<String>, rest: &[String]) {
        let mut best = self.modules.get(&module).cloned();
        for seg in rest {
            module.push(seg.clone());
            match self.modules.get(&module) {
                Some(file) => best = Some(file.clone()),
                None => break,
            }
        }
        if let Some(file) = best {
            self.imports.insert(file);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.record(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.record(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.record(&prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// Macro bodies are not parsed by `syn`: string literals and
    /// `crate::…` / `super::…` paths are read from the tokens.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Literal(lit) => {
                    if let Ok(s) = syn::parse_str::<syn::LitStr>(&lit.to_string()) {
                        self.strings.push(s.value());
                    }
                }
                TokenTree::Ident(id) if id == "crate" || id == "super" => {
                    let mut segments = vec![id.to_string()];
                    let mut j = i + 1;
                    loop {
                        let colons = matches!(trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':')
                            && matches!(trees.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                        match (colons, trees.get(j + 2)) {
                            (true, Some(TokenTree::Ident(next))) => {
                                segments.push(next.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    self.record(&segments);
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().contains("test"))
    })
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if is_cfg_test(&m.attrs) || m.content.is_none() {
            return;
        }
        self.inline.push(m.ident.to_string());
        visit::visit_item_mod(self, m);
        self.inline.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if is_cfg_test(&f.attrs) {
            return;
        }
        self.functions.insert(f.sig.ident.to_string());
        visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if is_cfg_test(&f.attrs) {
            return;
        }
        self.functions.insert(f.sig.ident.to_string());
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if is_cfg_test(&u.attrs) || !matches!(u.vis, syn::Visibility::Inherited) {
            return;
        }
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(last) = segments.last() {
            self.names.insert(last.clone());
        }
        if segments.len() > 1 {
            self.record(&segments);
        }
        visit::visit_path(self, p);
    }

    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        self.strings.push(s.value());
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
        visit::visit_macro(self, m);
    }

    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {
        // Attributes (docs, derives, OpenAPI annotations) import nothing.
    }
}

/// No file of the server reaches, through its imports, back to itself. A
/// cycle is how a change in one domain ends up recompiling and re-reading
/// all of them: the router once imported every domain while every domain
/// imported the router's error type.
#[test]
fn no_import_cycle_among_the_servers_files() {
    let krate = Crate::load();
    assert!(krate.files.len() > 50, "the source was not found");
    let cycles = krate.cycles();
    assert!(
        cycles.is_empty(),
        "import cycles among the server's files:\n{}",
        cycles
            .iter()
            .map(|c| format!("  {}", c.join(" → ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `app/` imports every domain, so only the server start may import it;
/// `http/` is what every domain's handlers share, so it imports no domain.
#[test]
fn the_router_is_imported_only_by_the_server_and_http_imports_no_domain() {
    let krate = Crate::load();
    let users_of_app: Vec<&str> = krate
        .files
        .values()
        .filter(|f| !f.rel.starts_with("app/"))
        .filter(|f| f.imports.iter().any(|i| i.starts_with("app/")))
        .map(|f| f.rel.as_str())
        .collect();
    assert_eq!(users_of_app, ["server/mod.rs"], "files that import app/");

    let shared = ["error.rs", "state.rs"];
    let mut leaks = Vec::new();
    for f in krate.files.values().filter(|f| f.rel.starts_with("http/")) {
        for i in &f.imports {
            if !i.starts_with("http/") && !shared.contains(&i.as_str()) {
                leaks.push(format!("{} → {i}", f.rel));
            }
        }
    }
    assert!(leaks.is_empty(), "http/ imports a domain: {leaks:#?}");
}

/// "Handlers never build SQL": a statement appears only in the files
/// ARCHITECTURE.md names as data access.
#[test]
fn sql_lives_only_in_the_data_access_files() {
    let krate = Crate::load();
    let sql_start = [
        "SELECT ",
        "INSERT ",
        "UPDATE ",
        "DELETE ",
        "WITH ",
        "CREATE ",
        "ALTER ",
        "DROP ",
        "PRAGMA ",
        "VACUUM",
        "BEGIN",
        "COMMIT",
        "TRUNCATE ",
    ];
    let data_access = |rel: &str| {
        rel.ends_with("/store.rs")
            || rel.contains("/store/")
            || rel.starts_with("storage/")
            || matches!(
                rel,
                "auth/throttle.rs" | "messages/writer.rs" | "rooms/log.rs" | "migrate.rs"
            )
    };
    let mut found = Vec::new();
    for f in krate.files.values().filter(|f| !data_access(&f.rel)) {
        for s in &f.strings {
            let head = s.trim_start().to_ascii_uppercase();
            if sql_start.iter().any(|k| head.starts_with(k)) {
                let first = s.trim().lines().next().unwrap_or_default();
                found.push(format!("{}: {first}", f.rel));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL outside the data-access files: {found:#?}"
    );
}

/// Who may read and post in a channel is decided in `rooms/access.rs`, and
/// whether an envelope is acceptable in `messages/envelope.rs`: no other
/// file produces their refusals, so no other file can decide them
/// differently (resources once re-implemented the envelope checks). History
/// pages are built in one place for HTTP and the socket alike.
#[test]
fn access_envelope_and_history_rules_are_written_once() {
    let krate = Crate::load();
    let access = krate.literal_outside(
        &["not_a_member", "insufficient_role", "channel_not_found"],
        &["rooms/access.rs"],
    );
    assert!(
        access.is_empty(),
        "access refusals outside rooms/access.rs: {access:#?}"
    );

    let envelope = krate.literal_outside(
        &[
            "plaintext_in_encrypted_channel",
            "missing_envelope",
            "invalid_envelope",
            "unexpected_envelope",
            "no_channel_key",
            "envelope_context_mismatch",
            "bad_envelope_signature",
        ],
        &["messages/envelope.rs"],
    );
    assert!(
        envelope.is_empty(),
        "envelope refusals outside messages/envelope.rs: {envelope:#?}"
    );

    let defines = |name: &str| -> Vec<&str> {
        krate
            .files
            .values()
            .filter(|f| f.functions.contains(name))
            .map(|f| f.rel.as_str())
            .collect()
    };
    assert_eq!(defines("member_channel"), ["rooms/access.rs"]);
    let history_readers: Vec<&str> = krate
        .files
        .values()
        .filter(|f| !matches!(f.rel.as_str(), "messages/history.rs" | "messages/store.rs"))
        .filter(|f| f.names.contains("page_before") || f.names.contains("page_after"))
        .map(|f| f.rel.as_str())
        .collect();
    assert!(
        history_readers.is_empty(),
        "history pages read without messages/history.rs: {history_readers:?}"
    );
}

/// Modules are private (only `cli`, used by the binary, is public), so the
/// compiler reports dead code; and no file grows past one concern's size —
/// the old `rooms/store.rs` held six areas in 896 lines.
#[test]
fn modules_are_private_and_files_stay_small() {
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).expect("lib.rs");
    let ast = syn::parse_file(&lib).expect("parse lib.rs");
    let public: Vec<String> = ast
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Mod(m) if !matches!(m.vis, syn::Visibility::Inherited) => {
                Some(m.ident.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(public, ["cli"], "public modules of lib.rs");

    const MAX_LINES: usize = 750;
    let mut paths = Vec::new();
    rust_files(&src_dir(), &mut paths);
    let large: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let lines = std::fs::read_to_string(p).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", p.display()))
        })
        .collect();
    assert!(
        large.is_empty(),
        "files above {MAX_LINES} lines: {large:#?}"
    );
}

/// The text inside a backtick pair that looks like a file or folder path.
fn backticked_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut parts = text.split('`');
    parts.next();
    while let Some(inside) = parts.next() {
        let looks_like_path = !inside.is_empty()
            && inside
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
            && (inside.contains('/')
                || [".rs", ".ts", ".tsx", ".md", ".toml", ".sh", ".json", ".css"]
                    .iter()
                    .any(|x| inside.ends_with(x)))
            && !inside.starts_with('/')
            && !inside.starts_with("http");
        if looks_like_path {
            out.push(inside.to_owned());
        }
        parts.next();
    }
    out
}

fn all_paths(dir: &Path, out: &mut Vec<String>, root: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if matches!(name.as_str(), "target" | "node_modules" | ".git" | "dist") {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .expect("below root")
            .to_string_lossy()
            .replace('\\', "/");
        if path.is_dir() {
            out.push(format!("{rel}/"));
            all_paths(&path, out, root);
        } else {
            out.push(rel);
        }
    }
}

/// Every file and folder that docs/ARCHITECTURE.md names exists somewhere
/// in the repository (the map names files relative to their section, so a
/// name matches any path that ends with it) — a rename or a deletion that
/// forgets the map fails here.
#[test]
fn every_path_the_architecture_document_names_exists() {
    let root = repo_root();
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut everything = Vec::new();
    all_paths(&root, &mut everything, &root);

    // Made by a build or named as a media type, not kept in the repository.
    let generated = ["target/", "web/dist", "application/"];
    let mut missing = Vec::new();
    for (number, line) in doc.lines().enumerate() {
        for p in backticked_paths(line) {
            if generated.iter().any(|g| p.starts_with(g)) {
                continue;
            }
            let bare = p.trim_end_matches('/');
            let found = everything.iter().any(|e| {
                let e_bare = e.trim_end_matches('/');
                (!p.ends_with('/') || e.ends_with('/'))
                    && (e_bare == bare || e_bare.ends_with(&format!("/{bare}")))
            });
            if !found {
                missing.push(format!("line {}: {p}", number + 1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths ARCHITECTURE.md names that do not exist: {missing:#?}"
    );
}

/// The `state.rs` entry names every field of `AppState`, so it cannot again
/// describe four fields of ten.
#[test]
fn the_state_entry_names_every_field_of_app_state() {
    let text = std::fs::read_to_string(src_dir().join("state.rs")).expect("state.rs");
    let ast = syn::parse_file(&text).expect("parse state.rs");
    let fields: Vec<String> = ast
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) if s.ident == "Inner" || s.ident == "AppState" => Some(s),
            _ => None,
        })
        .flat_map(|s| s.fields.iter())
        .filter_map(|f| f.ident.as_ref().map(|i| i.to_string()))
        .collect();
    assert!(
        fields.len() >= 10,
        "AppState's fields were not found: {fields:?}"
    );

    let doc = std::fs::read_to_string(repo_root().join("docs/ARCHITECTURE.md")).expect("doc");
    let entry: String = doc
        .split("\n- ")
        .find(|item| item.starts_with("`state.rs`"))
        .expect("a `state.rs` entry in ARCHITECTURE.md")
        .to_owned();
    let unnamed: Vec<&String> = fields
        .iter()
        .filter(|f| !entry.contains(&format!("`{f}`")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "fields of AppState the state.rs entry does not name: {unnamed:?}"
    );
}

/// `npm test` in tests/browser names its files one by one (so the slow ones
/// start first): a test file left off that list would never run.
#[test]
fn every_browser_test_file_is_in_the_suite() {
    let dir = repo_root().join("tests/browser");
    let package = std::fs::read_to_string(dir.join("package.json")).expect("package.json");
    let listed: Vec<&str> = package.split_whitespace().collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/browser") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".test.mjs")
            && !listed
                .iter()
                .any(|word| word.trim_matches(|c| c == '"' || c == ',') == name)
        {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "browser tests not in tests/browser/package.json's test script: {missing:?}"
    );
}
