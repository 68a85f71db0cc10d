// One channel: history that pages back as you scroll up, live messages,
// pending messages, replies, reactions, edit and delete, the "New messages"
// divider, the "N new messages" pill, typing, and the composer (Composer.tsx).

import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../../api/auth.ts';
import type { Message } from '../../api/messages.ts';
import type { Channel, RoomWithChannels } from '../../api/rooms.ts';
import { dayLabel, groupByDayAndSender } from '../../chat/grouping.ts';
import type { PendingMessage } from '../../chat/outbox.ts';
import type { Decryption } from '../../e2ee/engine.ts';
import {
  connection,
  deleteMessage,
  discardPending,
  retryPending,
  editMessage,
  loadingOlder,
  loadOlder,
  editingMessage,
  newSince,
  pending,
  reactions,
  roomOfChannel,
  setReplyTarget,
  timelines,
  toggleReaction,
  typists,
} from '../../chat/store.ts';
import type { Reaction } from '../../chat/reactions.ts';
import { resolveReply } from '../../chat/replies.ts';
import { mentionsMe } from '../../chat/mentions.ts';
import { EMPTY_TIMELINE } from '../../chat/timeline.ts';
import { interleave } from '../../chat/systemevents.ts';
import { eventItems, SystemEventLine, type EventItem } from './SystemEvent.tsx';
import { currentKeyVersion } from '../../chat/keyversion.ts';
import { mayEdit as editable, newBelow, newBelowLabel } from '../../chat/composing.ts';
import { askForKey, decrypted, decryptMessages, identityStatus, keysEpoch, requested } from '../../e2ee/engine.ts';
import { startUpload } from '../../files/uploads.ts';
import { ACCOUNT_PATH } from '../../router.ts';
import { Alert } from '../Alert.tsx';
import { Link } from '../Link.tsx';
import { Composer, finishEditing, readableText, startEditing } from './Composer.tsx';
import { MessageText } from './MessageText.tsx';
import { actionOf } from '../../chat/commands.ts';
import { EmojiPicker, emojiLabel } from './EmojiPicker.tsx';
import { expandShortcodes } from '../../chat/emoji-load.ts';
import { EncryptedFile, FilesPanel, noteOf, PlainFile, ResourcesPanel, UploadList } from './FilePanels.tsx';
import { LockIcon } from '../LockIcon.tsx';
import { GearIcon, maySeeSettings, RoomSettingsDialog } from './RoomSettings.tsx';
import { PolicyBadge, TimerMismatch, useChannelTimer } from './Disappearing.tsx';
import { BellIcon, ChannelNotificationsDialog } from './ChannelNotifications.tsx';
import { confirmAction } from '../ConfirmDialog.tsx';
import { useRovingFocus, type RovingOptions } from '../useRovingFocus.ts';
import { RovingToolbar } from '../RovingToolbar.tsx';
import { MessageActions, useLongPress, type MessageAction } from './MessageActions.tsx';
import { Avatar } from './Avatar.tsx';
import { useJumpHighlight } from '../../search/jump.ts';
import { PinIcon, PinsPanel, SavedPanel } from './PinsPanel.tsx';
import { ThreadSummaryLine } from './ThreadPanel.tsx';
import { showThread } from '../../threads/state.ts';
import { pinActions, usePins } from '../../pins/actions.ts';
import { formatTime } from '../../i18n/format.ts';
import { t } from '../../i18n/index.ts';
import { withParts } from '../../i18n/rich.tsx';
import { personName } from '../../chat/profiles.ts';
import { PersonName } from './PersonName.tsx';

interface Props {
  room: RoomWithChannels;
  channel: Channel;
  user: User;
  onShowMembers: () => void;
  onBack: () => void;
}

type Item =
  | { key: string; sender: string; created_at: string; kind: 'message'; message: Message; startsGroup: boolean; bot: boolean }
  | { key: string; sender: string; created_at: string; kind: 'pending'; pending: PendingMessage }
  | EventItem;

