// Keeps each open channel's system events (`systemEvents`) in step with the
// server: the newest page on first look, what follows the last event held
// after a `timeline_updated` push or a reconnect, and older pages as far
// back as the loaded message history reaches. The rules are in
// `systemevents.ts`; this module only fetches and merges.

import { signal } from '@preact/signals';
import * as eventsApi from '../api/events.ts';
import { authenticated } from '../state/session.ts';
import { mergeEvents, needsOlder, type ChannelEvents } from './systemevents.ts';
import type { Timeline } from './timeline.ts';

export const systemEvents = signal<Readonly<Record<number, ChannelEvents>>>({});

/** Channels being synced, and those asked again meanwhile (synced once more when the run ends). */
const running = new Set<number>();
const again = new Set<number>();

function set(channelId: number, state: ChannelEvents): void {
  systemEvents.value = { ...systemEvents.value, [channelId]: state };
}

/**
 * Brings channel `channelId`'s events up to date. `timeline` is its loaded
 * message history (undefined while none is loaded yet: then only the newest
 * page is fetched, since how far back to go is not known).
 */
export async function syncEvents(channelId: number, timeline: () => Timeline | undefined): Promise<void> {
  if (running.has(channelId)) {
    again.add(channelId);
    return;
  }
  running.add(channelId);
  try {
    do {
      again.delete(channelId);
      await syncOnce(channelId, timeline);
    } while (again.has(channelId));
  } finally {
    running.delete(channelId);
  }
}

async function syncOnce(channelId: number, timeline: () => Timeline | undefined): Promise<void> {
  const known = systemEvents.value[channelId];
  if (known === undefined) {
    const page = await authenticated(() => eventsApi.eventsBefore(channelId, null));
    set(channelId, { events: page.events, hasOlder: page.has_more });
  } else {
    for (;;) {
      const state = systemEvents.value[channelId] ?? known;
      const last = state.events.at(-1);
      const page = await authenticated(() => (last === undefined ? eventsApi.eventsBefore(channelId, null) : eventsApi.eventsAfter(channelId, last.id)));
      const merged = mergeEvents(state.events, page.events);
      set(channelId, { events: merged, hasOlder: last === undefined ? page.has_more : state.hasOlder });
      if (last === undefined || !page.has_more) break;
    }
  }
  for (;;) {
    const loaded = timeline();
    if (loaded === undefined) return;
    const state = systemEvents.value[channelId];
    const oldest = loaded.hasOlder ? (loaded.messages[0]?.created_at ?? null) : null;
    if (state === undefined || !needsOlder(state, oldest)) return;
    const page = await authenticated(() => eventsApi.eventsBefore(channelId, state.events[0]?.id ?? null));
    set(channelId, { events: mergeEvents(state.events, page.events), hasOlder: page.has_more });
  }
}

/** Forgets a channel's events (it was deleted or left). */
export function forgetEvents(channelId: number): void {
  const { [channelId]: _gone, ...rest } = systemEvents.value;
  systemEvents.value = rest;
}

/** Forgets every channel's events (signed out). */
export function resetEvents(): void {
  systemEvents.value = {};
}
