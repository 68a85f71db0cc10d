// The text rules of message search — the query language (the server's:
// words, "phrases", from:, in:, before:, after:, has:file, has:link), how
// text is folded and matched, the local index's tokens (trigrams and CJK
// characters), the relevance score, has:link and the snippet — as the
// page calls them. The rules themselves are written once, in Rust (crates/securechat-search),
// and run here through the E2EE core's WebAssembly module, so local results
// of encrypted channels match, sort and read exactly as the server's do.
// This file only types them and words a refused query in the page's
// language.

import { loadedWasm, loadWasm, type Wasm } from '../e2ee/core.ts';
import { t } from '../i18n/index.ts';

/** Loads the WebAssembly module the rules run in; await it before calling anything else here. */
export async function loadSearchRules(): Promise<void> {
  await loadWasm();
}

/** Whether the rules can be called now (the module is loaded). */
export function searchRulesLoaded(): boolean {
  return loadedWasm() !== null;
}

function rules(): Wasm {
  const wasm = loadedWasm();
  if (wasm === null) throw new Error('search rules called before loadSearchRules()');
  return wasm;
}

/** Filters of a query, as the server reads them. */
export interface Filters {
  from: string | null;
  in: string | null;
  /** Sent before this instant (ms): the start of the `before:` day, UTC. */
  beforeMs: number | null;
  /** Sent from this instant (ms): the day after the `after:` day, UTC. */
  afterMs: number | null;
  hasFile: boolean;
  hasLink: boolean;
}

export interface Query extends Filters {
  /** Words and phrases, lower-cased, each to be found as a substring. */
  terms: string[];
}

/** A query the server would refuse, with its reason in words that say what to change; `code` is the rules' (securechat-search's QueryError). */
export class QueryError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

type FilterKey = 'from' | 'in' | 'before' | 'after' | 'has';

/** One token of the query text: where it is (UTF-16 offsets), so a filter chip can remove exactly it. */
export interface Token {
  text: string;
  start: number;
  end: number;
  phrase: boolean;
  /** The filter this token is, or null for a word to search for. */
  filter: { key: FilterKey; value: string } | null;
}

/** Splits a query into words and "quoted phrases" (an unclosed quote runs to the end). */
export function tokens(q: string): Token[] {
  return JSON.parse(rules().searchTokens(q)) as Token[];
}

/** A filter token (`key:value`), split; null for a word. */
export function filterOf(token: Token): Token['filter'] {
  return token.filter;
}

interface Refusal {
  code: string;
  message: string;
  max?: number;
  key?: string;
  value?: string;
}

/** A refusal in the page's language (the rules' English message for a code this page does not know). */
function refusalText(e: Refusal): string {
  switch (e.code) {
    case 'too_long':
      return t('search.tooLong', { max: e.max });
    case 'control_characters':
      return t('search.controls');
    case 'too_many_terms':
      return t('search.tooMany', { max: e.max });
    case 'bad_date':
      return t('search.badDate', { key: e.key, value: e.value });
    case 'bad_has':
      return t('search.badHas', { value: e.value });
    default:
      return e.message;
  }
}

/** Reads a query as the server does; throws QueryError where the server answers 400, and for a query with nothing to look for. */
export function parseQuery(q: string): Query {
  const parsed = JSON.parse(rules().searchParse(q)) as { query: Query; empty: boolean } | { error: Refusal };
  if ('error' in parsed) throw new QueryError(refusalText(parsed.error), parsed.error.code);
  if (parsed.empty) throw new QueryError(t('search.empty'), 'empty');
  return parsed.query;
}

/** `q` without the token at [start, end) (a removed filter chip), spaces tidied. */
export function withoutToken(q: string, token: Token): string {
  return `${q.slice(0, token.start)} ${q.slice(token.end)}`.replace(/\s+/gu, ' ').trim();
}

/** Whether `text` contains every term (any case). */
export function matchesAll(text: string, terms: readonly string[]): boolean {
  return rules().searchMatchesAll(text, JSON.stringify(terms));
}

/** The server's relevance: occurrences of the terms per character of the text (+16), ×10⁶, an integer. */
export function score(text: string, terms: readonly string[]): number {
  return rules().searchScore(text, JSON.stringify(terms));
}

/** Whether a message's text links somewhere (has:link), as the server decides. */
export function hasLink(text: string): boolean {
  return rules().searchHasLink(text);
}

/** What the local index files `text` under: its trigrams and each Chinese, Japanese or Korean character. */
export function indexTokens(text: string): Set<string> {
  return new Set(JSON.parse(rules().searchIndexTokens(text)) as string[]);
}

/** What the local index looks a query word up by (none: a short word it cannot narrow down). */
export function queryTokens(term: string): string[] {
  return JSON.parse(rules().searchQueryTokens(term)) as string[];
}

/** A run of a snippet; `match` runs are the query's words. */
export interface Segment {
  text: string;
  match: boolean;
}

/** The part of `text` a result shows: a window around the first match, matches marked (the server's rule). */
export function snippet(content: string, terms: readonly string[]): Segment[] {
  return JSON.parse(rules().searchSnippet(content, JSON.stringify(terms))) as Segment[];
}
