//! The JavaScript API (wasm-bindgen, `--target web`): one class, `Machine`,
//! whose `call(op, args)` runs [`crate::call`] with JSON text in and out.
//!
//! The page keeps only transport, storage glue and UI: it loads the state
//! document from IndexedDB, constructs the machine with it, feeds it what
//! the server said, does what it answers, and saves `state()` whenever
//! `takeDirty()` is true. Refusals are thrown as `Error` objects whose
//! `code` property is [`crate::Refusal::code`].

use wasm_bindgen::prelude::*;

use crate::machine::Machine;
use crate::state::State;

fn js_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}

/// A client's end-to-end encryption state machine.
#[wasm_bindgen(js_name = Machine)]
pub struct WasmMachine(Machine);

#[wasm_bindgen(js_class = Machine)]
impl WasmMachine {
    /// A machine over a saved state document (JSON), or a new state for
    /// `userId` on `server` when `state` is empty.
    #[wasm_bindgen(constructor)]
    pub fn new(state: &str, server: &str, user_id: f64) -> Result<WasmMachine, JsValue> {
        if user_id.fract() != 0.0 || user_id.abs() > 9_007_199_254_740_991.0 {
            return Err(js_error("bad_input", "ids must be safe integers"));
        }
        // Exact: an integer within ±2^53.
        let user_id = user_id as i64;
        let state = if state.is_empty() {
            State::new(server, user_id)
        } else {
            State::from_json(state).map_err(|e| js_error("bad_state", &e))?
        };
        if state.user_id != user_id {
            return Err(js_error("bad_state", "this state belongs to another user"));
        }
        Machine::new(state)
            .map(WasmMachine)
            .map_err(|e| js_error(e.code(), &e.to_string()))
    }

    /// Runs one operation; `args` and the answer are JSON text.
    pub fn call(&mut self, op: &str, args: &str) -> Result<String, JsValue> {
        let args: serde_json::Value =
            serde_json::from_str(args).map_err(|e| js_error("bad_input", &e.to_string()))?;
        crate::call(&mut self.0, op, &args)
            .map(|v| v.to_string())
            .map_err(|e| js_error(e.code(), &e.to_string()))
    }

    /// The state document to save (JSON).
    pub fn state(&self) -> String {
        self.0.state().to_json()
    }

    /// Whether the state changed since the last call; save it if so.
    #[wasm_bindgen(js_name = takeDirty)]
    pub fn take_dirty(&mut self) -> bool {
        self.0.take_dirty()
    }
}

// The search rules (`securechat-search`), for the page's local search of
// encrypted channels; see `search.rs`. Terms are passed as a JSON array of
// strings, and structured answers come back as JSON text.

/// Parses a search query: `{query, empty}` or `{error: {code, message, …}}`.
#[wasm_bindgen(js_name = searchParse)]
pub fn search_parse(q: &str) -> String {
    crate::search::parse(q).to_string()
}

/// A query's tokens with their UTF-16 spans and filters (JSON).
#[wasm_bindgen(js_name = searchTokens)]
pub fn search_tokens(q: &str) -> String {
    crate::search::tokens(q).to_string()
}

/// Whether `text` contains every term, in any case.
#[wasm_bindgen(js_name = searchMatchesAll)]
pub fn search_matches_all(text: &str, terms: &str) -> bool {
    securechat_search::matches_all(text, &crate::search::terms_from_json(terms))
}

/// The relevance of `text` for the terms (an integer, exact in a double).
#[wasm_bindgen(js_name = searchScore)]
pub fn search_score(text: &str, terms: &str) -> f64 {
    securechat_search::score(text, &crate::search::terms_from_json(terms)) as f64
}

/// Whether `text` links somewhere (`has:link`).
#[wasm_bindgen(js_name = searchHasLink)]
pub fn search_has_link(text: &str) -> bool {
    securechat_search::has_link(text)
}

/// What a local index files `text` under (JSON array of strings).
#[wasm_bindgen(js_name = searchIndexTokens)]
pub fn search_index_tokens(text: &str) -> String {
    crate::search::index_tokens(text).to_string()
}

/// What a local index looks the word `term` up by (JSON array of strings).
#[wasm_bindgen(js_name = searchQueryTokens)]
pub fn search_query_tokens(term: &str) -> String {
    crate::search::query_tokens(term).to_string()
}

/// The snippet of `text` for the terms (JSON `[{text, match}]`).
#[wasm_bindgen(js_name = searchSnippet)]
pub fn search_snippet(text: &str, terms: &str) -> String {
    crate::search::snippet(text, &crate::search::terms_from_json(terms)).to_string()
}

// The mention rule (`securechat_search::mention`), the one the server's
// pushes and digests follow: the page highlights and the service worker
// notifies by it. A channel-wide mention in an encrypted channel is
// counted through the machine's `mention` operation instead, which checks
// the sender against the verified log.

/// Whether `text` mentions `username` or everyone, outside code.
#[wasm_bindgen(js_name = mentions)]
pub fn mentions(text: &str, username: &str) -> bool {
    securechat_search::mentions(text, username)
}

/// Whether `text` holds a channel-wide mention outside code.
#[wasm_bindgen(js_name = mentionsChannel)]
pub fn mentions_channel(text: &str) -> bool {
    securechat_search::mentions_channel(text)
}

/// The channel-wide names, without their `@` (JSON array of strings).
#[wasm_bindgen(js_name = channelWideNames)]
pub fn channel_wide_names() -> String {
    serde_json::json!(securechat_search::CHANNEL_WIDE).to_string()
}

/// Whether `text` mentions `username` by name, outside code.
#[wasm_bindgen(js_name = mentionsByName)]
pub fn mentions_by_name(text: &str, username: &str) -> bool {
    securechat_search::mentions_by_name(text, username)
}
