// What the client holds of pins and saved messages: each open channel's
// pin list (for the panel and the Pin/Unpin action), reloaded when a
// `pins_updated` event names the channel, and a counter the saved list
// reloads on (`saved_updated`).

import { signal } from '@preact/signals';
import * as pinsApi from '../api/pins.ts';
import type { PinList } from '../api/pins.ts';

/** Each loaded channel's pins. */
export const pinLists = signal<Readonly<Record<number, PinList>>>({});
/** Bumped when the caller's saved messages changed (on any of their sockets). */
export const savedVersion = signal(0);

/** Loads (or reloads) the pins of `channelId`; errors leave the old list. */
export async function loadPins(channelId: number): Promise<void> {
  const list = await pinsApi.listPins(channelId);
  pinLists.value = { ...pinLists.value, [channelId]: list };
}

/** A `pins_updated` event: reload the channel's list if it is held. */
export function onPinsUpdated(channelId: number): void {
  if (pinLists.value[channelId] !== undefined) void loadPins(channelId).catch(() => undefined);
}

export function onSavedUpdated(): void {
  savedVersion.value += 1;
}

/** Pins or unpins, then reloads the list (the event may come later). */
export async function togglePin(channelId: number, messageId: number, pinned: boolean): Promise<void> {
  await pinsApi.setPinned(channelId, messageId, pinned);
  await loadPins(channelId);
}

/** A `room_settings_updated` event ("members may pin" may have changed): reload the held lists of the room's channels. */
export function onRoomSettingsUpdated(channelIds: readonly number[]): void {
  for (const id of channelIds) onPinsUpdated(id);
}
