// Disappearing messages, the I/O part: setting a channel's timer (for an
// encrypted channel, the signed log entry first, then the server's
// setting), what the E2EE core says about a channel's timer, and when each
// message disappears.
//
// The core decides (crates/securechat-e2ee/src/disappearing.rs): in an
// encrypted channel the timer is the room's signed log's, and the server's
// `expires_at` may only bring a message's end sooner. Without the core
// running (encryption not set up in this browser) only the server's word
// is there, which is all a plaintext channel has anyway.

import { signal } from '@preact/signals';
import { ApiError } from '../api/errors.ts';
import { apiRequest } from '../api/http.ts';
import type { Message } from '../api/messages.ts';
import * as roomsApi from '../api/rooms.ts';
import type { Channel, Room } from '../api/rooms.ts';
import { core, isRunning, now } from '../e2ee/core.ts';
import { identityStatus, logEntries } from '../e2ee/engine.ts';
import { authenticated } from '../state/session.ts';

/** What the core says of a channel's timer (`TimerView`). */
export interface TimerView {
  /** The timer that applies, in seconds; null when off. */
  seconds: number | null;
  server_seconds: number | null;
  /** From the room's signed log (an encrypted channel). */
  signed: boolean;
  /** The server states another timer than the signed log. */
  mismatch: boolean;
}

/** Bumped when a room's log was verified again: timers and expiries are asked for anew. */
export const timersEpoch = signal(0);

function coreReady(): boolean {
  return isRunning() && identityStatus.peek().kind === 'ready';
}

function serverSeconds(channel: Channel): number | null {
  const s = channel.disappearing_seconds ?? null;
  return s !== null && s > 0 ? s : null;
}

/** The timer to show for `channel`, and whether the server disagrees with the signed log. */
export function channelTimer(channel: Channel): TimerView {
  const server = serverSeconds(channel);
  if (!coreReady()) return { seconds: server, server_seconds: server, signed: false, mismatch: false };
  try {
    return core<TimerView>('channel_timer', { channel_id: channel.id, server_seconds: server });
  } catch {
    return { seconds: server, server_seconds: server, signed: false, mismatch: false };
  }
}

/** When each message of `channelId` disappears (ms), or null: the core's rule, or the server's `expires_at` without it. */
export function expiriesOf(channelId: number, messages: readonly Message[]): Map<number, number | null> {
  const out = new Map<number, number | null>();
  if (messages.length === 0) return out;
  if (coreReady()) {
    try {
      const answer = core<{ id: number; expires_at: number | null }[]>('message_expiry', {
        channel_id: channelId,
        messages: messages.map((m) => ({ id: m.id, created_at: Date.parse(m.created_at), expires_at: m.expires_at ?? null })),
      });
      for (const a of answer) out.set(a.id, a.expires_at);
      return out;
    } catch {
      // The server's word below.
    }
  }
  for (const m of messages) out.set(m.id, m.expires_at ?? null);
  return out;
}

/** Verifies `roomId`'s log again so the core holds its current timers (a channel's setting changed, or it was opened). */
export async function refreshTimers(roomId: number): Promise<void> {
  if (!coreReady()) return;
  const entries = await logEntries(roomId);
  if (entries.length === 0) return;
  core('verify_log', { room_id: roomId, entries });
  timersEpoch.value += 1;
}

/** Posts one signed log entry; false when someone appended first (sign again on the new head), unless this was the `last` try. */
async function postEntry(roomId: number, entry: string, last: boolean): Promise<boolean> {
  try {
    await authenticated(() => apiRequest('POST', `/api/rooms/${roomId}/membership_log`, { entries: [entry] }));
    return true;
  } catch (err) {
    if (!last && err instanceof ApiError && err.code === 'log_conflict') return false;
    throw err;
  }
}

/**
 * Sets `channel`'s timer (null: off). In an encrypted channel the core signs
 * the timer into the room's log first, so members hold the server to it;
 * then the server's setting follows, which stamps new messages' `expires_at`
 * and purges them.
 */
export async function setChannelTimer(room: Room, channel: Channel, seconds: number | null): Promise<void> {
  if (channel.is_encrypted && coreReady()) {
    for (let attempt = 0; ; attempt += 1) {
      const entries = await logEntries(room.id);
      const { entry } = core<{ entry: string | null }>('set_disappearing', {
        room_id: room.id,
        entries,
        channel_id: channel.id,
        seconds: seconds ?? 0,
        now: now(),
      });
      if (entry === null || (await postEntry(room.id, entry, attempt >= 2))) break;
    }
  }
  await authenticated(() => roomsApi.setDisappearing(channel.id, seconds));
  if (channel.is_encrypted) await refreshTimers(room.id);
}
