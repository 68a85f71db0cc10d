import { beforeAll, describe, expect, it } from 'vitest';
import { loadWasmInNode } from '../e2ee/wasm-node.ts';
import { groupByChannel, type Hit, mergeHits } from './merge.ts';
import { hasLink, indexTokens, matchesAll, parseQuery, QueryError, queryTokens, score, snippet, tokens, withoutToken } from './text.ts';

// The rules run in the WebAssembly build of crates/securechat-search (web/wasm).
beforeAll(loadWasmInNode);

describe('index and query tokens', () => {
  it('are folded, overlapping and distinct trigrams', () => {
    expect([...indexTokens('Hello hello')]).toEqual(['hel', 'ell', 'llo', 'lo ', 'o h', ' he']);
    expect([...indexTokens('İSTAN')]).toEqual(['İst', 'sta', 'tan']);
  });
  it('file Chinese, Japanese and Korean text by trigram, by character and by pair of characters', () => {
    expect([...indexTokens('加密聊天')]).toEqual(['加密聊', '密聊天', '加', '密', '聊', '天', '加密', '密聊', '聊天']);
    expect([...indexTokens('안녕하세요')]).toContain('녕하세');
  });
  it('look a short CJK word up as one token, and give nothing for another short word', () => {
    expect(queryTokens('聊天')).toEqual(['聊天']);
    expect(queryTokens('聊')).toEqual(['聊']);
    expect(queryTokens('ab')).toEqual([]);
    expect(queryTokens('加密聊天')).toEqual(['加密聊', '密聊天']);
  });
});

describe('parseQuery', () => {
  it('reads words, phrases and filters as the server does', () => {
    const q = parseQuery('Deploy "on Friday" from:@Alice in:#General before:2026-03-31 after:2026-03-01 has:file has:LINK re:x');
    expect(q.terms).toEqual(['deploy', 'on friday', 're:x']);
    expect(q.from).toBe('alice');
    expect(q.in).toBe('general');
    expect(q.beforeMs).toBe(Date.UTC(2026, 2, 31));
    expect(q.afterMs).toBe(Date.UTC(2026, 2, 2));
    expect(q.hasFile && q.hasLink).toBe(true);
  });
  it('refuses what the server refuses, saying what to change', () => {
    const refusal = (q: string) => {
      try {
        parseQuery(q);
      } catch (err) {
        if (err instanceof QueryError) return [err.code, err.message];
      }
      return null;
    };
    expect(refusal('')?.[0]).toBe('empty');
    expect(refusal('before:2026-02-30')).toEqual(['bad_date', 'before:2026-02-30 is not a date; write before:YYYY-MM-DD, for example before:2026-03-31.']);
    expect(refusal('has:image')).toEqual(['bad_has', 'has:image is not a filter; use has:file or has:link.']);
    expect(refusal('a b c d e f g h i')?.[1]).toMatch(/at most 8/);
    expect(refusal('x'.repeat(257))?.[1]).toMatch(/too long: at most 256/);
    expect(refusal('nul\u0000')?.[0]).toBe('control_characters');
  });
  it('removes one chip token and keeps the rest, whatever the characters before it', () => {
    const q = '😀 deploy from:alice  "a phrase" has:file';
    const chip = tokens(q).find((t) => t.text === 'from:alice')!;
    expect(chip.filter).toEqual({ key: 'from', value: 'alice' });
    expect(withoutToken(q, chip)).toBe('😀 deploy "a phrase" has:file');
    expect(tokens(q).filter((t) => t.filter !== null).map((t) => t.text)).toEqual(['from:alice', 'has:file']);
  });
});

describe('score and snippet', () => {
  it('rank by occurrences per length, like the server', () => {
    expect(score('deploy deploy', ['deploy'])).toBe(Math.floor(2_000_000 / 29));
    expect(score('a deploy in a long message about other things', ['deploy'])).toBeLessThan(score('deploy', ['deploy']));
    expect(matchesAll('Deploy ON friday', ['deploy', 'on fri'])).toBe(true);
    expect(matchesAll('Deploy', ['deploy', 'monday'])).toBe(false);
    expect(hasLink('see HTTPS://example.org')).toBe(true);
    expect(hasLink('example.org')).toBe(false);
  });
  it('marks every match around the first, in any case, as text', () => {
    expect(snippet('Say <b>Hi</b> hi', ['hi'])).toEqual([
      { text: 'Say <b>', match: false },
      { text: 'Hi', match: true },
      { text: '</b> ', match: false },
      { text: 'hi', match: true },
    ]);
    const long = `${'x'.repeat(300)} needle ${'y'.repeat(300)}`;
    const cut = snippet(long, ['needle']);
    expect(cut[0]!.text.startsWith('…')).toBe(true);
    expect(cut.at(-1)!.text.endsWith('…')).toBe(true);
    expect(cut.some((s) => s.match && s.text === 'needle')).toBe(true);
  });
});

describe('merging server and local results', () => {
  const hit = (messageId: number, channelId: number, score: number, local = false): Hit => ({
    messageId,
    channelId,
    channelName: `c${channelId}`,
    roomName: 'r',
    roomKind: 'room',
    local,
    sender: 'alice',
    createdAt: '2026-01-01T00:00:00Z',
    snippet: [],
    score,
  });
  it('shows local hits only within what the server has shown, until it is done', () => {
    const server = [hit(10, 1, 900), hit(9, 1, 500)];
    const local = [hit(20, 2, 700, true), hit(21, 2, 100, true)];
    expect(mergeHits(server, local, false, 'relevance').map((h) => h.messageId)).toEqual([10, 20, 9]);
    expect(mergeHits(server, local, true, 'relevance').map((h) => h.messageId)).toEqual([10, 20, 9, 21]);
    expect(mergeHits(server, local, true, 'newest').map((h) => h.messageId)).toEqual([21, 20, 10, 9]);
  });
  it('groups by channel in the order of each best hit', () => {
    const groups = groupByChannel(mergeHits([hit(10, 1, 900), hit(9, 1, 100)], [hit(20, 2, 500, true)], true, 'relevance'));
    expect(groups.map((g) => [g.channelId, g.hits.map((h) => h.messageId)])).toEqual([
      [1, [10, 9]],
      [2, [20]],
    ]);
  });
});
