import { beforeAll, describe, expect, it } from 'vitest';
import { loadWasmInNode } from '../e2ee/wasm-node.ts';
import { channelWideNames, mayMentionChannel, type MentionRoom, mentions, mentionsChannel, mentionsMe } from './mentions.ts';

// The rule runs in the WebAssembly build of crates/securechat-search (web/wasm), as in the page.
beforeAll(loadWasmInNode);

const room = (over: Partial<MentionRoom>): MentionRoom => ({ id: 10, kind: 'room', my_role: 'member', member_count: 5, everyone_mention_max_members: null, ...over });

describe('the mention rule', () => {
  it('is the core one: whole names, four channel-wide names, nothing in code', () => {
    expect([...channelWideNames()].sort()).toEqual(['channel', 'everyone', 'here', 'room']);
    expect(mentions('hi @Bob.', 'bob')).toBe(true);
    expect(mentions('hi @bobby', 'bob')).toBe(false);
    expect(mentions('mail me@bob', 'bob')).toBe(false);
    expect(mentions('@room', 'bob')).toBe(true);
    expect(mentions('see `@bob`', 'bob')).toBe(false);
    expect(mentions('```\n@channel\n```', 'bob')).toBe(false);
    expect(mentionsChannel('`@here` is a word')).toBe(false);
    expect(mentionsChannel('ok @here')).toBe(true);
    // Markdown around a mention does not hide it; code does.
    expect(mentions('**@Bob** look', 'bob')).toBe(true);
    expect(mentions('mail bob@example.org', 'example.org')).toBe(false);
    for (const all of ['@here', '@Channel', '@everyone', '> @here look']) expect(mentions(all, 'bob')).toBe(true);
    expect(mentions('@hereafter', 'bob')).toBe(false);
  });

  it('counts a channel-wide mention in plaintext channels, where the server already refused what it should', () => {
    expect(mentionsMe('@channel deploy', 'bob', 2, room({}), false)).toBe(true);
  });

  it('counts only a mention by name in an encrypted channel when the core cannot check the sender', () => {
    expect(mentionsMe('@channel deploy', 'bob', 2, room({ everyone_mention_max_members: 2 }), true)).toBe(false);
    expect(mentionsMe('@bob deploy', 'bob', 2, room({}), true)).toBe(true);
  });
});

describe('mayMentionChannel in plaintext channels', () => {
  it('lets anyone without a size, owners and admins always, members up to the size', () => {
    expect(mayMentionChannel(room({}), false, 1)).toBe(true);
    expect(mayMentionChannel(room({ everyone_mention_max_members: 4 }), false, 1)).toBe(false);
    expect(mayMentionChannel(room({ everyone_mention_max_members: 5 }), false, 1)).toBe(true);
    expect(mayMentionChannel(room({ everyone_mention_max_members: 4, my_role: 'admin' }), false, 1)).toBe(true);
    expect(mayMentionChannel(room({ everyone_mention_max_members: 4, my_role: 'owner' }), false, 1)).toBe(true);
  });
});
