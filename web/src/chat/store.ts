// The chat state of the signed-in page and the actions that change it.
//
// Views read the signals below and call the actions; the actions talk to the
// API (`../api/`) and to the Socket.IO connection (`./socket.ts`). The rules
// about ordering, duplicates, pending messages and unread counts live in the
// pure modules next to this one (timeline, outbox, unread), which are unit
// tested; this module wires them to the network.

import { batch, computed, effect, signal, untracked } from '@preact/signals';
import type { User } from '../api/auth.ts';
import { describeError } from '../api/errors.ts';
import * as messagesApi from '../api/messages.ts';
import type { Message } from '../api/messages.ts';
import * as roomsApi from '../api/rooms.ts';
import type { Channel, Role, RoomWithChannels } from '../api/rooms.ts';
import * as e2ee from '../e2ee/engine.ts';
import { shownText } from '../push/content.ts';
import { channelPath, navigate } from '../router.ts';
import { authenticated, loadSession } from '../state/session.ts';
import { searchHooks } from '../search/hooks.ts';
import { callAttention } from './attention.ts';
import { Outbox, OUTBOX_MAX_BYTES, OUTBOX_MAX_MESSAGES, type OutboxLimit, type PendingMessage } from './outbox.ts';
import { isPending, OfflineCache, splitOutbox } from '../offline/cache.ts';
import { withSnapshot, type Presence } from './presence.ts';
import { withLoaded, withReactionEvent, type ReactionEvent, type ReactionsByMessage } from './reactions.ts';
import { firstUnreadId } from './readmarker.ts';
import { mentions } from './text.ts';
import { connect, NoAnswer, request, type Socket } from './socket.ts';
import { addMessages, addOlder, EMPTY_TIMELINE, firstId, lastId, markDeleted, type Timeline } from './timeline.ts';
import { afterArrival, setCount, type UnreadCounts } from './unread.ts';
import { forgetEvents, resetEvents, syncEvents } from './eventsync.ts';
import { t } from '../i18n/index.ts';
import { onPinsUpdated, onRoomSettingsUpdated, onSavedUpdated } from '../pins/state.ts';
import { expiriesOf, timersEpoch } from '../disappearing/glue.ts';
import { ExpiryScheduler } from '../disappearing/timer.ts';
import type { ThreadSummary } from '../api/threads.ts';
import * as threads from '../threads/state.ts';
import type { Profile } from '../api/profiles.ts';
import { profileLoader } from './profiles.ts';
import { reminderDue, resetReminders } from './reminders.ts';
import type { ReminderDue } from '../api/reminders.ts';

export type Connection = 'connecting' | 'online' | 'offline';

export interface Typist {
  username: string;
  until: number;
}

export const me = signal<User | null>(null);
export const connection = signal<Connection>('connecting');
export const rooms = signal<RoomWithChannels[]>([]);
export const roomsLoaded = signal(false);
export const unread = signal<UnreadCounts>({});
export const timelines = signal<Readonly<Record<number, Timeline>>>({});
export const pending = signal<readonly PendingMessage[]>([]);
export const typists = signal<Readonly<Record<number, Readonly<Record<number, Typist>>>>>({});
/** Presence seen since this page connected: true online, false offline, absent unknown. */
export const presence = signal<Presence>({});
/** Whether this page's presence snapshot came: then whoever of my rooms is not online is offline. */
export const presenceSnapshotSeen = signal(false);
export const activeChannelId = signal<number | null>(null);
/**
 * The chat opened without the server (see `startOffline`): rooms and the
 * outbox come from what this browser kept, nothing is sent until it is back.
 */
export const offlineMode = signal(false);
/** A one-off message for the chat screen ("You were removed from Lobby."). */
export const chatNotice = signal<string | null>(null);
/** Bumped for a room whenever its member list changes, so an open members panel reloads. */
export const membersVersion = signal<Readonly<Record<number, number>>>({});
/** Bumped for a room whenever its resources change, so an open Resources panel reloads. */
export const resourcesVersion = signal<Readonly<Record<number, number>>>({});
/** Channels whose older history is being fetched. */
export const loadingOlder = signal<ReadonlySet<number>>(new Set());
/** Reactions per message id, kept from history and `reaction_updated`. */
export const reactions = signal<ReactionsByMessage>({});
/** The message the composer of each channel replies to. */
export const replyingTo = signal<Readonly<Record<number, number>>>({});
/** Per channel: the first message that was unread when the user opened it (the "New messages" divider). */
export const newSince = signal<Readonly<Record<number, number | null>>>({});
/** The message being edited in place, and whether Up in the composer started it (focus goes back there after). */
export const editingMessage = signal<{ id: number; fromComposer: boolean } | null>(null);

export const activeChannel = computed<{ room: RoomWithChannels; channel: Channel } | null>(() => {
  const id = activeChannelId.value;
  if (id === null) return null;
  for (const room of rooms.value) {
    const channel = room.channels.find((c) => c.id === id);
    if (channel !== undefined) return { room, channel };
  }
  return null;
});

let socket: Socket | null = null;

/** The page's socket while the chat runs (push/viewing.ts reports on it), else null. */
export function currentSocket(): Socket | null {
  return socket;
}

let outbox = new Outbox();
/** This person's offline database (rooms, plaintext channels' outbox), once open. */
let cache: OfflineCache | null = null;
/** Whether the kept outbox was read back: before that, writing it would lose what it holds. */
let cacheRead = false;
/** Bumped by `stop`: a cache opened for an earlier start is closed, not used. */
let generation = 0;
let pumping = false;
/** Channels joined on the current connection. */
let joined = new Set<number>();
const markedRead = new Map<number, number>();
/** The channel just opened whose divider is not placed yet (placed when its unread count is cleared). */
let dividerPending: number | null = null;
let lastTypingSent = 0;

