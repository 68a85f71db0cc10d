// A thread in a side panel (the whole screen on a phone): its root with
// the summary, the replies (decrypted in the browser like the timeline's;
// the server stores ids only), a composer with "Also send to channel", and
// Follow/Unfollow. Beside it, the Threads list: the threads I follow, the
// unread ones first with their counts. Opening a thread marks it read.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../../api/auth.ts';
import { describeError } from '../../api/errors.ts';
import type { Message } from '../../api/messages.ts';
import * as threadsApi from '../../api/threads.ts';
import type { FollowedThread, ThreadSummary } from '../../api/threads.ts';
import { channelById, pending, rooms, sendMessage } from '../../chat/store.ts';
import { decryptMessages, identityStatus, keysEpoch } from '../../e2ee/engine.ts';
import { formatShortTime } from '../../i18n/format.ts';
import { t } from '../../i18n/index.ts';
import { channelPath, navigate } from '../../router.ts';
import {
  closeThread,
  loadOlderReplies,
  loadThread,
  markThreadSeen,
  openThread,
  setFollowing,
  showThread,
  showThreadsList,
  threadsVersion,
  threadViews,
} from '../../threads/state.ts';
import { Alert } from '../Alert.tsx';
import { Avatar } from './Avatar.tsx';
import { PersonName } from './PersonName.tsx';
import { readableText } from './Composer.tsx';
import { usePaged } from './paged.ts';
import './threads.css';

/** The root's line under a message: reply count, last reply time, participants. */
export function ThreadSummaryLine({ channelId, rootId, thread }: { channelId: number; rootId: number; thread: ThreadSummary }) {
  if (thread.reply_count === 0) return null;
  const last = thread.last_reply_at === null ? '' : formatShortTime(thread.last_reply_at);
  return (
    <button type="button" class="link-button thread-summary" onClick={() => showThread(channelId, rootId)}>
      <span class="thread-avatars" aria-hidden="true">
        {thread.participants.map((id) => (
          <Avatar key={id} userId={id} username={`#${id}`} />
        ))}
      </span>
      <span class="thread-count">{t('threads.replies', { count: thread.reply_count })}</span>
      {last !== '' && <span class="muted">{t('threads.lastReply', { time: last })}</span>}
    </button>
  );
}

/** One message of the thread: an item of the replies' list, or (`root`) the message they answer. */
function ReplyLine({ message, encrypted, root = false }: { message: Message; encrypted: boolean; root?: boolean }) {
  const text = message.deleted ? t('message.deleted') : (readableText(message, encrypted) ?? t('pins.unreadable'));
  const Tag = root ? 'div' : 'li';
  return (
    <Tag class="thread-reply" data-message-id={message.id}>
      <p class="thread-reply-head">
        <Avatar userId={message.sender_id} username={message.sender_username ?? '?'} />
        <strong>
          <PersonName userId={message.sender_id} username={message.sender_username} fallback={t('pins.someone')} />
        </strong> <time dateTime={message.created_at}>{formatShortTime(message.created_at)}</time>
        {message.also_send_to_channel === true && <span class="muted"> · {t('threads.alsoInChannel')}</span>}
      </p>
      <p class={message.deleted ? 'muted' : 'thread-reply-text'}>{text}</p>
    </Tag>
  );
}

function ThreadComposer({ channelId, rootId }: { channelId: number; rootId: number }) {
  const [text, setText] = useState('');
  const [also, setAlso] = useState(false);
  function send(e: Event) {
    e.preventDefault();
    const content = text.trim();
    if (content === '') return;
    sendMessage(channelId, content, undefined, { rootId, alsoToChannel: also });
    setText('');
  }
  return (
    <form class="thread-composer" onSubmit={send}>
      <label for="thread-input" class="visually-hidden">
        {t('threads.composer')}
      </label>
      <textarea
        id="thread-input"
        rows={2}
        value={text}
        placeholder={t('threads.composer')}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
        }}
      />
      <div class="thread-composer-row">
        <label class="checkbox">
          <input type="checkbox" checked={also} onChange={(e) => setAlso(e.currentTarget.checked)} /> {t('threads.alsoSend')}
        </label>
        <button type="submit" class="button button-primary">
          {t('threads.send')}
        </button>
      </div>
    </form>
  );
}