/** Within this many pixels of the bottom, new messages keep the view at the bottom. */
const STICK_PX = 80;
/** Within this many pixels of the top, older history is fetched. */
const LOAD_OLDER_PX = 150;
/** The message list's roving focus: each message, the newest first in the Tab order. */
const MESSAGE_FOCUS: RovingOptions = { items: '.message', orientation: 'vertical', initial: (all) => all.at(-1), resetOnLeave: true, muteInside: true, pageStep: 10 };

export function ChannelView({ room, channel, user, onShowMembers, onBack }: Props) {
  const timeline = timelines.value[channel.id] ?? EMPTY_TIMELINE;
  // A reply kept in its thread waits in the thread's panel, not here.
  const mine = pending.value.filter((p) => p.channel_id === channel.id && (p.thread_root_id === undefined || p.also_send_to_channel === true));
  const list = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const isAdmin = room.my_role === 'owner' || room.my_role === 'admin';
  const dividerAt = newSince.value[channel.id] ?? null;
  const [panel, setPanel] = useState<'files' | 'resources' | 'pins' | 'saved' | null>(null);
  const [dragging, setDragging] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [notificationsOpen, setNotificationsOpen] = useState(false);
  // The newest message id held when the reader scrolled up from the bottom (null at the bottom).
  const [mark, setMark] = useState<number | null>(null);
  const below = newBelow(timeline.messages, mark, user.id);
  const title = room.kind === 'dm' ? (room.dm_peer !== null ? personName(room.dm_peer.id, room.dm_peer.username) : room.name) : `${channel.name}`;
  const timer = useChannelTimer(room, channel);

  const items: Item[] = [
    // System events go among the messages by time; the first unread message starts a group under the divider.
    ...interleave(
      timeline.messages.map(
        (m): Item => ({
          key: `m${m.id}`,
          // A webhook's message shows as the integration, not as the person who made the webhook.
          sender: m.webhook?.name ?? m.sender_username ?? 'unknown',
          created_at: m.created_at,
          kind: 'message',
          message: m,
          startsGroup: m.id === dividerAt,
          bot: m.webhook !== null && m.webhook !== undefined,
        }),
      ),
      eventItems(channel.id, timeline),
    ),
    ...mine.map((p): Item => ({ key: `p${p.client_msg_id}`, sender: user.username, created_at: p.created_at, kind: 'pending', pending: p })),
  ];
  const days = groupByDayAndSender(items);
  // An edit is sealed under the message's key version, which must still be the channel's current one.
  const keyVersion = channel.is_encrypted ? currentKeyVersion(channel.key_version, timeline.messages) : null;

  // Every message of an encrypted channel is checked and decrypted here, in the browser.
  const epoch = keysEpoch.value;
  const identityReady = identityStatus.value.kind === 'ready';
  useEffect(() => {
    if (channel.is_encrypted && identityReady) void decryptMessages(timeline.messages);
  }, [channel.is_encrypted, timeline.messages, epoch, identityReady]);

  // A new channel opens at its newest message.
  useEffect(() => {
    atBottom.current = true;
    anchor.current = null;
    setMark(null);
    setPanel(null);
    setSettingsOpen(false);
    editingMessage.value = null;
  }, [channel.id]);

  // The list gets shorter when the composer grows: the reader at the bottom stays there.
  useEffect(() => {
    const el = list.current;
    if (el === null) return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current && anchor.current === null) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Keep the view where the reader is: at the bottom when they were there,
  // and on the same message when older history was put in front of it.
  useLayoutEffect(() => {
    const el = list.current;
    if (el === null) return;
    if (anchor.current !== null) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  });

  function older() {
    const el = list.current;
    if (el !== null) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    void loadOlder(channel.id).catch(() => {
      anchor.current = null;
    });
  }

  /** Goes to the newest message (my own send, the pill). */
  function toBottom() {
    atBottom.current = true;
    setMark(null);
    const el = list.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }

  function onScroll() {
    const el = list.current;
    if (el === null) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    if (bottom !== atBottom.current) setMark(bottom ? null : (timeline.messages.at(-1)?.id ?? 0));
    atBottom.current = bottom;
    if (el.scrollTop < LOAD_OLDER_PX && timeline.hasOlder && !loadingOlder.value.has(channel.id)) older();
  }

  usePins(channel.id);

  // A search result's "Jump to message": scrolled to and highlighted once its history is loaded.
  useJumpHighlight(list, channel.id, () => {
    atBottom.current = false;
    anchor.current = null;
  });

  // The list is one tab stop (the newest message); the arrow keys move between messages.
  useRovingFocus(list, MESSAGE_FOCUS);

  const typingNames = Object.entries(typists.value[channel.id] ?? {})
    .filter(([id]) => Number(id) !== user.id)
    .map(([id, t]) => personName(Number(id), t.username));

  return (
    <section
      class={`channel${dragging ? ' drop-target' : ''}`}
      aria-labelledby="channel-title"
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files') !== true) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        const files = e.dataTransfer?.files;
        if (files === undefined || files.length === 0) return;
        e.preventDefault();
        setDragging(false);
        toBottom();
        for (const file of Array.from(files)) void startUpload(channel, file);
      }}
    >
      <header class="channel-head">
        <button type="button" class="button button-secondary back-button" onClick={onBack}>
          {t('channel.back')}
        </button>
        <div class="channel-titles">
          <h1 id="channel-title">
            {channel.is_encrypted ? (
              <span class="lock" title={t('channel.e2ee')}>
                <LockIcon label={t('channel.encryptedLabel')} />
              </span>
            ) : (
              <span aria-hidden="true">{room.kind === 'dm' ? '@' : '#'}</span>
            )}
            {title}
          </h1>
          <p class="muted channel-topic">
            {/* The policy sits on the topic's line, so the title keeps its width beside a crowded toolbar. */}
            <PolicyBadge seconds={timer.seconds} retentionDays={room.retention_days ?? null} />
            {room.kind === 'dm' ? t('channel.dm') : channel.topic !== '' ? t('channel.topic', { room: room.name, topic: channel.topic }) : room.name}</p>
        </div>
        <RovingToolbar label={t('channel.toolbar')}>
          <button type="button" class="button button-secondary" aria-pressed={panel === 'files'} onClick={() => setPanel(panel === 'files' ? null : 'files')}>
            {t('channel.files')}
          </button>
          {room.kind !== 'dm' && (
            <button type="button" class="button button-secondary" aria-pressed={panel === 'resources'} onClick={() => setPanel(panel === 'resources' ? null : 'resources')}>
              {t('channel.resources')}
            </button>
          )}
          <button type="button" class="button button-secondary" onClick={onShowMembers}>
            {t('channel.members')}
          </button>
          <button type="button" class="button button-secondary bell-button" aria-haspopup="dialog" title={t('push.bell')} onClick={() => setNotificationsOpen(true)}>
            <BellIcon />
            <span class="visually-hidden">{t('push.bell')}</span>
          </button>
          {maySeeSettings(room) && (
            <button type="button" class="button button-secondary bell-button" aria-haspopup="dialog" title={t('channel.settings')} onClick={() => setSettingsOpen(true)}>
              <GearIcon />
              <span class="visually-hidden">{t('channel.settings')}</span>
            </button>
          )}
          {/* Last and small (an icon; the panel leads on to the saved messages), so the room's own buttons keep their places and the title its room. */}
          <button type="button" class="button button-secondary bell-button" title={t('pins.button')} aria-pressed={panel === 'pins' || panel === 'saved'} onClick={() => setPanel(panel === null || panel === 'files' || panel === 'resources' ? 'pins' : null)}>
            <PinIcon />
            <span class="visually-hidden">{t('pins.button')}</span>
          </button>
        </RovingToolbar>
      </header>
      {channel.downgraded === true && (
        <Alert tone="error">{t('channel.downgraded')}</Alert>
      )}
      {timer.mismatch && <TimerMismatch signed={timer.seconds} server={timer.server_seconds} />}
      {settingsOpen && <RoomSettingsDialog room={room} onClose={() => setSettingsOpen(false)} />}
      {notificationsOpen && <ChannelNotificationsDialog channel={channel} title={title} dm={room.kind === 'dm'} onClose={() => setNotificationsOpen(false)} />}
      {panel === 'files' && <FilesPanel channel={channel} messages={timeline.messages} onClose={() => setPanel(null)} />}
      {panel === 'resources' && <ResourcesPanel room={room} myId={user.id} onClose={() => setPanel(null)} />}
      {panel === 'pins' && <PinsPanel channelId={channel.id} onClose={() => setPanel(null)} onShowSaved={() => setPanel('saved')} />}
      {panel === 'saved' && <SavedPanel onClose={() => setPanel(null)} onShowPins={() => setPanel('pins')} />}
      <div class="messages" ref={list} onScroll={onScroll} role="log" aria-label={t('channel.messagesIn', { title })} aria-live="polite">
        {timeline.hasOlder ? (
          // Not a tab stop: the keyboard reaches older history by moving up to the first message, which scrolls the list to the top.
          <button type="button" class="button button-secondary load-older" tabIndex={-1} disabled={loadingOlder.value.has(channel.id)} onClick={older}>
            {loadingOlder.value.has(channel.id) ? t('channel.loading') : t('channel.loadOlder')}
          </button>
        ) : (
          <p class="muted history-start">{room.kind === 'dm' ? t('channel.startDm', { name: title }) : t('channel.startChannel', { channel: title })}</p>
        )}
        {days.map((day) => (
          <div key={day.day} class="day">
            <h2 class="day-label">
              <span>{dayLabel(day.day)}</span>
            </h2>
            {day.groups.map((group) => {
              const first = group.items[0];
              if (first?.kind === 'event') return <SystemEventLine key={first.key} item={first} />;
              return (
                <Fragment key={first?.key}>
                  {first?.kind === 'message' && first.message.id === dividerAt && (
                    <div class="new-divider" role="separator" aria-label={t('channel.newMessages')}>
                      <span>{t('channel.newMessages')}</span>
                    </div>
                  )}
                  <div class="group">
                    <p class="group-head">
                      <Avatar userId={group.bot === true ? null : senderId(first, user.id)} username={group.sender} withPresence={group.bot !== true} />
                      <strong class="sender">{group.bot === true ? group.sender : <PersonName userId={senderId(first, user.id)} username={group.sender} />}</strong>
                      {(group.bot === true || (first?.kind === 'message' && first.message.sender_is_bot === true)) && <span class="tag">{t('webhooks.bot')}</span>} <time dateTime={first?.created_at}>{clock(first?.created_at ?? '')}</time>
                    </p>
                    {group.items.map((item) =>
                      item.kind === 'message' ? (
                        <MessageRow
                          key={item.key}
                          message={item.message}
                          messages={timeline.messages}
                          user={user}
                          encrypted={channel.is_encrypted}
                          keyVersion={keyVersion}
                          mayDelete={isAdmin || item.message.sender_id === user.id}
                        />
                      ) : item.kind === 'pending' ? (
                        <PendingRow key={item.key} item={item.pending} />
                      ) : null,
                    )}
                  </div>
                </Fragment>
              );
            })}
          </div>
        ))}
      </div>
      <div class="new-below" aria-live="polite">
        {below > 0 && (
          <button
            type="button"
            class="new-below-pill"
            onClick={() => {
              toBottom();
              Array.from(list.current?.querySelectorAll<HTMLElement>('.message') ?? [])
                .at(-1)
                ?.focus({ preventScroll: true });
            }}
          >
            <span aria-hidden="true">↓ </span>
            {newBelowLabel(below)}
          </button>
        )}
      </div>
      <p class="typing" aria-live="polite">
        {typingNames.length === 1 ? t('channel.typingOne', { name: typingNames[0] }) : typingNames.length > 1 ? t('channel.typingMany', { names: typingNames.join(', ') }) : ''}
      </p>
      <UploadList channelId={channel.id} />
      <Composer
        channel={channel}
        messages={timeline.messages}
        label={room.kind === 'dm' ? t('channel.composerDm', { name: title }) : t('channel.composerChannel', { channel: channel.name })}
        myId={user.id}
        keyVersion={keyVersion}
        onSend={toBottom}
      />
    </section>
  );
}

