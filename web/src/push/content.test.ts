import { describe, expect, it } from 'vitest';
import { channelTag, decryptedNotification, parsePayload, plainNotification, shownText, unreadableNotification, type SealedPush, type Translate } from './content.ts';
import { encodeFileNote } from '../files/attachment.ts';

/** Echoes the key and its values, so each test sees which message was chosen with what. */
const t: Translate = (key, values) => `${key}${values === undefined ? '' : JSON.stringify(values)}`;

const sealed: SealedPush = { kind: 'sealed', message_id: 70, channel_id: 3, room_id: 2 };

describe('parsePayload', () => {
  it('reads the server payload of a plaintext channel, with and without text', () => {
    const raw = { type: 'message', message_id: 7, channel_id: 3, room_id: 2, room: 'Team', channel: 'general', sender: 'alice', text: 'hi' };
    expect(parsePayload(raw)).toEqual({ kind: 'plain', message_id: 7, channel_id: 3, room_id: 2, room: 'Team', channel: 'general', sender: 'alice', text: 'hi' });
    const { text: _text, ...bare } = raw;
    expect(parsePayload(bare)).toEqual({ kind: 'plain', message_id: 7, channel_id: 3, room_id: 2, room: 'Team', channel: 'general', sender: 'alice' });
  });

  it('reads an encrypted channel payload as ids only, whatever else it claims', () => {
    expect(parsePayload({ type: 'message', message_id: 70, channel_id: 3, room_id: 2, encrypted: true, sender: 'mallory', text: 'x' })).toEqual(sealed);
  });

  it('refuses what is not a message push', () => {
    for (const raw of [null, 'text', 7, [], {}, { type: 'other', message_id: 1, channel_id: 1, room_id: 1, encrypted: true }, { type: 'message', message_id: 0, channel_id: 1, room_id: 1, encrypted: true }, { type: 'message', message_id: 1.5, channel_id: 1, room_id: 1, encrypted: true }, { type: 'message', message_id: '1', channel_id: 1, room_id: 1, encrypted: true }, { type: 'message', message_id: 1, channel_id: 1, room_id: 1, room: 'r', channel: 'c' }]) {
      expect(parsePayload(raw)).toBeNull();
    }
  });
});

describe('notifications', () => {
  it('says who wrote where, with the text below, tagged by channel and carrying the ids', () => {
    const push = parsePayload({ type: 'message', message_id: 7, channel_id: 3, room_id: 2, room: 'Team', channel: 'general', sender: 'alice', text: 'hi' });
    if (push?.kind !== 'plain') throw new Error('not plain');
    expect(plainNotification(push, t)).toEqual({ title: 'push.inChannel{"name":"alice","channel":"general"}', body: 'hi', tag: channelTag(3), data: { channelId: 3, messageId: 7 } });
    expect(plainNotification({ ...push, text: undefined } as never, t).body).toBe('');
  });

  it('shows decrypted text as a channel message, or as a DM from the sender', () => {
    expect(decryptedNotification(sealed, { sender: 'bob', channel: 'secrets', dm: false, text: 'the plan' }, t)).toEqual({ title: 'push.inChannel{"name":"bob","channel":"secrets"}', body: 'the plan', tag: channelTag(3), data: { channelId: 3, messageId: 70 } });
    expect(decryptedNotification(sealed, { sender: 'bob', channel: 'dm', dm: true, text: 'psst' }, t).title).toBe('push.fromPerson{"name":"bob"}');
  });

  it('says only that an encrypted message came when it cannot be read', () => {
    expect(unreadableNotification(sealed, t)).toEqual({ title: 'push.newEncrypted', body: '', tag: channelTag(3), data: { channelId: 3, messageId: 70 } });
  });

  it('tags each channel apart', () => {
    expect(channelTag(3)).not.toBe(channelTag(4));
  });
});

describe('shownText', () => {
  const note = encodeFileNote({ file_id: 9, key: 'k', name: 'plan.pdf', type: 'application/pdf', size: 10, sha256: 'a'.repeat(64), caption: '' });
  const label = (name: string) => `file ${name}`;

  it('shows a message as it is', () => {
    expect(shownText('hello', 'message', null, label)).toBe('hello');
    expect(shownText('hello', null, null, label)).toBe('hello');
  });

  it('never shows a file note (it holds the file key): its caption or the file name instead', () => {
    expect(shownText(note, 'file', 9, label)).toBe('file plan.pdf');
    const captioned = encodeFileNote({ file_id: 9, key: 'k', name: 'plan.pdf', type: 'application/pdf', size: 10, sha256: 'a'.repeat(64), caption: 'see this' });
    expect(shownText(captioned, 'file', 9, label)).toBe('see this');
  });

  it('shows nothing for a note about another file than the one attached', () => {
    expect(shownText(note, 'file', 10, label)).toBeNull();
  });
});
