import { describe, expect, it } from 'vitest';
import type { Message } from '../api/messages.ts';
import { message } from '../test-support.ts';
import { firstUnreadId } from './readmarker.ts';

const ME = 7;

function msg(id: number, sender: number, deleted = false): Message {
  return message(id, {
    sender_id: sender,
    sender_username: sender === ME ? 'me' : 'other',
    content: deleted ? null : `m${id}`,
    deleted,
  });
}

describe('firstUnreadId', () => {
  const messages = [msg(1, 2), msg(2, 2), msg(3, ME), msg(4, 2, true), msg(5, 2), msg(6, ME)];

  it('counts back over others’ live messages only', () => {
    // Unread are 2 and 5 (3 and 6 are mine, 4 is deleted).
    expect(firstUnreadId(messages, 2, ME)).toBe(2);
    expect(firstUnreadId(messages, 1, ME)).toBe(5);
  });

  it('has no divider when nothing is unread', () => {
    expect(firstUnreadId(messages, 0, ME)).toBeNull();
    expect(firstUnreadId([], 3, ME)).toBeNull();
  });

  it('starts at the oldest loaded one when more are unread than loaded', () => {
    expect(firstUnreadId(messages, 10, ME)).toBe(1);
  });
});
