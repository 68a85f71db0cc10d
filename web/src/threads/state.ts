// What the client holds of threads: the open thread (root, replies, my
// follow state and unread count), each followed thread's unread count for
// the Threads list and the sidebar, and how the socket's thread events
// change them. The channel's timeline never holds a reply that was not
// also sent to the channel (`chat/store.ts` routes replies here).

import { batch, computed, signal } from '@preact/signals';
import type { Message } from '../api/messages.ts';
import * as threadsApi from '../api/threads.ts';
import type { ThreadSummary } from '../api/threads.ts';
import { mergeMessages } from '../chat/timeline.ts';

/** The thread shown in the side panel (full screen on a phone). */
export interface OpenThread {
  channelId: number;
  rootId: number;
}

export interface ThreadView {
  root: Message | null;
  /** Oldest first, unique by id. */
  replies: Message[];
  hasOlder: boolean;
  following: boolean;
  unread: number;
}

export interface ThreadUnread {
  room_id: number;
  channel_id: number;
  root_id: number;
  following: boolean;
  unread: number;
}

export const openThread = signal<OpenThread | null>(null);
/** Whether the Threads list (followed threads with unread counts) is shown. */
export const threadsListOpen = signal(false);
/** Loaded threads, by root id. */
export const threadViews = signal<Readonly<Record<number, ThreadView>>>({});
/** My unread count in each followed thread, by root id, as the server last said. */
export const threadUnread = signal<Readonly<Record<number, ThreadUnread>>>({});
/** Bumped when the Threads list should be read again. */
export const threadsVersion = signal(0);
/** Followed threads with unread replies, for the sidebar's badge. */
export const unreadThreads = computed(() => Object.values(threadUnread.value).filter((t) => t.following && t.unread > 0).length);

function setView(rootId: number, change: (view: ThreadView) => ThreadView): void {
  const old = threadViews.value[rootId];
  if (old === undefined) return;
  threadViews.value = { ...threadViews.value, [rootId]: change(old) };
}

/** Loads (or reloads) a thread's newest replies. */
export async function loadThread(channelId: number, rootId: number): Promise<void> {
  const page = await threadsApi.threadPage(channelId, rootId);
  threadViews.value = {
    ...threadViews.value,
    [rootId]: { root: page.root, replies: page.messages, hasOlder: page.has_more, following: page.following, unread: page.unread },
  };
}

/** Loads the replies before the oldest one held. */
export async function loadOlderReplies(channelId: number, rootId: number): Promise<void> {
  const first = threadViews.value[rootId]?.replies[0];
  if (first === undefined) return;
  const page = await threadsApi.threadPage(channelId, rootId, first.id);
  setView(rootId, (v) => ({ ...v, replies: mergeMessages(v.replies, page.messages), hasOlder: page.has_more }));
}

export function showThread(channelId: number, rootId: number): void {
  batch(() => {
    threadsListOpen.value = false;
    openThread.value = { channelId, rootId };
  });
}

export function closeThread(): void {
  openThread.value = null;
}

export function showThreadsList(open = true): void {
  batch(() => {
    if (open) openThread.value = null;
    threadsListOpen.value = open;
  });
}

/** A reply arrived (live, or my own send's ack): it joins its thread if the thread is loaded. */
export function onReply(message: Message): void {
  const rootId = message.thread_root_id;
  if (rootId === null || rootId === undefined) return;
  setView(rootId, (v) => ({ ...v, replies: mergeMessages(v.replies, [message]) }));
}

/** A message was edited or deleted: its copy in a loaded thread changes too. */
export function onReplyChanged(id: number, change: (m: Message) => Message): void {
  for (const [root, view] of Object.entries(threadViews.value)) {
    if (view.replies.some((m) => m.id === id)) setView(Number(root), (v) => ({ ...v, replies: v.replies.map((m) => (m.id === id ? change(m) : m)) }));
  }
}

/** `thread_updated`: the root's new summary, wherever the root is shown. */
export function withSummary(messages: Message[], rootId: number, thread: ThreadSummary): Message[] {
  if (!messages.some((m) => m.id === rootId)) return messages;
  return messages.map((m) => (m.id === rootId ? { ...m, thread } : m));
}

export function onThreadUpdated(rootId: number, thread: ThreadSummary): void {
  setView(rootId, (v) => ({ ...v, root: v.root === null ? null : { ...v.root, thread } }));
}

/** `thread_unread`: my count (and follow state) in one thread changed. */
export function onThreadUnread(event: ThreadUnread): void {
  batch(() => {
    threadUnread.value = { ...threadUnread.value, [event.root_id]: event };
    setView(event.root_id, (v) => ({ ...v, following: event.following, unread: event.unread }));
    threadsVersion.value += 1;
  });
}

/** Moves my read marker to the newest reply held (the open thread is being read). */
export async function markThreadSeen(rootId: number): Promise<void> {
  const view = threadViews.value[rootId];
  const last = view?.replies.at(-1);
  if (view === undefined || last === undefined || view.unread === 0) return;
  const state = await threadsApi.markThreadRead(rootId, last.id);
  setView(rootId, (v) => ({ ...v, unread: state.unread }));
  const known = threadUnread.value[rootId];
  if (known !== undefined) threadUnread.value = { ...threadUnread.value, [rootId]: { ...known, unread: state.unread } };
  threadsVersion.value += 1;
}

export async function setFollowing(rootId: number, following: boolean): Promise<void> {
  const state = await threadsApi.setFollowing(rootId, following);
  setView(rootId, (v) => ({ ...v, following: state.following, unread: state.unread }));
  const known = threadUnread.value[rootId];
  if (known !== undefined) threadUnread.value = { ...threadUnread.value, [rootId]: { ...known, following: state.following, unread: state.unread } };
  threadsVersion.value += 1;
}

/** After a reconnect: every reply of the open thread after the last one held, so none is missed or doubled. */
export async function resumeOpenThread(): Promise<void> {
  const open = openThread.value;
  if (open === null) return;
  for (;;) {
    const last = threadViews.value[open.rootId]?.replies.at(-1);
    if (last === undefined) return loadThread(open.channelId, open.rootId);
    const page = await threadsApi.repliesAfter(open.channelId, open.rootId, last.id);
    setView(open.rootId, (v) => ({ ...v, replies: mergeMessages(v.replies, page.messages), following: page.following, unread: page.unread }));
    if (!page.has_more || page.messages.length === 0) return;
  }
}

/** Loads my followed threads' counts (the sidebar's badge) at start. */
export async function loadThreadCounts(): Promise<void> {
  const page = await threadsApi.followedThreads();
  const counts: Record<number, ThreadUnread> = {};
  for (const t of page.threads) counts[t.root.id] = { room_id: t.room_id, channel_id: t.root.channel_id, root_id: t.root.id, following: true, unread: t.unread };
  threadUnread.value = counts;
}

/** Forgets everything (signing out). */
export function resetThreads(): void {
  batch(() => {
    openThread.value = null;
    threadsListOpen.value = false;
    threadViews.value = {};
    threadUnread.value = {};
  });
}