export function ThreadPanel({ user }: { user: User }) {
  const open = openThread.value;
  const [error, setError] = useState<string | null>(null);
  const list = useRef<HTMLOListElement>(null);
  const view = open === null ? undefined : threadViews.value[open.rootId];
  const channel = open === null ? null : channelById(open.channelId);
  const encrypted = channel?.is_encrypted === true;
  const epoch = keysEpoch.value;
  const identityReady = identityStatus.value.kind === 'ready';

  useEffect(() => {
    if (open === null) return;
    setError(null);
    void loadThread(open.channelId, open.rootId).catch((err: unknown) => setError(describeError(err)));
  }, [open?.rootId]);
  useEffect(() => {
    if (view === undefined || !encrypted || !identityReady) return;
    void decryptMessages(view.root === null ? view.replies : [view.root, ...view.replies]);
  }, [view?.root, view?.replies, encrypted, epoch, identityReady]);
  // Reading the open thread moves my marker; new replies scroll into view.
  useEffect(() => {
    if (open === null || view === undefined) return;
    if (document.visibilityState === 'visible') void markThreadSeen(open.rootId).catch(() => undefined);
    const el = list.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [view?.replies.length, view?.unread]);

  if (open === null) return null;
  const mine = pending.value.filter((p) => p.thread_root_id === open.rootId);
  return (
    <aside class="members thread-panel" aria-labelledby="thread-title">
      <div class="members-head">
        <h2 id="thread-title">{t('threads.title')}</h2>
        {view !== undefined && (
          <button type="button" class="button button-secondary" aria-pressed={view.following} onClick={() => void setFollowing(open.rootId, !view.following).catch((err: unknown) => setError(describeError(err)))}>
            {view.following ? t('threads.unfollow') : t('threads.follow')}
          </button>
        )}
        <button type="button" class="button button-secondary" onClick={() => showThreadsList()}>
          {t('threads.list')}
        </button>
        <button type="button" class="button button-secondary" onClick={closeThread}>
          {t('common.close')}
        </button>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      {view === undefined && error === null && <p class="muted">{t('pins.loading')}</p>}
      {view?.root != null && (
        <div class="thread-root">
          <ReplyLine message={view.root} encrypted={encrypted} root />
          <p class="muted">{t('threads.replies', { count: view.root.thread?.reply_count ?? 0 })}</p>
        </div>
      )}
      {view?.hasOlder === true && (
        <button type="button" class="button button-secondary" onClick={() => void loadOlderReplies(open.channelId, open.rootId).catch((err: unknown) => setError(describeError(err)))}>
          {t('channel.loadOlder')}
        </button>
      )}
      <ol class="thread-replies" ref={list} aria-label={t('threads.repliesLabel')} aria-live="polite">
        {view?.replies.map((m) => <ReplyLine key={m.id} message={m} encrypted={encrypted} />)}
        {mine.map((p) => (
          <li key={p.client_msg_id} class="thread-reply pending">
            <p class="thread-reply-head">
              <strong>
                <PersonName userId={user.id} username={user.username} />
              </strong>{' '}
              <span class="muted">{t('threads.sending')}</span>
            </p>
            <p class="thread-reply-text">{p.content}</p>
          </li>
        ))}
      </ol>
      {view?.root != null && !view.root.deleted && <ThreadComposer channelId={open.channelId} rootId={open.rootId} />}
    </aside>
  );
}

/** The Threads list: threads I follow, most recently replied first, with unread counts. */
export function ThreadsList() {
  const { items, next, error, load } = usePaged<FollowedThread, number>(
    async (before) => {
      const page = await threadsApi.followedThreads(before);
      return { items: page.threads, next: page.next };
    },
    (th) => th.root,
    threadsVersion.value,
  );

  function openOne(item: FollowedThread) {
    navigate(channelPath(item.root.channel_id));
    showThread(item.root.channel_id, item.root.id);
  }

  const sorted = items === null ? null : [...items.filter((i) => i.unread > 0), ...items.filter((i) => i.unread === 0)];
  return (
    <aside class="members thread-panel" aria-labelledby="threads-title">
      <div class="members-head">
        <h2 id="threads-title">{t('threads.listTitle')}</h2>
        <button type="button" class="button button-secondary" onClick={() => showThreadsList(false)}>
          {t('common.close')}
        </button>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      {sorted === null && error === null && <p class="muted">{t('pins.loading')}</p>}
      {sorted !== null && sorted.length === 0 && <p class="muted">{t('threads.none')}</p>}
      <ul class="pin-list threads-list">
        {sorted?.map((item) => {
          const channel = channelById(item.root.channel_id);
          const room = rooms.value.find((r) => r.id === item.room_id);
          const text = readableText(item.root, channel?.is_encrypted === true) ?? t('pins.unreadable');
          return (
            <li key={item.root.id} class={`pin-item${item.unread > 0 ? ' thread-unread' : ''}`} data-root-id={item.root.id}>
              <button type="button" class="link-button pin-open" onClick={() => openOne(item)}>
                <strong>
                  <PersonName userId={item.root.sender_id} username={item.root.sender_username} fallback={t('pins.someone')} />
                </strong>
                : <span class="pin-text">{text}</span>
              </button>
              <p class="muted pin-detail">
                {t('threads.where', { channel: channel?.name ?? '?', room: room?.name ?? '?' })}
                {item.unread > 0 && (
                  <span class="badge thread-badge" aria-label={t('threads.unreadLabel', { count: item.unread })}>
                    {item.unread}
                  </span>
                )}
              </p>
            </li>
          );
        })}
      </ul>
      {next !== null && (
        <button type="button" class="button button-secondary" onClick={() => void load(next)}>
          {t('pins.more')}
        </button>
      )}
    </aside>
  );
}
