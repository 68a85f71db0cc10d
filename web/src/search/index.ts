// The local search index of encrypted channels: the messages this browser
// decrypted, findable by substring in any script, with no plaintext at rest.
//
// Each message is one AES-GCM record (channel, sender, time, text) under its
// id. The inverted index maps blinded tokens — HMAC(key, trigram) — to the
// ids of messages containing the trigram; each batch of messages appends one
// sealed chunk per token, so indexing never reads or rewrites a list. A query
// blinds its words' trigrams, intersects their posting lists, opens the
// candidate records newest first until the newest 1000 matches are found
// (the server ranks its newest 1000 too) and confirms each word as a
// substring (which also drops stale postings of edited or deleted messages:
// records are the truth).
// Chinese, Japanese and Korean characters are also posted one by one and
// as pairs of adjacent ones, so a word of one or two of them (most Chinese
// words), which has no trigram, is one posting list. Each message is also
// posted under its sender (`senderToken`), so `from:` narrows the
// candidates before any record is opened. Other words shorter than three
// characters have no token: such a query scans the newest records instead,
// a bounded number of them.

import { IndexDb, type PostingChunk } from './db.ts';
import { blind, type IndexKeys, open, seal, type Sealed } from './keys.ts';
import { hasLink, indexTokens, matchesAll, type Query, queryTokens, score } from './text.ts';

/** A decrypted message as the index keeps it. */
export interface IndexedMessage {
  id: number;
  channel_id: number;
  sender_id: number | null;
  sender_username: string | null;
  created_at: string;
  /** What search matches: the text, or a file's caption and name. */
  text: string;
  has_file: boolean;
}

/** A local result: the message and its relevance (the server's score). */
export interface LocalHit {
  message: IndexedMessage;
  score: number;
}

/** Most records a query without trigrams opens (newest first). */
export const SCAN_LIMIT = 5000;
/** Most candidates a query opens (newest first) when its trigrams are very common. */
const CANDIDATE_LIMIT = 5000;
/** Most results a query returns. */
const RESULT_LIMIT = 200;
/** Most matches a query ranks: the newest ones, as the server ranks its newest 1000. */
const RANKED = 1000;
/** Candidate records opened at a time, newest first, until `RANKED` of them match. */
const BATCH = 500;

const recordAt = (id: number) => `record:${id}`;
const postingAt = (token: string, chunk: number) => `posting:${token}:${chunk}`;

/** Milliseconds of wall time the index's writes spent in each step, since the page opened it. */
export interface WriteTimes {
  /** Sealing the records (AES-GCM, one per message). */
  sealRecords: number;
  /** Splitting texts into trigrams and blinding each new one (HMAC). */
  tokens: number;
  /** Sealing the batch's posting chunks (AES-GCM, one per token). */
  sealPostings: number;
  /** The IndexedDB transaction that stores them. */
  store: number;
  /** Posting chunks written. */
  chunks: number;
}

