// This browser as one of the person's devices (docs/PROTOCOL.md §2a–2c): its
// device key in the identity-signed device list, its signed prekey (rotated
// weekly), and its mailbox of key shares, which the server deletes as this
// browser acknowledges them. Other people's device lists and prekeys are
// fetched here for sealing; every check on them is the core's.

import { authenticated } from '../state/session.ts';
import { apiRequest } from '../api/http.ts';
import { ApiError } from '../api/errors.ts';
import { core, now, saved } from './core.ts';

/** `GET /api/users/{id}/devices`: the identity-signed list as stored, and each device's prekey. */
export interface DevicesPage {
  device_list: string | null;
  devices: { device_id: number; prekey: string | null; last_seen_at: string | null }[];
}

/** A share waiting in this device's mailbox. */
export interface MailboxShare {
  id: number;
  channel_id: number;
  key_version: number;
  sender_id: number;
  encrypted_key: string;
  is_key_rotation: boolean;
}

/** One of my devices as Account → Devices shows it. */
export interface MyDevice {
  device_id: number;
  /** This browser. */
  current: boolean;
  last_seen_at: string | null;
}

interface DeviceSetup {
  device_id: number;
  device_list: string | null;
  prekey: string | null;
}

interface DeviceListView {
  user_id: number;
  version: number;
  devices: number[];
}

/** Most mailbox entries fetched per page. */
const MAILBOX_PAGE = 100;

export function devicesOf(userId: number): Promise<DevicesPage> {
  return authenticated(() => apiRequest<DevicesPage>('GET', `/api/users/${userId}/devices`));
}

export async function publishDeviceList(deviceList: string): Promise<void> {
  await authenticated(() => apiRequest('PUT', '/api/users/me/devices', { device_list: deviceList }));
}

async function publishPrekey(deviceId: number, prekey: string): Promise<void> {
  await authenticated(() => apiRequest('PUT', `/api/users/me/devices/${deviceId}/prekey`, { prekey }));
}

/** This browser's device id, once it is set up. */
export function deviceId(): number | null {
  return core<{ device_id: number | null }>('device_id').device_id;
}

/**
 * Sets this browser up as a device of mine (it holds the identity): a device
 * key, my device list with it added and signed by my identity, and its first
 * prekey, each published when new. Refused with `device_revoked` when a
 * newer list signed by my identity left this browser out: the core has then
 * forgotten every key it held.
 */
export async function setUpDevice(userId: number): Promise<number> {
  const served = await devicesOf(userId);
  const setup = core<DeviceSetup>('set_up_device', { device_list: served.device_list, now: now() });
  await saved();
  if (setup.device_list !== null) await publishDeviceList(setup.device_list);
  const published = served.devices.find((d) => d.device_id === setup.device_id)?.prekey ?? null;
  if (setup.prekey !== null) await publishPrekey(setup.device_id, setup.prekey);
  else if (published === null) await republishPrekey(setup.device_id);
  return setup.device_id;
}

/** The server lost this device's prekey (a list published before it, say): publish the current one again. */
async function republishPrekey(id: number): Promise<void> {
  const { prekey } = core<{ prekey: string | null }>('current_prekey');
  if (prekey !== null) await publishPrekey(id, prekey);
}

/** Publishes a new prekey when the current one is a week old. */
export async function rotatePrekey(): Promise<void> {
  const id = deviceId();
  if (id === null) return;
  const { prekey } = core<{ prekey: string | null }>('rotate_prekey', { now: now() });
  await saved();
  if (prekey !== null) await publishPrekey(id, prekey);
}

/**
 * What became of a share from the mailbox: accepted, refused for good (the
 * core's checks failed, or the share is for a room I am not in), or to be
 * tried again later (the page does not know its rooms yet, the network
 * failed): such a share is not acknowledged, so the server keeps it.
 */
export type MailboxOutcome = 'accepted' | 'refused' | 'later';

