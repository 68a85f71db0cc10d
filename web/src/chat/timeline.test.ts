import { describe, expect, it } from 'vitest';
import { message as msg } from '../test-support.ts';
import { addMessages, addOlder, EMPTY_TIMELINE, firstId, lastId, markDeleted, mergeMessages } from './timeline.ts';


describe('mergeMessages', () => {
  it('sorts by id and drops duplicates', () => {
    const merged = mergeMessages([msg(3), msg(1)], [msg(2), msg(3), msg(5)]);
    expect(merged.map((m) => m.id)).toEqual([1, 2, 3, 5]);
  });

  it('keeps an edit when an older copy arrives later', () => {
    const edited = msg(1, { content: 'new', edited_at: '2026-01-01T10:05:00Z' });
    expect(mergeMessages([edited], [msg(1)])[0]?.content).toBe('new');
    expect(mergeMessages([msg(1)], [edited])[0]?.content).toBe('new');
  });

  it('never undoes a delete', () => {
    const gone = msg(1, { deleted: true, content: null });
    expect(mergeMessages([gone], [msg(1)])[0]?.deleted).toBe(true);
  });
});

describe('timeline', () => {
  it('pages older history in front and records whether more exist', () => {
    let t = addMessages(EMPTY_TIMELINE, [msg(10), msg(11)]);
    t = addOlder(t, [msg(8), msg(9)], true);
    expect(t.messages.map((m) => m.id)).toEqual([8, 9, 10, 11]);
    expect(t.hasOlder).toBe(true);
    expect(firstId(t)).toBe(8);
    expect(lastId(t)).toBe(11);
    t = addOlder(t, [msg(7)], false);
    expect(t.hasOlder).toBe(false);
  });

  it('resumes after nothing when empty', () => {
    expect(lastId(EMPTY_TIMELINE)).toBeNull();
    expect(firstId(EMPTY_TIMELINE)).toBeNull();
  });

  it('marks a message deleted and drops its text', () => {
    const t = markDeleted(addMessages(EMPTY_TIMELINE, [msg(1), msg(2)]), 2);
    expect(t.messages[1]).toMatchObject({ id: 2, deleted: true, content: null });
    expect(t.messages[0]?.deleted).toBe(false);
  });
});