export class LocalIndex {
  /** Where the writes' time went (read by the backfill's progress, for benchmarks). */
  readonly spent: WriteTimes = { sealRecords: 0, tokens: 0, sealPostings: 0, store: 0, chunks: 0 };
  /** Trigram → token, for this page's life only (saves an HMAC per repeated trigram). */
  private readonly tokens = new Map<string, string>();
  private chunk = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly db: IndexDb,
    private readonly keys: IndexKeys,
  ) {}

  /**
   * Opens `userId`'s index under `keys`; an index written under other keys
   * (this browser became another device, or restored other keys) cannot be
   * read and is deleted first.
   */
  static async open(userId: number, keys: IndexKeys): Promise<LocalIndex> {
    let db = await IndexDb.open(userId);
    const check = await db.meta<string>('check');
    if (check !== undefined && check !== keys.check) {
      db.close();
      await IndexDb.remove(userId);
      db = await IndexDb.open(userId);
    }
    if (check !== keys.check) await db.setMeta('check', keys.check);
    const index = new LocalIndex(db, keys);
    index.chunk = (await db.meta<number>('chunk')) ?? 0;
    return index;
  }

  close(): void {
    this.db.close();
  }

  private async token(trigram: string): Promise<string> {
    let token = this.tokens.get(trigram);
    if (token === undefined) {
      token = await blind(this.keys.blind, trigram);
      this.tokens.set(trigram, token);
    }
    return token;
  }

  /** Adds (or replaces: an edit) messages; writes are queued in order. */
  add(messages: readonly IndexedMessage[]): Promise<void> {
    if (messages.length === 0) return this.writing;
    const run = this.writing.then(() => this.write(messages));
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async write(messages: readonly IndexedMessage[]): Promise<void> {
    const chunk = this.chunk++;
    let at = performance.now();
    const lap = (step: Exclude<keyof WriteTimes, 'chunks'>) => {
      const now = performance.now();
      this.spent[step] += now - at;
      at = now;
    };
    // WebCrypto works on its own threads: a batch's seals and HMACs are
    // issued at once, not awaited one after the other.
    const records = await Promise.all(messages.map(async (m) => ({ id: m.id, sealed: await seal(this.keys.seal, recordAt(m.id), m) })));
    lap('sealRecords');
    const perMessage = messages.map((m) => [...indexTokens(m.text), ...(m.sender_username === null ? [] : [senderToken(m.sender_username)])]);
    const fresh = new Set<string>();
    for (const set of perMessage) for (const trigram of set) if (!this.tokens.has(trigram)) fresh.add(trigram);
    await Promise.all([...fresh].map((trigram) => this.token(trigram)));
    const byToken = new Map<string, number[]>();
    for (const [i, m] of messages.entries()) {
      for (const trigram of perMessage[i]!) {
        const token = this.tokens.get(trigram)!;
        const ids = byToken.get(token);
        if (ids === undefined) byToken.set(token, [m.id]);
        else ids.push(m.id);
      }
    }
    lap('tokens');
    const postings: PostingChunk[] = await Promise.all([...byToken].map(async ([token, ids]) => ({ token, ids: await seal(this.keys.seal, postingAt(token, chunk), ids) })));
    lap('sealPostings');
    await this.db.write(records, postings, chunk);
    lap('store');
    this.spent.chunks += postings.length;
  }

  /** Forgets messages (deleted); their postings go stale and are dropped at query time. */
  remove(ids: readonly number[]): Promise<void> {
    const run = this.writing.then(() => this.db.removeRecords(ids));
    this.writing = run.catch(() => undefined);
    return run;
  }

  /**
   * Every indexed message whose text holds the tokens of all the query's
   * words that have some, and that the `from:` sender wrote; null when the
   * query has no token to narrow it down.
   */
  private async candidates(query: Query): Promise<number[] | null> {
    const wanted = new Set<string>();
    for (const term of query.terms) for (const t of queryTokens(term)) wanted.add(t);
    if (query.from !== null) wanted.add(senderToken(query.from));
    if (wanted.size === 0) return null;
    const tokens = await Promise.all([...wanted].map((t) => this.token(t)));
    const lists = await this.db.postings(tokens);
    let result: Set<number> | null = null;
    // Smallest list first: the intersection shrinks fastest.
    const ordered = [...lists.entries()].sort((a, b) => a[1].length - b[1].length);
    for (const [token, chunks] of ordered) {
      const ids = new Set<number>();
      // WebCrypto works on its own threads: all of a token's chunks are opened at once.
      const opened = await Promise.all(chunks.map(({ chunk, ids: sealed }) => open<number[]>(this.keys.seal, postingAt(token, chunk), sealed)));
      for (const list of opened) for (const id of list) if (result === null || result.has(id)) ids.add(id);
      result = ids;
      if (result.size === 0) break;
    }
    return [...(result ?? [])].sort((a, b) => b - a).slice(0, CANDIDATE_LIMIT);
  }

  /**
   * The indexed messages matching `query`, best first (`relevance`) or newest
   * first; `channelName` reads `in:` (null: not a channel of mine).
   */
  async search(query: Query, options: { sort: 'relevance' | 'newest'; channelId?: number | null; channelName: (id: number) => string | null }): Promise<LocalHit[]> {
    const ids = await this.candidates(query);
    const hits: LocalHit[] = [];
    const take = async (sealed: readonly { id: number; sealed: Sealed }[]) => {
      const opened = await Promise.all(sealed.map(({ id, sealed: record }) => open<IndexedMessage>(this.keys.seal, recordAt(id), record).catch(() => null)));
      for (const m of opened) {
        if (m === null || !matches(m, query, options)) continue;
        hits.push({ message: m, score: score(m.text, query.terms) });
      }
    };
    if (ids === null) await take(await this.db.newest(SCAN_LIMIT));
    // Newest first, a batch at a time: a common word stops at its newest matches instead of opening every candidate.
    else for (let i = 0; i < ids.length && hits.length < RANKED; i += BATCH) await take(await this.db.records(ids.slice(i, i + BATCH)));
    hits.sort((a, b) => (options.sort === 'relevance' ? b.score - a.score : 0) || b.message.id - a.message.id);
    return hits.slice(0, RESULT_LIMIT);
  }

  /** How many messages the index holds. */
  count(): Promise<number> {
    return this.db.count();
  }

  /** Reads a sealed value of the index's own state (backfill progress). */
  async state<T>(name: string): Promise<T | undefined> {
    const sealed = await this.db.meta<Sealed>(`state:${name}`);
    return sealed === undefined ? undefined : open<T>(this.keys.seal, `state:${name}`, sealed);
  }

  async setState(name: string, value: unknown): Promise<void> {
    await this.db.setMeta(`state:${name}`, await seal(this.keys.seal, `state:${name}`, value));
  }
}

/**
 * The token a message is filed under for its sender, so that `from:` is one
 * posting list. It starts with a character no text token holds (text tokens
 * are trigrams and CJK characters or pairs of them, cut from folded text),
 * and is longer than any of them; like every token it is blinded before it
 * is stored.
 */
function senderToken(username: string): string {
  return `\u0000from:${username.toLowerCase()}`;
}

function matches(m: IndexedMessage, q: Query, options: { channelId?: number | null; channelName: (id: number) => string | null }): boolean {
  if (options.channelId != null && m.channel_id !== options.channelId) return false;
  if (!matchesAll(m.text, q.terms)) return false;
  if (q.from !== null && (m.sender_username ?? '').toLowerCase() !== q.from) return false;
  if (q.in !== null && (options.channelName(m.channel_id) ?? '').toLowerCase() !== q.in) return false;
  const at = Date.parse(m.created_at);
  if (q.beforeMs !== null && !(at < q.beforeMs)) return false;
  if (q.afterMs !== null && !(at >= q.afterMs)) return false;
  if (q.hasFile && !m.has_file) return false;
  if (q.hasLink && !hasLink(m.text)) return false;
  return true;
}
