import { beforeAll, describe, expect, it } from 'vitest';
import { loadWasmInNode } from '../e2ee/wasm-node.ts';
import { channelWideCandidates, fragmentAt, insertMention, MAX_SUGGESTIONS, rankCandidates } from './mention-suggest.ts';

// The channel-wide names come from the WebAssembly build of the mention rule (web/wasm).
beforeAll(loadWasmInNode);
import { segments } from './text.ts';

describe('fragmentAt', () => {
  it('finds the @name before the caret, at the start or after a space or punctuation', () => {
    expect(fragmentAt('@b', 2)).toEqual({ start: 0, end: 2, query: 'b' });
    expect(fragmentAt('hi @Bo', 6)).toEqual({ start: 3, end: 6, query: 'Bo' });
    expect(fragmentAt('line\n(@al', 9)).toEqual({ start: 6, end: 9, query: 'al' });
    expect(fragmentAt('ping @ca.r-l_', 13)).toEqual({ start: 5, end: 13, query: 'ca.r-l_' });
  });

  it('opens only once a letter follows the @', () => {
    expect(fragmentAt('hi @', 4)).toBeNull();
    expect(fragmentAt('hi @ ', 5)).toBeNull();
  });

  it('ignores an @ inside a word or an email address, and a second @', () => {
    expect(fragmentAt('mail bob@exa', 12)).toBeNull();
    expect(fragmentAt('@@bo', 4)).toBeNull();
    expect(fragmentAt('x_@bo', 5)).toBeNull();
  });

  it('ends at the caret: text after a space is not part of it', () => {
    expect(fragmentAt('@bob hello', 10)).toBeNull();
    expect(fragmentAt('@bob hello', 4)).toEqual({ start: 0, end: 4, query: 'bob' });
  });

  it('takes in the rest of the name after the caret, which the pick replaces', () => {
    expect(fragmentAt('hi @bob!', 5)).toEqual({ start: 3, end: 7, query: 'b' });
  });

  it('gives up past the longest username', () => {
    const long = `@${'a'.repeat(33)}`;
    expect(fragmentAt(long, long.length)).toBeNull();
    expect(fragmentAt(long, 33)).not.toBeNull();
  });
});

describe('rankCandidates', () => {
  const people = [
    { user_id: 1, username: 'alice' },
    { user_id: 2, username: 'bob' },
    { user_id: 3, username: 'Barbara' },
    { user_id: 4, username: 'jacob' },
    { user_id: 5, username: 'bobby' },
  ];

  it('puts names starting with the query first, then names containing it, case ignored', () => {
    expect(rankCandidates(people, 'b', 1).map((p) => p.username)).toEqual(['Barbara', 'bob', 'bobby', 'jacob']);
    expect(rankCandidates(people, 'OB', 1).map((p) => p.username)).toEqual(['bob', 'bobby', 'jacob']);
    expect(rankCandidates(people, 'bo', 1).map((p) => p.username)).toEqual(['bob', 'bobby']);
    expect(rankCandidates(people, 'co', 1).map((p) => p.username)).toEqual(['jacob']);
    expect(rankCandidates(people, 'zed', 1)).toEqual([]);
  });

  it('matches display names too, after the usernames that start with the query', () => {
    const named = [...people, { user_id: 8, username: 'll', display_name: 'Bea Lovelace' }];
    expect(rankCandidates(named, 'lovel', 1).map((p) => p.username)).toEqual(['ll']);
    expect(rankCandidates(named, 'be', 1).map((p) => p.username)).toEqual(['ll']);
    expect(rankCandidates(named, 'b', 1).map((p) => p.username)).toEqual(['Barbara', 'bob', 'bobby', 'jacob', 'll']);
  });

  it('suggests no one for a mention of everyone, complete as typed', () => {
    const more = [...people, { user_id: 6, username: 'sphere' }, { user_id: 7, username: 'channelmaster' }];
    expect(rankCandidates(more, 'here', 1)).toEqual([]);
    expect(rankCandidates(more, 'Channel', 1)).toEqual([]);
    expect(rankCandidates(more, 'room', 1)).toEqual([]);
    expect(rankCandidates(more, 'her', 1).map((p) => p.username)).toEqual(['sphere']);
  });

  it('offers the channel-wide names only to those allowed, and not once typed in full', () => {
    expect(channelWideCandidates('e', true)).toEqual(['everyone']);
    expect(channelWideCandidates('H', true)).toEqual(['here']);
    expect(channelWideCandidates('r', true)).toEqual(['room']);
    expect(channelWideCandidates('c', false)).toEqual([]);
    expect(channelWideCandidates('channel', true)).toEqual([]);
    expect(channelWideCandidates('x', true)).toEqual([]);
  });

  it('lists me last, even when my name matches best', () => {
    expect(rankCandidates(people, 'b', 2).map((p) => p.username)).toEqual(['Barbara', 'bobby', 'jacob', 'bob']);
    expect(rankCandidates(people, 'a', 1).map((p) => p.username)).toEqual(['Barbara', 'jacob', 'alice']);
  });

  it(`shows at most ${MAX_SUGGESTIONS}`, () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ user_id: i + 10, username: `user${String(i).padStart(2, '0')}` }));
    const ranked = rankCandidates(many, 'us', 0);
    expect(ranked).toHaveLength(MAX_SUGGESTIONS);
    expect(ranked[0]?.username).toBe('user00');
  });
});

describe('insertMention', () => {
  it('replaces the fragment with @name and a space, the caret after it', () => {
    const text = 'hi @b';
    const fragment = fragmentAt(text, text.length);
    expect(fragment).not.toBeNull();
    if (fragment === null) return;
    expect(insertMention(text, fragment, 'bob')).toEqual({ text: 'hi @bob ', caret: 8 });
  });

  it('replaces the whole name around the caret and reuses a following space', () => {
    const text = 'hi @bo there';
    const fragment = fragmentAt(text, 5);
    if (fragment === null) throw new Error('no fragment');
    expect(insertMention(text, fragment, 'bobby')).toEqual({ text: 'hi @bobby there', caret: 10 });
  });

  it('makes a mention that the message view highlights', () => {
    const text = 'thanks (@ba';
    const fragment = fragmentAt(text, text.length);
    if (fragment === null) throw new Error('no fragment');
    const done = insertMention(text, fragment, 'Barbara').text;
    expect(segments(done, 'barbara')).toContainEqual({ kind: 'mention', text: '@Barbara', username: 'Barbara', me: true });
  });
});
