import { describe, expect, it } from 'vitest';
import type { Message } from '../api/messages.ts';
import { message } from '../test-support.ts';
import { resolveReply, snippet, SNIPPET_MAX } from './replies.ts';

function msg(id: number, extra: Partial<Message> = {}): Message {
  return message(id, { sender_username: 'bob', ...extra });
}

const plain = (m: Message) => m.content;

describe('resolveReply', () => {
  it('quotes a loaded original with its sender', () => {
    expect(resolveReply(1, [msg(1, { content: 'hello\nthere' }), msg(2)], plain)).toEqual({ kind: 'loaded', id: 1, sender: 'bob', snippet: 'hello there' });
  });

  it('says unavailable when the original is not loaded, deleted or unreadable', () => {
    expect(resolveReply(9, [msg(1)], plain)).toEqual({ kind: 'unavailable', id: 9 });
    expect(resolveReply(1, [msg(1, { deleted: true, content: null })], plain).kind).toBe('unavailable');
    // An encrypted original this browser cannot decrypt.
    expect(resolveReply(1, [msg(1, { content: null, envelope: 'x' })], () => null).kind).toBe('unavailable');
  });

  it('uses the decrypted text the caller gives', () => {
    const quote = resolveReply(1, [msg(1, { content: null, envelope: 'x' })], () => 'secret plan');
    expect(quote).toMatchObject({ kind: 'loaded', snippet: 'secret plan' });
  });
});

describe('snippet', () => {
  it('cuts long text with an ellipsis', () => {
    const cut = snippet('a'.repeat(500));
    expect(Array.from(cut)).toHaveLength(SNIPPET_MAX);
    expect(cut.endsWith('…')).toBe(true);
    expect(snippet('short')).toBe('short');
  });
});
