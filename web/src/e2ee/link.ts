// Linking devices through the server's relay (`/api/users/me/devices/links`,
// docs/PROTOCOL.md §2c). A new browser starts a link and shows its code (and
// a QR code of a URL carrying it); a browser or key store that holds my keys
// answers it; both show the same short string when no one is in between; the
// person compares them, and only then does the old device sign the new one
// into my device list and send the sealed payload. The core holds every
// secret and makes every check; this file only relays.

import { ApiError } from '../api/errors.ts';
import { apiRequest } from '../api/http.ts';
import { authenticated } from '../state/session.ts';
import { core, keyStore, now, saved } from './core.ts';
import { devicesOf, publishDeviceList } from './devices.ts';

/** A link as the relay shows it. */
export interface LinkState {
  offer: string;
  answer: string | null;
  payload: string | null;
  expires_at: string;
}

/** Where a new browser keeps the code of the link it started, so a reload goes on with it. */
const LINK_CODE_KEY = 'link_code';

/** A code is letters, digits and a dash; anything else typed is dropped, and case does not matter. */
export function normaliseCode(typed: string): string {
  const chars = typed.toUpperCase().replace(/[^0-9A-Z]/g, '');
  return chars.length === 8 ? `${chars.slice(0, 4)}-${chars.slice(4)}` : chars;
}

/** The address a QR code carries: opened on a signed-in device, it starts approving `code`. */
export function linkUrl(code: string): string {
  return `${location.origin}/account?link=${encodeURIComponent(code)}#devices`;
}

function relay(code: string): string {
  return `/api/users/me/devices/links/${encodeURIComponent(normaliseCode(code))}`;
}

export function getLink(code: string): Promise<LinkState> {
  return authenticated(() => apiRequest<LinkState>('GET', relay(code)));
}

// ---- on the new device ------------------------------------------------------

/** Starts a link (the core keeps its secrets in its state); returns the code to show. */
export async function startLink(): Promise<{ code: string; expires_at: string }> {
  const { offer } = core<{ offer: string }>('start_link');
  await saved();
  const opened = await authenticated(() => apiRequest<{ code: string; expires_at: string }>('POST', '/api/users/me/devices/links', { offer }));
  await keyStore()?.put(LINK_CODE_KEY, opened.code);
  return opened;
}

/** The code of a link this browser started and has not finished, if the relay still has it. */
export async function resumableLink(): Promise<{ code: string; expires_at: string } | null> {
  const code = await keyStore()?.get<string>(LINK_CODE_KEY);
  if (code === undefined) return null;
  try {
    const link = await getLink(code);
    return { code, expires_at: link.expires_at };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 410)) {
      await forgetLink();
      return null;
    }
    throw err;
  }
}

export async function forgetLink(): Promise<void> {
  await keyStore()?.delete(LINK_CODE_KEY);
}

/** Forgets the link here and deletes it from the relay (best effort: it expires there anyway). */
export async function closeLink(code: string): Promise<void> {
  await forgetLink();
  await authenticated(() => apiRequest('DELETE', relay(code))).catch(() => undefined);
}

/** The short string to compare, once the other device answered (null before). */
export async function linkSas(code: string): Promise<string | null> {
  const link = await getLink(code);
  if (link.answer === null) return null;
  return core<{ sas: string }>('link_sas', { approver: link.answer }).sas;
}

/**
 * After the person saw both strings match: takes the other device's payload
 * (null while it has not sent it). The relay's copy is then deleted.
 */
export async function takePayload(code: string): Promise<{ pins: number; channels: number } | null> {
  const link = await getLink(code);
  if (link.payload === null) return null;
  if (link.answer !== null) core('link_sas', { approver: link.answer });
  const linked = core<{ device_id: number; pins: number; channels: number }>('finish_link', { payload: link.payload });
  await saved();
  await closeLink(code);
  return linked;
}

// ---- on the device that approves ---------------------------------------------

/** Answers a code shown on a new device of mine; returns the string to compare with the one it shows. */
export async function answerLink(code: string): Promise<string> {
  const link = await getLink(code);
  const answer = core<{ ephemeral: string; sas: string }>('answer_link', { offer: link.offer });
  await saved();
  if (link.answer !== answer.ephemeral) {
    await authenticated(() => apiRequest('POST', `${relay(code)}/answer`, { answer: answer.ephemeral }));
  }
  return answer.sas;
}

/**
 * After the person saw both strings match: signs the new device into my
 * device list, publishes it, and sends the sealed payload with my identity,
 * pins, log heads and the keys of `channels`.
 */
export async function approveLink(userId: number, code: string, channels: readonly number[]): Promise<void> {
  const link = await getLink(code);
  const served = await devicesOf(userId);
  const approval = core<{ device_list: string; payload: string }>('approve_link', { offer: link.offer, device_list: served.device_list, channels, now: now() });
  await saved();
  await publishDeviceList(approval.device_list);
  await authenticated(() => apiRequest('POST', `${relay(code)}/payload`, { payload: approval.payload }));
}

/** The channels whose keys this browser holds: what a link may carry. */
export function carriableChannels(): number[] {
  return core<number[]>('held_channels');
}
