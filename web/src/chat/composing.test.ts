import { describe, expect, it } from 'vitest';
import type { Message } from '../api/messages.ts';
import { message } from '../test-support.ts';
import { lastEditable, mayEdit, newBelow, newBelowLabel } from './composing.ts';

const ME = 7;

function msg(id: number, sender: number, extra: Partial<Message> = {}): Message {
  return message(id, { sender_id: sender, ...extra });
}

const text = (m: Message) => m.content;

describe('mayEdit', () => {
  it('offers Edit for my readable text messages only', () => {
    expect(mayEdit(msg(1, ME), ME, 'hi', false, null)).toBe(true);
    expect(mayEdit(msg(1, 2), ME, 'hi', false, null)).toBe(false);
    expect(mayEdit(msg(1, ME), ME, null, false, null)).toBe(false);
    expect(mayEdit(msg(1, ME, { deleted: true }), ME, 'hi', false, null)).toBe(false);
    expect(mayEdit(msg(1, ME, { file: { id: 3, name: 'a.png', content_type: 'image/png', size: 1, sha256: '', encrypted: false, url: '/api/files/3' } }), ME, 'hi', false, null)).toBe(false);
  });

  it('in an encrypted channel, only under the current key version', () => {
    expect(mayEdit(msg(1, ME, { key_version: 2 }), ME, 'hi', true, 2)).toBe(true);
    expect(mayEdit(msg(1, ME, { key_version: 1 }), ME, 'hi', true, 2)).toBe(false);
  });
});

describe('lastEditable', () => {
  it('is my newest message that may be edited', () => {
    const messages = [msg(1, ME), msg(2, ME), msg(3, 2), msg(4, ME, { deleted: true, content: null })];
    expect(lastEditable(messages, ME, text, false, null)?.id).toBe(2);
  });

  it('passes over messages sealed under an earlier key', () => {
    const messages = [msg(1, ME, { key_version: 2 }), msg(2, ME, { key_version: 1 }), msg(3, 2, { key_version: 2 })];
    expect(lastEditable(messages, ME, text, true, 2)?.id).toBe(1);
  });

  it('is null when I wrote nothing editable', () => {
    expect(lastEditable([msg(1, 2), msg(2, 3)], ME, text, false, null)).toBeNull();
    expect(lastEditable([], ME, text, false, null)).toBeNull();
  });
});

describe('newBelow', () => {
  const messages = [msg(1, 2), msg(2, ME), msg(3, 2), msg(4, ME), msg(5, 3), msg(6, 2, { deleted: true })];

  it('counts others’ live messages after the mark', () => {
    expect(newBelow(messages, 2, ME)).toBe(2);
    expect(newBelow(messages, 0, ME)).toBe(3);
  });

  it('is 0 at the bottom (no mark) and when nothing came', () => {
    expect(newBelow(messages, null, ME)).toBe(0);
    expect(newBelow(messages, 6, ME)).toBe(0);
  });

  it('says it in words', () => {
    expect(newBelowLabel(1)).toBe('1 new message');
    expect(newBelowLabel(4)).toBe('4 new messages');
  });
});
