import { describe, expect, it } from 'vitest';
import { applyReactionEvent, withLoaded, withReactionEvent, type ReactionEvent } from './reactions.ts';

const ME = 7;

function event(extra: Partial<ReactionEvent>): ReactionEvent {
  return { message_id: 1, channel_id: 3, user_id: ME, emoji: '👍', on: true, reactions: [{ emoji: '👍', count: 1 }], ...extra };
}

describe('reactions', () => {
  it('marks my own toggle on and off', () => {
    const on = applyReactionEvent([], event({}), ME);
    expect(on).toEqual([{ emoji: '👍', count: 1, me: true }]);
    const off = applyReactionEvent(on, event({ on: false, reactions: [] }), ME);
    expect(off).toEqual([]);
  });

  it("takes the server's counts from someone else's toggle and keeps whether I reacted", () => {
    const mine = [{ emoji: '👍', count: 1, me: true }];
    const next = applyReactionEvent(mine, event({ user_id: 9, emoji: '🎉', reactions: [{ emoji: '🎉', count: 1 }, { emoji: '👍', count: 2 }] }), ME);
    // Sorted in the picker's order, not the server's.
    expect(next).toEqual([
      { emoji: '👍', count: 2, me: true },
      { emoji: '🎉', count: 1, me: false },
    ]);
    const theirsOff = applyReactionEvent(next, event({ user_id: 9, emoji: '👍', on: false, reactions: [{ emoji: '🎉', count: 1 }, { emoji: '👍', count: 1 }] }), ME);
    expect(theirsOff[0]).toEqual({ emoji: '👍', count: 1, me: true });
  });

  it('merges per message and takes loaded history as the fresher snapshot', () => {
    const all = withReactionEvent({}, event({ message_id: 5 }), ME);
    expect(all[5]?.[0]?.count).toBe(1);
    const loaded = withLoaded(all, [{ id: 5, reactions: [{ emoji: '👀', count: 3, me: false }] }, { id: 6 }]);
    expect(loaded).toEqual({ 5: [{ emoji: '👀', count: 3, me: false }] });
    expect(withLoaded(loaded, [{ id: 6 }])).toBe(loaded);
  });
});