/** Who wrote a group's first message (a pending one is mine). */
function senderId(item: Item | undefined, myId: number): number | null {
  if (item?.kind === 'pending') return myId;
  return item?.kind === 'message' ? item.message.sender_id : null;
}

function clock(iso: string): string {
  return formatTime(iso);
}

/** A message's name for screen readers: who wrote it, and when. */
function messageLabel(message: Message): string {
  const sender = message.webhook?.name ?? (message.sender_username !== null ? personName(message.sender_id, message.sender_username) : t('message.unknown'));
  return t('message.label', { sender, time: clock(message.created_at) });
}

interface RowProps {
  message: Message;
  /** The channel's loaded messages, for the quote of a reply. */
  messages: readonly Message[];
  user: User;
  mayDelete: boolean;
  encrypted: boolean;
  /** The channel's current key version (encrypted channels), else null. */
  keyVersion: number | null;
}

function MessageRow({ message, messages, user, mayDelete, encrypted, keyVersion }: RowProps) {
  const editing = editingMessage.value?.id === message.id;
  const [picking, setPicking] = useState(false);
  const [actionsOpen, setActionsOpen] = useState(false);
  const longPress = useLongPress(() => setActionsOpen(true));
  const [error, setError] = useState<string | null>(null);
  const result = encrypted ? decrypted.value[message.id] : undefined;
  const note = encrypted ? noteOf(message) : null;
  const text = note !== null ? note.caption : encrypted ? (result?.kind === 'text' ? result.text : null) : message.content;
  const mentioned = text !== null && mentionsMe(text, user.username, message.sender_id, roomOfChannel(message.channel_id), encrypted);
  // An encrypted message sent under an earlier key can no longer be edited (the edit would be refused).
  const mayEdit = editable(message, user.id, text, encrypted, keyVersion);

  if (message.deleted) {
    return (
      <div class="message deleted" data-message-id={message.id} role="article" aria-label={messageLabel(message)}>
        <p class="muted">{t('message.deleted')}</p>
      </div>
    );
  }

  async function remove() {
    if (!(await confirmAction({ title: t('message.deleteTitle'), message: t('message.deleteMessage'), action: t('message.deleteAction') }))) return;
    try {
      await deleteMessage(message.id);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  async function react(emoji: string) {
    setPicking(false);
    try {
      setError(null);
      await toggleReaction(message.id, emoji);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  const reactAction: MessageAction = { label: t('message.react'), run: () => setPicking(!picking) };
  const actions: MessageAction[] = [
    { label: t('message.reply'), run: () => setReplyTarget(message.channel_id, message.id) },
    // A thread starts at a message of the channel; a reply's thread is its root's.
    { label: t('threads.reply'), run: () => showThread(message.channel_id, message.thread_root_id ?? message.id) },
    reactAction,
    { label: t('message.edit'), run: () => startEditing(message.id), shown: mayEdit },
    { label: t('message.delete'), run: () => void remove(), shown: mayDelete },
  ];
  // The menu also pins and saves (before Delete, which stays last); the hover bar keeps the four.
  const menuActions: MessageAction[] = [...actions.slice(0, -1), ...pinActions(message, setError), ...actions.slice(-1)];

  return (
    <div
      class={`message${mentioned ? ' mentioned' : ''}${actionsOpen ? ' actions-open' : ''}`}
      data-message-id={message.id}
      role="article"
      aria-label={messageLabel(message)}
      aria-keyshortcuts="Enter"
      onKeyDown={(e) => {
        // The focused message opens its actions (the list's arrow keys move between messages).
        if (e.target !== e.currentTarget || editing) return;
        if (e.key === 'Enter' || e.key === ' ' || e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
          e.preventDefault();
          setActionsOpen(true);
        }
      }}
      {...longPress}
    >
      {message.reply_to !== null && <ReplyQuote replyTo={message.reply_to} messages={messages} encrypted={encrypted} />}
      {editing && text !== null ? (
        <EditForm message={message} initial={text} onDone={finishEditing} />
      ) : encrypted && result?.kind !== 'text' ? (
        <EncryptedStatus message={message} result={result} />
      ) : note !== null && message.file != null ? (
        <EncryptedFile file={message.file} note={note} />
      ) : (
        <div class="message-text">
          {actionOf(text ?? '') !== null ? (
            // `/me waves` (chat/commands.ts): shown as "* alice waves".
            <p class="message-action">
              <em>{t('commands.action', { name: message.sender_username !== null ? personName(message.sender_id, message.sender_username) : '', action: actionOf(text ?? '') ?? '' })}</em>
            </p>
          ) : (
            <MessageText text={text ?? ''} username={user.username} after={message.edited_at !== null && <span class="muted edited">{t('message.edited')}</span>} />
          )}
        </div>
      )}
      {!encrypted && message.file != null && <PlainFile file={message.file} />}
      {message.thread_root_id != null && (
        <button type="button" class="link-button muted thread-of" onClick={() => showThread(message.channel_id, message.thread_root_id ?? message.id)}>
          {t('threads.inThread')}
        </button>
      )}
      {message.thread != null && <ThreadSummaryLine channelId={message.channel_id} rootId={message.id} thread={message.thread} />}
      <ReactionChips list={reactions.value[message.id] ?? []} onToggle={(emoji) => void react(emoji)} />
      {picking && <EmojiPicker label={t('message.addReaction')} action={t('message.reactWith')} onPick={(emoji) => void react(emoji)} onClose={() => setPicking(false)} />}
      {!editing && (
        // The pointer's shortcuts, shown on hover; the keyboard and touch use the "⋯" menu, which has them all.
        <div class="message-actions">
          {actions
            .filter((a) => a.shown !== false)
            .map((a) => (
              <button key={a.label} type="button" class="link-button" tabIndex={-1} aria-expanded={a === reactAction ? picking : undefined} onClick={a.run}>
                {a.label}
              </button>
            ))}
        </div>
      )}
      {!editing && <MessageActions messageId={message.id} actions={menuActions} open={actionsOpen} onOpenChange={setActionsOpen} />}
      {error !== null && <Alert tone="error">{error}</Alert>}
    </div>
  );
}

/** The quoted original above a reply; a click (or Enter) scrolls to it when it is loaded. */
function ReplyQuote({ replyTo, messages, encrypted }: { replyTo: number; messages: readonly Message[]; encrypted: boolean }) {
  const quote = resolveReply(replyTo, messages, (m) => readableText(m, encrypted));
  if (quote.kind === 'unavailable') {
    return <p class="reply-quote unavailable muted">{t('message.originalUnavailable')}</p>;
  }
  function jump() {
    const target = document.querySelector<HTMLElement>(`.message[data-message-id="${quote.id}"]`);
    if (target === null) return;
    target.scrollIntoView({ block: 'center' });
    target.classList.remove('highlighted');
    // Restart the highlight animation on repeated clicks.
    void target.offsetWidth;
    target.classList.add('highlighted');
  }
  return (
    <button type="button" class="reply-quote" onClick={jump} aria-label={t('message.replyTo', { sender: quote.sender, snippet: quote.snippet })}>
      <strong>{quote.sender}</strong> <span class="reply-snippet">{quote.snippet}</span>
    </button>
  );
}

/** Reaction chips with counts; mine are highlighted, and a click toggles mine. */
function ReactionChips({ list, onToggle }: { list: readonly Reaction[]; onToggle: (emoji: string) => void }) {
  if (list.length === 0) return null;
  return (
    <div class="reactions" role="group" aria-label={t('message.reactions')}>
      {list.map((r) => (
        <button
          key={r.emoji}
          type="button"
          class={`reaction-chip${r.me ? ' mine' : ''}`}
          aria-pressed={r.me}
          aria-label={r.me ? t('message.reactionCountMine', { name: emojiLabel(r.emoji), count: r.count }) : t('message.reactionCount', { name: emojiLabel(r.emoji), count: r.count })}
          title={emojiLabel(r.emoji)}
          onClick={() => onToggle(r.emoji)}
        >
          <span aria-hidden="true">{r.emoji}</span> <span class="reaction-count">{r.count}</span>
        </button>
      ))}
    </div>
  );
}

/** An encrypted message that is not (yet) readable: why, and what can be done. */
function EncryptedStatus({ message, result }: { message: Message; result: Decryption | undefined }) {
  const [error, setError] = useState<string | null>(null);
  const identity = identityStatus.value.kind;
  if (result === undefined && identity === 'needs-restore') {
    return (
      <p class="message-text undecryptable locked">
        <LockIcon /> <span>{t('message.locked')}</span>{' '}
        {withParts(t('message.lockedHelp', { skipInterpolation: true }), { place: <Link href={ACCOUNT_PATH}>{t('panels.accountEncryption')}</Link> })}
      </p>
    );
  }
  if (result === undefined && identity === 'error') {
    return (
      <p class="message-text undecryptable">
        <LockIcon /> <span>{t('message.cannotDecrypt')}</span> {t('message.reload')}
      </p>
    );
  }
  if (result === undefined) {
    return <p class="message-text muted">{t('message.decrypting')}</p>;
  }
  if (result.kind === 'no-key') {
    const asked = requested.value.has(message.channel_id);
    return (
      <div class="message-text undecryptable">
        <LockIcon /> <span>{t('message.noKey', { version: result.version })}</span>{' '}
        {asked ? (
          <span class="muted">{t('message.keyRequested')}</span>
        ) : (
          <button type="button" class="link-button" onClick={() => askForKey(message.channel_id).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))}>
            {t('message.requestKey')}
          </button>
        )}
        {error !== null && <Alert tone="error">{error}</Alert>}
      </div>
    );
  }
  if (result.kind === 'warning') {
    return (
      <div class="message-warning" role="note">
        <strong>{t('message.warning')}</strong> {result.reason}
        {result.text !== undefined && <q class="injected">{result.text}</q>}
      </div>
    );
  }
  return null;
}

function EditForm({ message, initial, onDone }: { message: Message; initial: string; onDone: () => void }) {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), []);

  async function save() {
    const content = text.trim();
    if (content === '' || content === initial) return onDone();
    try {
      await editMessage(message, await expandShortcodes(content));
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <div class="edit-form">
      <label class="visually-hidden" for={`edit-${message.id}`}>
        {t('message.editLabel')}
      </label>
      <textarea
        id={`edit-${message.id}`}
        ref={input}
        value={text}
        rows={2}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            void save();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            onDone();
          }
        }}
      />
      <div class="message-actions">
        <button type="button" class="button button-primary" onClick={() => void save()}>
          {t('message.save')}
        </button>
        <button type="button" class="button button-secondary" onClick={onDone}>
          {t('common.cancel')}
        </button>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
    </div>
  );
}

function PendingRow({ item }: { item: PendingMessage }) {
  const offline = connection.value !== 'online';
  const status =
    item.status === 'failed' ? t('message.notSent', { error: item.error ?? t('message.refused') }) : offline ? t('message.waitingConnection') : (item.waiting ?? t('message.sending'));
  return (
    <div class={`message pending${item.status === 'failed' ? ' failed' : ''}`} data-pending={item.status} role="article">
      <div class="message-text">{item.label ?? <MessageText text={item.content} username="" />}</div>
      <p class="pending-status">
        {status}
        {item.status === 'failed' && (
          <>
            {' '}
            <button type="button" class="link-button" onClick={() => retryPending(item.client_msg_id)}>
              {t('message.retry')}
            </button>{' '}
            <button type="button" class="link-button" onClick={() => discardPending(item.client_msg_id)}>
              {t('message.discard')}
            </button>
          </>
        )}
      </p>
    </div>
  );
}