const TYPING_SHOWN_MS = 5_000;
const TYPING_SEND_EVERY_MS = 3_000;
const RETRY_MS = 1_000;
/** A message this fresh was sent by someone connected now. */
const LIVE_MS = 10_000;
/** Refusals that mean "the key version is changing": wait for the new key and send again. */
const KEY_WAIT_CODES = new Set(['key_rotation_pending', 'stale_key_version', 'no_channel_key']);
const KEY_WAIT_MS = 1_000;
const MAX_KEY_WAITS = 10;
const keyWaits = new Map<string, number>();

/**
 * Mirrors the outbox into the signal and into storage, so a reload or a
 * closed browser loses nothing: plaintext channels' messages in the offline
 * database (`../offline/cache.ts`), the others — encrypted channels', and
 * any whose channel is not known yet — sealed by the E2EE core in its state,
 * so their plaintext is never stored as it is. The plaintext part is written
 * only once the kept one was read back and the channels are known.
 */
function saveOutbox(): void {
  pending.value = outbox.all();
  if (me.value === null) return;
  const { plain, sealed } = splitOutbox(outbox.all(), allChannels());
  try {
    e2ee.keepOutbox(sealed.length === 0 ? '' : JSON.stringify(sealed));
  } catch {
    // The keys are not usable here: those messages wait in memory only.
  }
  if (cache !== null && cacheRead && roomsLoaded.peek()) void cache.keepOutbox(plain).catch(() => undefined);
}

/** Takes back the messages the E2EE core kept sealed (after a reload). */
function restoreSealedOutbox(): void {
  let kept: unknown;
  try {
    const text = e2ee.keptOutbox();
    kept = text === '' ? [] : JSON.parse(text);
  } catch {
    return;
  }
  if (!Array.isArray(kept)) return;
  outbox.restore(kept.filter(isPending));
  saveOutbox();
  void pump();
}

/**
 * Opens `user`'s offline database and takes back the outbox it kept (and,
 * offline, the rooms as last listed); online, the rooms already listed are
 * kept in it from now on.
 */
async function openCache(user: User, offline: boolean): Promise<void> {
  const started = generation;
  let opened: OfflineCache;
  try {
    opened = await OfflineCache.open(user.id);
  } catch {
    // IndexedDB unavailable (private mode in some browsers): the outbox lives in memory.
    return;
  }
  if (started !== generation) {
    opened.close();
    return;
  }
  try {
    const keptRooms = offline ? await opened.rooms() : null;
    const keptOutbox = await opened.outbox();
    if (started !== generation) {
      opened.close();
      return;
    }
    cache = opened;
    if (keptRooms !== null && !roomsLoaded.peek()) {
      batch(() => {
        rooms.value = keptRooms;
        roomsLoaded.value = true;
      });
    }
    outbox.restore(keptOutbox);
    cacheRead = true;
  } catch {
    opened.close();
    return;
  }
  if (!offline && roomsLoaded.peek()) void opened.keepRooms(rooms.peek()).catch(() => undefined);
  saveOutbox();
  void pump();
}

// The rooms as listed online are kept for the next offline start.
effect(() => {
  const list = rooms.value;
  if (!roomsLoaded.value || offlineMode.peek() || cache === null) return;
  void cache.keepRooms(list).catch(() => undefined);
});

function allChannels(): Channel[] {
  return rooms.value.flatMap((room) => room.channels);
}

function timelineOf(channelId: number): Timeline {
  return timelines.value[channelId] ?? EMPTY_TIMELINE;
}

function setTimeline(channelId: number, timeline: Timeline): void {
  timelines.value = { ...timelines.value, [channelId]: withoutExpired(channelId, timeline) };
}

// ---- disappearing messages --------------------------------------------------

/** Messages that disappeared in this page: a late copy (history, a resume) never brings one back. */
const gone = new Set<number>();
/** The `expires_at` each tracked message's expiry was computed from, by id. */
const expiryInputs = new Map<number, number | null>();
/** One timer for the next expiry among all loaded messages. */
const expiries = new ExpiryScheduler((ids) => removeExpired(ids));

/** Tracks the expiry of messages new to `timeline` (or whose `expires_at` changed) and drops those already gone. */
function withoutExpired(channelId: number, timeline: Timeline): Timeline {
  const fresh = timeline.messages.filter((m) => !m.deleted && !gone.has(m.id) && expiryInputs.get(m.id) !== (m.expires_at ?? null));
  if (fresh.length > 0) {
    const times = expiriesOf(channelId, fresh);
    for (const m of fresh) expiryInputs.set(m.id, m.expires_at ?? null);
    expiries.track(times);
  }
  if (!timeline.messages.some((m) => gone.has(m.id))) return timeline;
  return { ...timeline, messages: timeline.messages.filter((m) => !gone.has(m.id)) };
}

/**
 * Messages whose time came: they leave the view, their decrypted text and
 * the local search index. The server deletes its copy too (its purge, or
 * earlier by the log's timer in an encrypted channel).
 */
function removeExpired(ids: readonly number[]): void {
  for (const id of ids) {
    gone.add(id);
    expiryInputs.delete(id);
  }
  batch(() => {
    const next: Record<number, Timeline> = { ...timelines.value };
    let changed = false;
    for (const [key, timeline] of Object.entries(next)) {
      if (!timeline.messages.some((m) => gone.has(m.id))) continue;
      next[Number(key)] = { ...timeline, messages: timeline.messages.filter((m) => !gone.has(m.id)) };
      changed = true;
    }
    if (changed) timelines.value = next;
    e2ee.forgetDecrypted(ids);
  });
  for (const id of ids) searchHooks.deleted(id);
}

/** Whether a message disappeared in this page (the search index leaves it out). */
export function hasDisappeared(id: number): boolean {
  return gone.has(id);
}

