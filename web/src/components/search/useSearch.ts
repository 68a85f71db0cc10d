// Runs a search as the person types: the server's first page and the local
// index's results, merged (search/merge.ts); "Load more" fetches the
// server's next page. The server's 400 is shown in its own words.

import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import { rooms } from '../../chat/store.ts';
import { searchServer, type ServerResult, type Sort } from '../../search/api.ts';
import type { LocalHit } from '../../search/index.ts';
import { localIndex } from '../../search/local.ts';
import type { Hit } from '../../search/merge.ts';
import { loadSearchRules, parseQuery, type Query, score, snippet } from '../../search/text.ts';
import { authenticated } from '../../state/session.ts';
import { t } from '../../i18n/index.ts';

export interface SearchState {
  status: 'idle' | 'loading' | 'done';
  server: Hit[];
  next: string | null;
  local: Hit[];
  error: string | null;
  /** Milliseconds the local index took for this query (shown to nobody; read by tests and benchmarks). */
  localMs: number | null;
  /** The text these results are for (set once both sources answered). */
  query: string;
}

const IDLE: SearchState = { status: 'idle', server: [], next: null, local: [], error: null, localMs: null, query: '' };
const DEBOUNCE_MS = 250;

function serverHit(r: ServerResult, terms: readonly string[]): Hit {
  return {
    messageId: r.message.id,
    channelId: r.channel.id,
    channelName: r.channel.name,
    roomName: r.room.name,
    roomKind: r.room.kind,
    local: false,
    sender: r.message.sender_username,
    createdAt: r.message.created_at,
    snippet: r.snippet,
    score: score(r.message.content ?? '', terms),
  };
}

function localHit(h: LocalHit, terms: readonly string[]): Hit | null {
  const room = rooms.value.find((r) => r.channels.some((c) => c.id === h.message.channel_id));
  const channel = room?.channels.find((c) => c.id === h.message.channel_id);
  if (room === undefined || channel === undefined) return null;
  return {
    messageId: h.message.id,
    channelId: channel.id,
    channelName: channel.name,
    roomName: room.name,
    roomKind: room.kind,
    local: true,
    sender: h.message.sender_username,
    createdAt: h.message.created_at,
    snippet: snippet(h.message.text, terms),
    score: h.score,
  };
}

function channelName(id: number): string | null {
  for (const r of rooms.value) for (const c of r.channels) if (c.id === id) return c.name;
  return null;
}

async function searchLocal(query: Query, sort: Sort): Promise<{ hits: Hit[]; ms: number }> {
  const index = localIndex();
  if (index === null) return { hits: [], ms: 0 };
  const started = performance.now();
  const found = await index.search(query, { sort, channelName });
  return { hits: found.flatMap((h) => localHit(h, query.terms) ?? []), ms: performance.now() - started };
}

export function useSearch(text: string, sort: Sort): { state: SearchState; loadMore: () => Promise<void> } {
  const [state, setState] = useState<SearchState>(IDLE);
  const current = useRef(0);

  useEffect(() => {
    const q = text.trim();
    const run = ++current.current;
    if (q === '') {
      setState(IDLE);
      return;
    }
    setState((s) => ({ ...s, status: 'loading' }));
    const timer = setTimeout(() => void start(), DEBOUNCE_MS);
    async function start(): Promise<void> {
      // The query's rules run in the E2EE core's WebAssembly module, loaded
      // at sign-in; a search typed before it finished waits for it.
      try {
        await loadSearchRules();
      } catch (err) {
        if (run === current.current) setState({ ...IDLE, status: 'done', error: describeError(err), query: q });
        return;
      }
      if (run !== current.current) return;
      let query: Query | null = null;
      try {
        query = parseQuery(q);
      } catch {
        // The server says what is wrong with it, in the same words.
      }
      const terms = query?.terms ?? [];
      const local = query === null ? Promise.resolve({ hits: [], ms: 0 }) : searchLocal(query, sort);
      const server = authenticated(() => searchServer(q, { sort }));
      void Promise.allSettled([server, local]).then(([s, l]) => {
        if (run !== current.current) return;
        const error = s.status === 'rejected' ? describeError(s.reason) : l.status === 'rejected' ? t('search.localFailed', { error: l.reason instanceof Error ? l.reason.message : String(l.reason) }) : null;
        setState({
          status: 'done',
          server: s.status === 'fulfilled' ? s.value.results.map((r) => serverHit(r, terms)) : [],
          next: s.status === 'fulfilled' ? s.value.next : null,
          local: l.status === 'fulfilled' ? l.value.hits : [],
          localMs: l.status === 'fulfilled' ? l.value.ms : null,
          error,
          query: q,
        });
      });
    }
    return () => clearTimeout(timer);
  }, [text, sort]);

  async function loadMore(): Promise<void> {
    const run = current.current;
    const q = text.trim();
    if (state.next === null) return;
    let terms: string[] = [];
    try {
      await loadSearchRules();
      terms = parseQuery(q).terms;
    } catch {
      terms = [];
    }
    try {
      const page = await authenticated(() => searchServer(q, { sort, before: state.next }));
      if (run !== current.current) return;
      setState((s) => ({ ...s, server: [...s.server, ...page.results.map((r) => serverHit(r, terms))], next: page.next, error: null }));
    } catch (err) {
      if (run === current.current) setState((s) => ({ ...s, error: describeError(err) }));
    }
  }

  return { state, loadMore };
}