/**
 * Empties this device's mailbox: each share goes to `accept` (the core
 * checks it), then is acknowledged, and the server deletes it. A share that
 * must wait stops the drain there, unacknowledged with every share after
 * it; the next drain starts from it. Once the mailbox is empty the private
 * halves of older prekeys are deleted, so keys stolen later open nothing
 * sealed before. Returns how many were accepted, and whether some wait.
 */
export async function drainMailbox(accept: (share: MailboxShare) => Promise<MailboxOutcome>): Promise<{ accepted: number; waiting: boolean }> {
  const id = deviceId();
  if (id === null) return { accepted: 0, waiting: false };
  let accepted = 0;
  let waiting = false;
  let after: number | null = null;
  while (!waiting) {
    const query: string = after === null ? '' : `&after=${after}`;
    const page: { shares: MailboxShare[]; next: number | null } = await authenticated(() =>
      apiRequest<{ shares: MailboxShare[]; next: number | null }>('GET', `/api/users/me/devices/${id}/shares?limit=${MAILBOX_PAGE}${query}`),
    );
    const done: number[] = [];
    for (const share of page.shares) {
      const outcome = await accept(share);
      if (outcome === 'later') {
        waiting = true;
        break;
      }
      if (outcome === 'accepted') accepted += 1;
      done.push(share.id);
    }
    if (done.length > 0) await authenticated(() => apiRequest('POST', `/api/users/me/devices/${id}/shares/ack`, { ids: done }));
    if (page.next === null || page.shares.length === 0) break;
    after = page.next;
  }
  // Older prekeys go only once nothing sealed to them waits.
  if (waiting) return { accepted, waiting };
  if (core<{ retired: number }>('retire_prekeys').retired > 0) await saved();
  return { accepted, waiting };
}

/**
 * The prekeys to seal a new version to, for `users` (me included, for my
 * other devices): each person's served list goes to the core, which keeps it
 * only if their pinned identity signed it and it is not older than one seen;
 * their devices' prekeys are passed on for the core to check one by one.
 * People with no list (no devices yet) are left out: they get a share
 * sealed to their identity.
 */
export async function servedPrekeys(users: readonly number[]): Promise<Record<number, string[]>> {
  const out: Record<number, string[]> = {};
  for (const userId of users) {
    let page: DevicesPage;
    try {
      page = await devicesOf(userId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) continue;
      throw err;
    }
    if (page.device_list === null) continue;
    try {
      core<DeviceListView>('observe_device_list', { user_id: userId, device_list: page.device_list });
    } catch {
      // Refused (not signed by their pinned identity, or a rollback): the core
      // keeps the list it verified before, and checks each prekey against it.
    }
    out[userId] = page.devices.flatMap((d) => (d.prekey === null ? [] : [d.prekey]));
  }
  await saved();
  return out;
}

/** My devices: those in my identity-signed list, with when the server last heard from each. */
export async function myDevices(userId: number): Promise<MyDevice[]> {
  const page = await devicesOf(userId);
  if (page.device_list === null) return [];
  const view = core<DeviceListView>('observe_device_list', { user_id: userId, device_list: page.device_list });
  const mine = deviceId();
  return view.devices.map((id) => ({
    device_id: id,
    current: id === mine,
    last_seen_at: page.devices.find((d) => d.device_id === id)?.last_seen_at ?? null,
  }));
}

/**
 * Revokes one of my other devices: my identity signs a list without it
 * (the server then drops its prekey and mailbox). Returns the channels whose
 * next version must be made now, so that it reads nothing new.
 */
export async function revokeDeviceList(userId: number, id: number): Promise<number[]> {
  const served = await devicesOf(userId);
  if (served.device_list === null) return [];
  const { device_list } = core<{ device_list: string }>('revoke_device', { device_id: id, device_list: served.device_list, now: now() });
  await saved();
  await publishDeviceList(device_list);
  return core<number[]>('channels_to_rotate');
}