// A room's log was verified again, or encryption became ready: every expiry is computed anew.
effect(() => {
  void timersEpoch.value;
  if (e2ee.identityStatus.value.kind !== 'ready') return;
  // Only the two signals above are this effect's: the timelines it rewrites are not.
  untracked(() => {
    const held = timelines.peek();
    expiryInputs.clear();
    for (const [key, timeline] of Object.entries(held)) setTimeline(Number(key), timeline);
  });
});

/** Takes in loaded messages (history or a join answer): the timeline and the reactions they carry. */
function takeLoaded(channelId: number, timeline: Timeline, messages: readonly Message[]): void {
  batch(() => {
    setTimeline(channelId, timeline);
    reactions.value = withLoaded(reactions.value, messages);
  });
}

function bumpMembers(roomId: number): void {
  membersVersion.value = { ...membersVersion.value, [roomId]: (membersVersion.value[roomId] ?? 0) + 1 };
}

function isWatching(channelId: number): boolean {
  return activeChannelId.value === channelId && document.visibilityState === 'visible';
}

/** Starts the chat for a signed-in user: loads rooms, connects, resumes the outbox. */
export function start(user: User): void {
  if (me.value?.id === user.id && socket !== null) return;
  stop();
  me.value = user;
  void openCache(user, false);
  presence.value = { [user.id]: true };
  e2ee.setRoomLookup(roomOfChannel, () => roomsLoaded.peek(), refreshRooms);
  void e2ee.startE2ee(user);
  const s = connect();
  socket = s;
  connection.value = 'connecting';
  let connectedBefore = false;
  s.on('connect', () => {
    connection.value = 'online';
    // Profile changes made while this page was disconnected were not pushed to it.
    if (connectedBefore) profileLoader.refreshAll();
    connectedBefore = true;
    joined = new Set();
    // Rooms first (membership may have changed while offline), then every channel.
    void refreshRooms()
      .then(joinAll)
      .then(() => e2ee.prepareRooms(rooms.value));
    // The open thread catches up from its last reply; the Threads badge is read again.
    void threads.resumeOpenThread().catch(() => undefined);
    void threads.loadThreadCounts().catch(() => undefined);
  });
  s.on('disconnect', (reason) => {
    connection.value = 'offline';
    joined = new Set();
    // A server-side disconnect is not retried by socket.io-client by itself.
    if (reason === 'io server disconnect') void loadSession();
  });
  s.on('connect_error', () => {
    connection.value = 'offline';
  });
  s.on('session_ended', () => void loadSession());
  s.on('new_message', (m: Message) => receive(m));
  s.on('message_edited', (m: Message) => {
    takeEdited(m);
    searchHooks.edited(m);
  });
  // The server's purge (retention, or a disappearing timer): the messages leave like expired ones.
  s.on('messages_deleted', (e: { ids: number[] }) => removeExpired(e.ids));
  s.on('message_deleted', (e: { id: number; channel_id: number }) => {
    setTimeline(e.channel_id, markDeleted(timelineOf(e.channel_id), e.id));
    threads.onReplyChanged(e.id, (m) => ({ ...m, deleted: true, content: null, envelope: null }));
    searchHooks.deleted(e.id);
  });
  s.on('thread_updated', (e: { root_id: number; channel_id: number; thread: ThreadSummary }) => {
    setTimeline(e.channel_id, { ...timelineOf(e.channel_id), messages: threads.withSummary(timelineOf(e.channel_id).messages, e.root_id, e.thread) });
    threads.onThreadUpdated(e.root_id, e.thread);
  });
  s.on('thread_unread', (e: threads.ThreadUnread) => threads.onThreadUnread(e));
  s.on('typing', (e: { channel_id: number; user_id: number; username: string }) => {
    seenOnline(e.user_id);
    const forChannel = { ...(typists.value[e.channel_id] ?? {}), [e.user_id]: { username: e.username, until: Date.now() + TYPING_SHOWN_MS } };
    typists.value = { ...typists.value, [e.channel_id]: forChannel };
    setTimeout(expireTypists, TYPING_SHOWN_MS + 50);
  });
  s.on('reaction_updated', (e: ReactionEvent) => {
    reactions.value = withReactionEvent(reactions.value, e, user.id);
  });
  s.on('unread', (e: { channel_id: number; unread: number }) => {
    unread.value = setCount(unread.value, e.channel_id, e.unread);
  });
  s.on('presence', (e: { user_id: number; online: boolean }) => {
    presence.value = { ...presence.value, [e.user_id]: e.online };
  });
  s.on('presence_snapshot', (e: { online: number[] }) => {
    presence.value = withSnapshot(presence.value, e.online, user.id);
    presenceSnapshotSeen.value = true;
  });
  s.on('profile_updated', (p: Profile) => profileLoader.put(p));
  s.on('reminder_due', (r: ReminderDue) => reminderDue(r));
  s.on('member_joined', (e: { room_id: number; user_id: number }) => {
    profileLoader.allow(e.user_id);
    if (e.user_id === user.id) void refreshRooms().then(joinAll);
    else bumpMembers(e.room_id);
  });
  s.on('member_left', (e: { room_id: number; user_id: number; reason: string }) => {
    if (e.user_id === user.id) removeRoom(e.room_id, e.reason);
    else bumpMembers(e.room_id);
  });
  s.on('member_role_changed', (e: { room_id: number; user_id: number; role: Role }) => {
    if (e.user_id === user.id) rooms.value = rooms.value.map((r) => (r.id === e.room_id ? { ...r, my_role: e.role } : r));
    bumpMembers(e.room_id);
  });
  s.on('channel_created', (e: { room_id: number; channel: Channel }) => {
    rooms.value = rooms.value.map((r) =>
      r.id === e.room_id && !r.channels.some((c) => c.id === e.channel.id) ? { ...r, channels: [...r.channels, e.channel] } : r,
    );
    void joinChannel(e.channel.id);
    if (e.channel.is_encrypted) void e2ee.prepareRooms(rooms.value);
  });
  s.on('channel_updated', (e: { room_id: number; channel: Channel }) => {
    rooms.value = rooms.value.map((r) => (r.id === e.room_id ? { ...r, channels: r.channels.map((c) => (c.id === e.channel.id ? e.channel : c)) } : r));
  });
  s.on('channel_deleted', (e: { room_id: number; channel_id: number }) => {
    rooms.value = rooms.value.map((r) => (r.id === e.room_id ? { ...r, channels: r.channels.filter((c) => c.id !== e.channel_id) } : r));
    forgetChannel(e.channel_id);
  });
  s.on('room_updated', (e: { room_id: number; name: string; description: string; is_private: boolean; retention_days?: number | null }) => {
    const retention = e.retention_days === undefined ? {} : { retention_days: e.retention_days };
    rooms.value = rooms.value.map((r) => (r.id === e.room_id ? { ...r, name: e.name, description: e.description, is_private: e.is_private, ...retention } : r));
  });
  s.on('room_deleted', (e: { room_id: number }) => removeRoom(e.room_id, 'deleted'));
  s.on('timeline_updated', (e: { room_id: number }) => {
    const open = activeChannelId.value;
    if (open !== null && roomOfChannel(open)?.id === e.room_id) refreshEvents(open);
  });
  for (const event of ['resource_added', 'resource_updated', 'resource_removed'] as const) {
    s.on(event, (e: { room_id: number }) => {
      resourcesVersion.value = { ...resourcesVersion.value, [e.room_id]: (resourcesVersion.value[e.room_id] ?? 0) + 1 };
    });
  }
  s.on('pins_updated', (e: { channel_id: number }) => onPinsUpdated(e.channel_id));
  s.on('saved_updated', () => onSavedUpdated());
  // Members may pin, channel-wide mentions: the room listing carries the settings.
  s.on('room_settings_updated', (e: { room_id: number }) => {
    onRoomSettingsUpdated(rooms.value.find((r) => r.id === e.room_id)?.channels.map((c) => c.id) ?? []);
    void refreshRooms();
  });
  s.on('membership_log_started', () => keysChanged());
  s.on('channel_registered', () => keysChanged());
  s.on('channel_key_share', (e: e2ee.ShareEvent) => {
    e2ee.receiveShare(e).then(keysChanged, (err: unknown) => {
      chatNotice.value = t('notice.shareRefused', { error: err instanceof Error ? err.message : String(err) });
    });
  });
  s.on('key_rotation_needed', (e: e2ee.RotationEvent) => {
    const room = roomOfChannel(e.channel_id);
    if (room === null) return;
    e2ee
      .onRotationNeeded(e, room)
      // What waited for the new version goes now, whatever the retry timer had grown to.
      .then(keysChanged)
      .catch((err: unknown) => {
        chatNotice.value = t('notice.rotateFailed', { error: err instanceof Error ? err.message : String(err) });
      });
  });
  s.on('channel_key_request', (e: e2ee.KeyRequest) => e2ee.receiveKeyRequest(e));
  s.on('public_key_changed', (e: { user_id: number }) => e2ee.publicKeyChanged(e.user_id));
}

