import { describe, expect, it } from 'vitest';
import { mentions, segments } from './text.ts';

describe('segments', () => {
  it('finds links and leaves sentence punctuation out of them', () => {
    expect(segments('see https://example.org/a?b=1, ok', 'bob')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: ', ok' },
    ]);
  });

  it('does not turn other schemes into links', () => {
    expect(segments('javascript:alert(1) <b>x</b>', 'bob')).toEqual([{ kind: 'text', text: 'javascript:alert(1) <b>x</b>' }]);
  });

  it('marks mentions and whether they are of me', () => {
    const parts = segments('hi @Bob and @carol', 'bob');
    expect(parts).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@Bob', username: 'Bob', me: true },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@carol', username: 'carol', me: false },
    ]);
    expect(mentions('hi @Bob', 'bob')).toBe(true);
    expect(mentions('mail bob@example.org', 'example.org')).toBe(false);
  });
});
