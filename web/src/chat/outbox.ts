// Messages written but not yet committed by the server.
//
// Each gets a `client_msg_id` when it is written; the server answers a
// repeated id with the original message, so resending after a lost
// acknowledgement or a reconnect can never post twice. Items leave the
// outbox only when the server has the message: by the acknowledgement, or by
// the `new_message` broadcast carrying the same `client_msg_id` (whichever
// comes first). Sending is strictly in order, one at a time, so messages
// keep the order in which they were written.

export type PendingStatus = 'queued' | 'sending' | 'failed';

export interface PendingMessage {
  client_msg_id: string;
  channel_id: number;
  content: string;
  /** When it was written (ISO 8601), shown until the server's time replaces it. */
  created_at: string;
  status: PendingStatus;
  /** The message this one replies to. */
  reply_to?: number;
  /** The thread it replies in, and whether it also goes to the channel. */
  thread_root_id?: number;
  also_send_to_channel?: boolean;
  /** The uploaded file this message announces (encrypted channels; the server posts plaintext ones itself). */
  file_id?: number;
  /** What to show while it waits, instead of `content` (a file note is not for reading). */
  label?: string;
  /** Why it failed for good (the server refused it), for `failed`. */
  error?: string;
  /** What it waits for before it can go (a key another member is making), while `queued`. */
  waiting?: string;
}

/**
 * Most messages the outbox holds. It is kept in this browser (see
 * `../offline/`) and sent one by one when the server is back: the bounds
 * keep a long offline spell from filling the browser's storage or flooding
 * the channel, and say so at once instead of failing later.
 */
export const OUTBOX_MAX_MESSAGES = 200;
/** Most bytes (UTF-8) of content the outbox holds, all messages together. */
export const OUTBOX_MAX_BYTES = 512 * 1024;

/** Why a message cannot join the outbox: too many messages, or too many bytes. */
export type OutboxLimit = 'count' | 'bytes';

/** Thrown by `Outbox.add` when the message would go past a bound. */
export class OutboxFull extends Error {
  constructor(readonly limit: OutboxLimit) {
    super(`the outbox is full (${limit})`);
    this.name = 'OutboxFull';
  }
}

const encoder = new TextEncoder();

function bytesOf(content: string): number {
  return encoder.encode(content).byteLength;
}

export class Outbox {
  private items: PendingMessage[] = [];

  constructor(items: readonly PendingMessage[] = []) {
    this.restore(items);
  }

  all(): readonly PendingMessage[] {
    return this.items;
  }

  forChannel(channelId: number): PendingMessage[] {
    return this.items.filter((item) => item.channel_id === channelId);
  }

  /** Which bound `content` would go past if it joined the outbox, or null when it fits. */
  wouldOverflow(content: string): OutboxLimit | null {
    if (this.items.length >= OUTBOX_MAX_MESSAGES) return 'count';
    const used = this.items.reduce((sum, item) => sum + bytesOf(item.content), 0);
    return used + bytesOf(content) > OUTBOX_MAX_BYTES ? 'bytes' : null;
  }

  /** Queues a message; throws `OutboxFull` when it would go past a bound. */
  add(item: Omit<PendingMessage, 'status'>): void {
    const limit = this.wouldOverflow(item.content);
    if (limit !== null) throw new OutboxFull(limit);
    this.items = [...this.items, { ...item, status: 'queued' }];
  }

  /**
   * Takes in messages kept in storage (after a reload), in the order they
   * were written among those held: one already held (same `client_msg_id`)
   * is not taken twice, anything that was in flight when the page went away
   * is sent again, and the bounds are not applied (they were when each was
   * written).
   */
  restore(kept: readonly PendingMessage[]): void {
    const known = new Set(this.items.map((item) => item.client_msg_id));
    const fresh = kept.filter((item) => !known.has(item.client_msg_id)).map((item) => (item.status === 'sending' ? { ...item, status: 'queued' as const } : item));
    this.items = [...this.items, ...fresh].sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /**
   * The next message to send, or null while one is in flight or none waits.
   * Channels in `held` are passed over (their messages wait for a key), so
   * one channel waiting never holds up the others; within a channel the
   * order is kept.
   */
  next(held: ReadonlySet<number> = new Set()): PendingMessage | null {
    if (this.items.some((item) => item.status === 'sending')) return null;
    return this.items.find((item) => item.status === 'queued' && !held.has(item.channel_id)) ?? null;
  }

  private update(id: string, change: Partial<PendingMessage>): void {
    this.items = this.items.map((item) => (item.client_msg_id === id ? { ...item, ...change } : item));
  }

  markSending(id: string): void {
    this.update(id, { status: 'sending' });
  }

  /** The send did not get through (disconnected, timed out, rate limited): try again later. */
  retry(id: string): void {
    this.update(id, { status: 'queued' });
  }

  /** Says what a queued message waits for (null: nothing in particular). */
  waitingFor(id: string, reason: string | null): void {
    this.items = this.items.map((item) => {
      if (item.client_msg_id !== id) return item;
      const { waiting: _old, ...rest } = item;
      return reason === null ? rest : { ...rest, waiting: reason };
    });
  }

  /** The server refused the message for good: it stays, marked, until discarded. */
  fail(id: string, error: string): void {
    this.update(id, { status: 'failed', error });
  }

  /** The server has the message; returns whether it was here. */
  settle(id: string): boolean {
    const before = this.items.length;
    this.items = this.items.filter((item) => item.client_msg_id !== id);
    return this.items.length !== before;
  }

  discard(id: string): void {
    this.settle(id);
  }

  /** Drops everything for channels the user can no longer post in. */
  dropChannel(channelId: number): void {
    this.items = this.items.filter((item) => item.channel_id !== channelId);
  }
}