/** The room of one of my channels, or null. */
export function roomOfChannel(channelId: number): RoomWithChannels | null {
  return rooms.value.find((r) => r.channels.some((c) => c.id === channelId)) ?? null;
}

export function channelById(channelId: number): Channel | null {
  return allChannels().find((c) => c.id === channelId) ?? null;
}

// Once this browser's keys are ready (loaded, created or restored): the sealed
// outbox comes back, and the logs this browser should start are started.
let readyFor = '';
effect(() => {
  const status = e2ee.identityStatus.value;
  const key = status.kind === 'ready' ? status.fingerprint : '';
  if (key === readyFor) return;
  readyFor = key;
  if (key === '') return;
  restoreSealedOutbox();
  void e2ee.prepareRooms(rooms.peek());
});

// A channel this browser saw encrypted stays encrypted, whatever the server
// lists later: the E2EE core names such channels, and they are kept
// encrypted here (marked `downgraded` so the view can say so). Every path
// that changes the rooms goes through this.
effect(() => {
  const list = rooms.value;
  const held = e2ee.heldEncrypted(list);
  if (held.size === 0) return;
  rooms.value = list.map((room) => ({
    ...room,
    channels: room.channels.map((c) => (held.has(c.id) && !c.is_encrypted ? { ...c, is_encrypted: true, downgraded: true } : c)),
  }));
});

/**
 * Opens the chat of `user` without the server (it cannot be reached, and
 * they signed in last on this browser): their rooms as last listed, their
 * outbox, and their keys from this browser so encrypted channels' pending
 * messages open. Writing works and fills the outbox; nothing connects. Once
 * the server answers, the session becomes signed-in and `start` takes over.
 */
export function startOffline(user: User): void {
  if (me.value?.id === user.id && offlineMode.peek()) return;
  stop();
  me.value = user;
  offlineMode.value = true;
  connection.value = 'offline';
  // The rooms first: they say which pending messages may be kept readable.
  void openCache(user, true).then(() => e2ee.openE2eeOffline(user));
}

/** Disconnects and forgets everything (logout). */
export function stop(): void {
  generation++;
  cache?.close();
  cache = null;
  cacheRead = false;
  outbox = new Outbox();
  socket?.removeAllListeners();
  socket?.disconnect();
  socket = null;
  joined = new Set();
  markedRead.clear();
  dividerPending = null;
  expiries.clear();
  expiryInputs.clear();
  gone.clear();
  e2ee.stopE2ee();
  threads.resetThreads();
  profileLoader.reset();
  resetReminders();
  batch(() => {
    me.value = null;
    rooms.value = [];
    roomsLoaded.value = false;
    timelines.value = {};
    reactions.value = {};
    replyingTo.value = {};
    newSince.value = {};
    resetEvents();
    editingMessage.value = null;
    unread.value = {};
    pending.value = [];
    typists.value = {};
    presence.value = {};
    presenceSnapshotSeen.value = false;
    chatNotice.value = null;
    connection.value = 'connecting';
    offlineMode.value = false;
  });
}

