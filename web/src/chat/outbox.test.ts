import { describe, expect, it } from 'vitest';
import { Outbox, OUTBOX_MAX_BYTES, OUTBOX_MAX_MESSAGES, OutboxFull } from './outbox.ts';

function item(id: string, channel = 1) {
  return { client_msg_id: id, channel_id: channel, content: id, created_at: '2026-01-01T10:00:00Z' };
}

describe('Outbox', () => {
  it('sends one at a time, in the order written', () => {
    const box = new Outbox();
    box.add(item('a'));
    box.add(item('b'));
    expect(box.next()?.client_msg_id).toBe('a');
    box.markSending('a');
    expect(box.next()).toBeNull();
    expect(box.settle('a')).toBe(true);
    expect(box.next()?.client_msg_id).toBe('b');
  });

  it('passes over a channel that waits for a key, keeping each channel in order', () => {
    const box = new Outbox();
    box.add(item('a', 1));
    box.add(item('b', 1));
    box.add(item('c', 2));
    const held = new Set([1]);
    expect(box.next(held)?.client_msg_id).toBe('c');
    box.settle('c');
    expect(box.next(held)).toBeNull();
    expect(box.next()?.client_msg_id).toBe('a');
  });

  it('keeps a message whose send did not get through and offers it again', () => {
    const box = new Outbox();
    box.add(item('a'));
    box.markSending('a');
    box.retry('a');
    expect(box.next()?.client_msg_id).toBe('a');
    expect(box.all()).toHaveLength(1);
  });

  it('settles once: the ack and the broadcast of the same message count as one', () => {
    const box = new Outbox();
    box.add(item('a'));
    expect(box.settle('a')).toBe(true);
    expect(box.settle('a')).toBe(false);
  });

  it('skips a refused message and keeps it visible as failed', () => {
    const box = new Outbox();
    box.add(item('a'));
    box.add(item('b'));
    box.markSending('a');
    box.fail('a', 'too long');
    expect(box.next()?.client_msg_id).toBe('b');
    expect(box.forChannel(1).map((p) => p.status)).toEqual(['failed', 'queued']);
  });

  it('requeues what was in flight when restored after a reload', () => {
    const box = new Outbox([{ ...item('a'), status: 'sending' }]);
    expect(box.next()?.client_msg_id).toBe('a');
  });

  it('filters by channel and drops a channel', () => {
    const box = new Outbox();
    box.add(item('a', 1));
    box.add(item('b', 2));
    expect(box.forChannel(2).map((p) => p.client_msg_id)).toEqual(['b']);
    box.dropChannel(1);
    expect(box.all().map((p) => p.client_msg_id)).toEqual(['b']);
  });
});

describe('Outbox bounds and restoring', () => {
  it('refuses a message past the count or the byte bound, saying which', () => {
    const box = new Outbox();
    for (let i = 0; i < OUTBOX_MAX_MESSAGES; i++) box.add(item(`m${i}`));
    expect(box.wouldOverflow('x')).toBe('count');
    expect(() => box.add(item('one more'))).toThrow(OutboxFull);

    const big = new Outbox();
    big.add({ ...item('a'), content: 'é'.repeat(OUTBOX_MAX_BYTES / 2 - 1) });
    // Counted in UTF-8 bytes: two bytes per "é".
    expect(big.wouldOverflow('ab')).toBeNull();
    expect(big.wouldOverflow('abc')).toBe('bytes');
    expect(() => big.add({ ...item('b'), content: 'abc' })).toThrow(OutboxFull);
  });

  it('takes back kept messages once, in the order written, and sends again what was in flight', () => {
    const box = new Outbox();
    box.add({ ...item('written after the reload'), created_at: '2026-01-01T10:00:05Z' });
    const kept = [
      { ...item('first'), created_at: '2026-01-01T10:00:01Z', status: 'sending' as const },
      { ...item('second'), created_at: '2026-01-01T10:00:02Z', status: 'queued' as const },
    ];
    box.restore(kept);
    box.restore(kept);
    expect(box.all().map((i) => [i.client_msg_id, i.status])).toEqual([
      ['first', 'queued'],
      ['second', 'queued'],
      ['written after the reload', 'queued'],
    ]);
  });
});