/** Someone typing or posting right now is online, even if their presence event came before this page connected. */
function seenOnline(userId: number): void {
  if (presence.value[userId] !== true) presence.value = { ...presence.value, [userId]: true };
}

function expireTypists(): void {
  const now = Date.now();
  const next: Record<number, Record<number, Typist>> = {};
  for (const [channel, byUser] of Object.entries(typists.value)) {
    const alive = Object.fromEntries(Object.entries(byUser).filter(([, t]) => t.until > now));
    if (Object.keys(alive).length > 0) next[Number(channel)] = alive;
  }
  typists.value = next;
}

function forgetChannel(channelId: number): void {
  joined.delete(channelId);
  const { [channelId]: _gone, ...rest } = timelines.value;
  timelines.value = rest;
  forgetEvents(channelId);
  outbox.dropChannel(channelId);
  saveOutbox();
  if (activeChannelId.value === channelId) navigate('/', { replace: true });
}

function removeRoom(roomId: number, reason: string): void {
  const room = rooms.value.find((r) => r.id === roomId);
  if (room === undefined) return;
  rooms.value = rooms.value.filter((r) => r.id !== roomId);
  for (const channel of room.channels) forgetChannel(channel.id);
  if (reason === 'kicked') chatNotice.value = t('notice.kicked', { room: room.name });
  else if (reason === 'banned') chatNotice.value = t('notice.banned', { room: room.name });
  else if (reason === 'deleted') chatNotice.value = t('notice.deleted', { room: room.name });
}

/** Reloads my rooms (sidebar) and the server's unread counts. */
export async function refreshRooms(): Promise<void> {
  try {
    const list = await authenticated(() => roomsApi.myRooms());
    batch(() => {
      rooms.value = list;
      roomsLoaded.value = true;
      let counts = unread.value;
      for (const channel of list.flatMap((r) => r.channels)) counts = setCount(counts, channel.id, channel.unread ?? 0);
      unread.value = counts;
    });
    e2ee.roomsArrived();
  } catch (err) {
    chatNotice.value = t('notice.roomsFailed', { error: describeError(err) });
  }
}

/** Joins every channel of my rooms on this connection, then sends what waits in the outbox. */
async function joinAll(): Promise<void> {
  await Promise.all(allChannels().map((c) => joinChannel(c.id)));
  void pump();
}

/**
 * Subscribes to a channel's events and catches up: the newest page when
 * nothing is known yet, otherwise everything after the last message held.
 */
async function joinChannel(channelId: number): Promise<void> {
  const s = socket;
  if (s === null || !s.connected || joined.has(channelId)) return;
  joined.add(channelId);
  const after = lastId(timelineOf(channelId));
  try {
    const ack = await request<{ messages: Message[]; has_more: boolean }>(s, 'join_channel', after === null ? { channel_id: channelId } : { channel_id: channelId, after });
    if (!ack.success) {
      joined.delete(channelId);
      return;
    }
    const timeline = timelineOf(channelId);
    if (after === null) takeLoaded(channelId, addOlder(timeline, ack.messages, ack.has_more || timeline.hasOlder), ack.messages);
    else takeLoaded(channelId, addMessages(timeline, ack.messages), ack.messages);
    for (const m of ack.messages) if (outbox.settle(m.client_msg_id)) saveOutbox();
    if (after !== null && ack.has_more) await catchUp(channelId);
    if (activeChannelId.value === channelId) refreshEvents(channelId);
    markReadIfWatching(channelId);
  } catch (err) {
    // Joined again on the next connect; a refusal other than a lost answer is worth saying.
    joined.delete(channelId);
    if (!(err instanceof NoAnswer)) chatNotice.value = t('notice.messagesFailed', { error: describeError(err) });
  }
}

/** Pages forward with the history endpoint when a resume had more than it returns at once. */
async function catchUp(channelId: number): Promise<void> {
  for (;;) {
    const after = lastId(timelineOf(channelId));
    if (after === null) return;
    const page = await authenticated(() => messagesApi.newerThan(channelId, after));
    takeLoaded(channelId, addMessages(timelineOf(channelId), page.messages), page.messages);
    if (!page.has_more) return;
  }
}

/** Whether a message is a thread reply kept out of the channel's timeline. */
export function threadOnly(message: { thread_root_id?: number | null; also_send_to_channel?: boolean }): boolean {
  return message.thread_root_id !== null && message.thread_root_id !== undefined && message.also_send_to_channel !== true;
}

/** An edited message goes where it is shown: its thread, the channel, or both. */
function takeEdited(m: Message): void {
  threads.onReplyChanged(m.id, () => m);
  if (!threadOnly(m)) setTimeline(m.channel_id, addMessages(timelineOf(m.channel_id), [m]));
}

function receive(message: Message): void {
  threads.onReply(message);
  if (threadOnly(message)) {
    // A reply in a thread only: its thread and the follow counts (`thread_unread`) tell of it.
    if (outbox.settle(message.client_msg_id)) saveOutbox();
    if (!message.deleted) searchHooks.arrived(message);
    return;
  }
  const timeline = timelineOf(message.channel_id);
  const known = timeline.messages.some((m) => m.id === message.id);
  setTimeline(message.channel_id, addMessages(timeline, [message]));
  if (outbox.settle(message.client_msg_id)) saveOutbox();
  const fromMe = message.sender_id === me.value?.id;
  if (!known && !fromMe) void noticeArrival(message);
  if (!known && message.sender_id !== null && Date.now() - Date.parse(message.created_at) < LIVE_MS) seenOnline(message.sender_id);
  unread.value = afterArrival(unread.value, { channelId: message.channel_id, fromMe, watching: isWatching(message.channel_id), known });
  const typing = typists.value[message.channel_id];
  if (message.sender_id !== null && typing?.[message.sender_id] !== undefined) {
    const { [message.sender_id]: _done, ...rest } = typing;
    typists.value = { ...typists.value, [message.channel_id]: rest };
  }
  markReadIfWatching(message.channel_id);
  if (!known) searchHooks.arrived(message);
}

/**
 * A DM, or a message mentioning me, asks for attention while the tab is
 * hidden. In an encrypted channel the mention is looked for in the text
 * decrypted here (never in plaintext the server put beside it), and that
 * text is the notification's body, as in a plaintext channel.
 */
async function noticeArrival(message: Message): Promise<void> {
  const user = me.value;
  const room = roomOfChannel(message.channel_id);
  if (user === null || room === null) return;
  const sender = message.sender_username ?? t('notify.someone');
  let text = message.content;
  if (channelById(message.channel_id)?.is_encrypted === true) {
    await e2ee.decryptMessages([message]);
    const result = e2ee.decrypted.value[message.id];
    // A file message decrypts to its file note, which holds the file key: only its caption or name is shown.
    text = result?.kind === 'text' ? shownText(result.text, result.what, message.file?.id ?? null, (name) => t('composer.file', { name })) : null;
  }
  if (room.kind === 'dm') callAttention(t('notify.dmTitle', { name: sender }), text ?? t('notify.encrypted'));
  else if (text !== null && mentions(text, user.username)) callAttention(t('notify.mention', { name: sender, room: room.name }), text);
}

/** Opens a channel (the route `/channels/:id`). */
export function openChannel(channelId: number | null): void {
  activeChannelId.value = channelId;
  dividerPending = channelId;
  // Offline there is no history to fetch: the channel shows its pending messages.
  if (channelId !== null && !offlineMode.peek()) {
    void joinChannel(channelId);
    refreshEvents(channelId);
    markReadIfWatching(channelId);
  }
}

/**
 * Brings the open channel's system events up to date (see `eventsync.ts`):
 * on opening, after its history loaded or resumed, after older history,
 * and when the server says its room's timeline grew.
 */
function refreshEvents(channelId: number): void {
  syncEvents(channelId, () => timelines.value[channelId]).catch((err: unknown) => {
    chatNotice.value = t('notice.eventsFailed', { error: describeError(err) });
  });
}

/** Tells the server the user has seen the channel up to its newest message. */
export function markReadIfWatching(channelId: number): void {
  const s = socket;
  if (s === null || !isWatching(channelId)) return;
  const newest = lastId(timelineOf(channelId));
  if (newest === null) return;
  if (dividerPending === channelId) {
    // The first look at the channel since it was opened: the divider goes where the unread part begins.
    dividerPending = null;
    const mine = me.value?.id ?? 0;
    newSince.value = { ...newSince.value, [channelId]: firstUnreadId(timelineOf(channelId).messages, unread.value[channelId] ?? 0, mine) };
  }
  unread.value = setCount(unread.value, channelId, 0);
  // Each message is reported read once.
  if ((markedRead.get(channelId) ?? 0) >= newest) return;
  markedRead.set(channelId, newest);
  void request<{ unread: number }>(s, 'mark_read', { channel_id: channelId, message_id: newest })
    .then((ack) => {
      if (ack.success) unread.value = setCount(unread.value, channelId, ack.unread);
    })
    .catch(() => markedRead.delete(channelId));
}

/** Queues a message (a reply when `replyTo` is given, a thread reply with `thread`); it is sent at once when connected, or when the connection comes back. */
export function sendMessage(channelId: number, content: string, replyTo?: number, thread?: { rootId: number; alsoToChannel: boolean }): void {
  const placed = thread === undefined ? {} : { thread_root_id: thread.rootId, also_send_to_channel: thread.alsoToChannel };
  const item: Omit<PendingMessage, 'status'> = { client_msg_id: crypto.randomUUID(), channel_id: channelId, content, created_at: new Date().toISOString(), ...placed };
  const limit = outbox.wouldOverflow(content);
  if (limit !== null) {
    // The composer checks first (`outboxLimitFor`) and keeps the text; this is the last word.
    chatNotice.value = outboxFullText(limit);
    return;
  }
  outbox.add(replyTo === undefined ? item : { ...item, reply_to: replyTo });
  saveOutbox();
  void pump();
}

/** Which bound of the outbox `content` would go past, or null when it fits. */
export function outboxLimitFor(content: string): OutboxLimit | null {
  return outbox.wouldOverflow(content);
}

/** What to tell someone whose message does not fit in the outbox. */
export function outboxFullText(limit: OutboxLimit): string {
  return limit === 'count' ? t('offline.fullCount', { count: OUTBOX_MAX_MESSAGES }) : t('offline.fullBytes', { size: OUTBOX_MAX_BYTES / 1024 });
}

/**
 * Empties the outbox and its storage (signing out, after the person
 * confirmed); returns what it held, for `restoreOutbox` if signing out fails.
 */
export function discardOutbox(): PendingMessage[] {
  const held = [...outbox.all()];
  outbox = new Outbox();
  saveOutbox();
  return held;
}

/** Puts back what `discardOutbox` took (signing out failed). */
export function restoreOutbox(held: readonly PendingMessage[]): void {
  outbox.restore(held);
  saveOutbox();
  void pump();
}

/** Sets (or with null clears) the message the composer of a channel replies to. */
export function setReplyTarget(channelId: number, messageId: number | null): void {
  const { [channelId]: _old, ...rest } = replyingTo.value;
  replyingTo.value = messageId === null ? rest : { ...rest, [channelId]: messageId };
}

/** Adds my reaction to a message, or takes it back; throws with the server's message when refused. */
export async function toggleReaction(messageId: number, emoji: string): Promise<void> {
  const s = requireSocket();
  const user = me.value;
  const ack = await request<ReactionEvent>(s, 'react', { message_id: messageId, emoji });
  if (!ack.success) throw new Error(ack.message);
  if (user !== null) reactions.value = withReactionEvent(reactions.value, ack, user.id);
}

/**
 * Queues the encrypted message that announces an uploaded file: `note` is
 * the plaintext (with the file key), sealed like any message when sent, and
 * kept in memory only like every plaintext of an encrypted channel.
 */
export function sendFileMessage(channelId: number, note: string, fileId: number, label: string): void {
  outbox.add({ client_msg_id: crypto.randomUUID(), channel_id: channelId, content: note, file_id: fileId, label, created_at: new Date().toISOString() });
  saveOutbox();
  void pump();
}

/** Takes in the message the server posted for a plaintext upload. */
export function receivePosted(message: Message): void {
  receive(message);
}

export function discardPending(clientMsgId: string): void {
  outbox.discard(clientMsgId);
  saveOutbox();
}

let keyRetryTimer: ReturnType<typeof setTimeout> | null = null;
let keyRetryDelay = KEY_WAIT_MS;

/** Tries a message that waits for a key again later, less and less often (up to every 30 s). */
function scheduleKeyRetry(): void {
  if (keyRetryTimer !== null) return;
  keyRetryTimer = setTimeout(() => {
    keyRetryTimer = null;
    void pump();
  }, keyRetryDelay);
  keyRetryDelay = Math.min(keyRetryDelay * 2, 30_000);
}

/** A key or a membership log arrived: what waits for it goes now. */
function keysChanged(): void {
  keyRetryDelay = KEY_WAIT_MS;
  void pump();
}

/** Sends a message that failed again (the "Retry" of a failed message). */
export function retryPending(clientMsgId: string): void {
  outbox.retry(clientMsgId);
  outbox.waitingFor(clientMsgId, null);
  saveOutbox();
  keysChanged();
}

/** What an envelope binds of a queued message: a file note, a thread reply (with its root), or a message. */
function sealAs(item: PendingMessage): e2ee.SealAs {
  const reply_to = item.reply_to ?? null;
  if (item.file_id !== undefined) return { kind: 'file', reply_to };
  if (item.thread_root_id !== undefined) return { kind: item.also_send_to_channel === true ? 'thread_reply_in_channel' : 'thread_reply', target_id: item.thread_root_id, reply_to };
  return { kind: 'message', reply_to };
}

/** Sends queued messages one by one, in order, while connected. */
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  // Channels whose next message waits for a key: passed over this round.
  const held = new Set<number>();
  try {
    for (;;) {
      const s = socket;
      const item = outbox.next(held);
      if (s === null || !s.connected || item === null) return;
      outbox.markSending(item.client_msg_id);
      saveOutbox();
      const channel = channelById(item.channel_id);
      const room = roomOfChannel(item.channel_id);
      if (channel === null || room === null) {
        // Whether the channel is encrypted is not known yet: nothing leaves before it is.
        if (!roomsLoaded.value) {
          outbox.retry(item.client_msg_id);
          saveOutbox();
          setTimeout(() => void pump(), RETRY_MS);
          return;
        }
        outbox.fail(item.client_msg_id, t('outbox.channelGone'));
        saveOutbox();
        continue;
      }
      let body: Record<string, unknown> = { channel_id: item.channel_id, content: item.content, client_msg_id: item.client_msg_id };
      const reply = {
        ...(item.reply_to === undefined ? {} : { reply_to: item.reply_to }),
        ...(item.thread_root_id === undefined ? {} : { thread_root_id: item.thread_root_id, also_send_to_channel: item.also_send_to_channel === true }),
      };
      if (e2ee.identityStatus.value.kind === 'loading') {
        // The keys are still being loaded: wait for them rather than fail, and
        // before they are, nobody knows which channels this browser saw encrypted.
        outbox.retry(item.client_msg_id);
        saveOutbox();
        setTimeout(() => void pump(), RETRY_MS);
        return;
      }
      if (channel.is_encrypted || e2ee.isRunning()) {
        // Every send goes through the E2EE core when it runs: it seals for
        // encrypted channels, and refuses plaintext in a channel it saw encrypted.
        try {
          const sealed = await e2ee.sealForSend(channel, item.content, sealAs(item));
          if (sealed !== null) {
            body = { channel_id: item.channel_id, envelope: sealed.envelope, key_version: sealed.key_version, client_msg_id: item.client_msg_id };
            if (item.file_id !== undefined) body['file_id'] = item.file_id;
          }
          outbox.waitingFor(item.client_msg_id, null);
        } catch (err) {
          if (err instanceof e2ee.KeyWait) {
            // Sent by itself once the key exists: on its share, on the log's start, or on this timer.
            // The channel's later messages wait behind it; other channels go on.
            outbox.retry(item.client_msg_id);
            outbox.waitingFor(item.client_msg_id, err.message);
            saveOutbox();
            scheduleKeyRetry();
            held.add(item.channel_id);
            continue;
          }
          outbox.fail(item.client_msg_id, err instanceof Error ? err.message : String(err));
          saveOutbox();
          continue;
        }
      }
      let ack;
      try {
        ack = await request<{ message: Message }>(s, 'send_message', { ...body, ...reply });
      } catch {
        // No answer: the same client_msg_id goes again once connected.
        outbox.retry(item.client_msg_id);
        saveOutbox();
        if (s.connected) setTimeout(() => void pump(), RETRY_MS);
        return;
      }
      if (ack.success) {
        outbox.settle(item.client_msg_id);
        saveOutbox();
        receive(ack.message);
      } else if (KEY_WAIT_CODES.has(ack.code) && (keyWaits.get(item.client_msg_id) ?? 0) < MAX_KEY_WAITS) {
        // A rotation is under way (maybe by me, asked by the server): send again under the new version.
        keyWaits.set(item.client_msg_id, (keyWaits.get(item.client_msg_id) ?? 0) + 1);
        e2ee.forgetSendVersion(item.channel_id);
        outbox.retry(item.client_msg_id);
        saveOutbox();
        setTimeout(() => void pump(), KEY_WAIT_MS);
        return;
      } else if (ack.code === 'rate_limited') {
        outbox.retry(item.client_msg_id);
        saveOutbox();
        setTimeout(() => void pump(), ack.retry_after_ms ?? RETRY_MS);
        return;
      } else {
        outbox.fail(item.client_msg_id, ack.message);
        saveOutbox();
      }
    }
  } finally {
    pumping = false;
  }
}

/**
 * Edits one of my messages; throws with the server's message when refused.
 * In an encrypted channel the new text is sealed in the browser like a new
 * message and only the envelope is sent.
 */
export async function editMessage(message: Message, content: string): Promise<void> {
  const s = requireSocket();
  const channel = channelById(message.channel_id);
  let body: Record<string, unknown> = { message_id: message.id, content };
  if (channel?.is_encrypted === true) {
    if (message.key_version === null) throw new Error(t('edit.noKeyVersion'));
    body = { message_id: message.id, envelope: await e2ee.encryptEdit(channel, { id: message.id, key_version: message.key_version, reply_to: message.reply_to }, content) };
  }
  const ack = await request<{ message: Message }>(s, 'edit_message', body);
  if (!ack.success) throw new Error(ack.message);
  takeEdited(ack.message);
}

export async function deleteMessage(messageId: number): Promise<void> {
  const s = requireSocket();
  const ack = await request<{ id: number; channel_id: number }>(s, 'delete_message', { message_id: messageId });
  if (!ack.success) throw new Error(ack.message);
  setTimeline(ack.channel_id, markDeleted(timelineOf(ack.channel_id), ack.id));
  threads.onReplyChanged(ack.id, (m) => ({ ...m, deleted: true, content: null, envelope: null }));
}

function requireSocket(): Socket {
  if (socket === null || !socket.connected) throw new Error(t('edit.offline'));
  return socket;
}

/** Tells the others that I am typing (at most every few seconds). */
export function sendTyping(channelId: number): void {
  const now = Date.now();
  if (socket === null || !socket.connected || now - lastTypingSent < TYPING_SEND_EVERY_MS) return;
  lastTypingSent = now;
  void request(socket, 'typing', { channel_id: channelId }).catch(() => undefined);
}

/** Fetches the page before the oldest message held (scrolling up). */
export async function loadOlder(channelId: number): Promise<void> {
  const timeline = timelineOf(channelId);
  const before = firstId(timeline);
  if (!timeline.hasOlder || before === null || loadingOlder.value.has(channelId)) return;
  loadingOlder.value = new Set([...loadingOlder.value, channelId]);
  try {
    const page = await authenticated(() => messagesApi.olderThan(channelId, before));
    takeLoaded(channelId, addOlder(timelineOf(channelId), page.messages, page.has_more), page.messages);
    refreshEvents(channelId);
  } finally {
    const next = new Set(loadingOlder.value);
    next.delete(channelId);
    loadingOlder.value = next;
  }
}

/**
 * Takes in a room I just created, joined or opened (DM), or a new channel:
 * reloads my rooms, joins the channels, and opens `channelId` or else the
 * room's first channel.
 */
export async function enterRoom(roomId: number, channelId?: number): Promise<void> {
  await refreshRooms();
  await joinAll();
  const target = channelId ?? rooms.value.find((r) => r.id === roomId)?.channels[0]?.id;
  if (target !== undefined) navigate(channelPath(target));
}

document.addEventListener('visibilitychange', () => {
  const id = activeChannelId.value;
  if (id !== null) markReadIfWatching(id);
});
/** Most pages of 200 fetched to join a far-back message to the history held (search's "Jump to message"). */
const JUMP_PAGES = 50;

/**
 * Loads the history around `messageId` (search's "Jump to message"): the page
 * before it, with it, then the pages after it up to what the timeline holds,
 * so the list stays one unbroken run of history and scrolls on from there.
 */
export async function loadAround(channelId: number, messageId: number): Promise<void> {
  if (timelineOf(channelId).messages.some((m) => m.id === messageId)) return;
  const fetched: Message[] = [];
  if (timelineOf(channelId).messages.length === 0) {
    const newest = await authenticated(() => messagesApi.olderThan(channelId, Number.MAX_SAFE_INTEGER));
    takeLoaded(channelId, addOlder(timelineOf(channelId), newest.messages, newest.has_more), newest.messages);
    if (newest.messages.some((m) => m.id === messageId)) return;
  }
  const before = await authenticated(() => messagesApi.olderThan(channelId, messageId + 1));
  if (!before.messages.some((m) => m.id === messageId)) throw new Error(t('jump.gone'));
  fetched.push(...before.messages);
  const heldFirst = firstId(timelineOf(channelId)) ?? Number.MAX_SAFE_INTEGER;
  let cursor = messageId;
  for (let page = 0; cursor < heldFirst; page++) {
    if (page === JUMP_PAGES) throw new Error(t('jump.tooFar'));
    const after = await authenticated(() => messagesApi.newerThan(channelId, cursor));
    fetched.push(...after.messages);
    const last = after.messages.at(-1)?.id;
    if (last === undefined || !after.has_more) break;
    cursor = last;
  }
  const held = timelineOf(channelId);
  takeLoaded(channelId, addOlder(held, fetched, before.has_more), fetched);
}

