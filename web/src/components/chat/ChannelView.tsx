// One channel: history that pages back as you scroll up, live messages,
// pending messages, replies, reactions, edit and delete, the "New messages"
// divider, typing, and the composer.

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
  newSince,
  pending,
  reactions,
  replyingTo,
  sendMessage,
  sendTyping,
  setReplyTarget,
  timelines,
  toggleReaction,
  typists,
} from '../../chat/store.ts';
import { emojiName, REACTION_EMOJI, type Reaction } from '../../chat/reactions.ts';
import { resolveReply } from '../../chat/replies.ts';
import { segments } from '../../chat/text.ts';
import { EMPTY_TIMELINE } from '../../chat/timeline.ts';
import { currentKeyVersion, sealedUnderCurrentKey } from '../../chat/keyversion.ts';
import { askForKey, decrypted, decryptMessages, identityStatus, keysEpoch, requested } from '../../e2ee/engine.ts';
import { startUpload } from '../../files/uploads.ts';
import { ACCOUNT_PATH } from '../../router.ts';
import { Alert } from '../Alert.tsx';
import { Link } from '../Link.tsx';
import { EncryptedFile, FilesPanel, noteOf, PlainFile, ResourcesPanel, UploadList } from './FilePanels.tsx';
import { LockIcon } from '../LockIcon.tsx';
import { maySeeSettings, RoomSettingsDialog } from './RoomSettings.tsx';

interface Props {
  room: RoomWithChannels;
  channel: Channel;
  user: User;
  onShowMembers: () => void;
  onBack: () => void;
}

type Item =
  | { key: string; sender: string; created_at: string; kind: 'message'; message: Message }
  | { key: string; sender: string; created_at: string; kind: 'pending'; pending: PendingMessage };

/** Within this many pixels of the bottom, new messages keep the view at the bottom. */
const STICK_PX = 80;
/** Within this many pixels of the top, older history is fetched. */
const LOAD_OLDER_PX = 150;

export function ChannelView({ room, channel, user, onShowMembers, onBack }: Props) {
  const timeline = timelines.value[channel.id] ?? EMPTY_TIMELINE;
  const mine = pending.value.filter((p) => p.channel_id === channel.id);
  const list = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const isAdmin = room.my_role === 'owner' || room.my_role === 'admin';
  const dividerAt = newSince.value[channel.id] ?? null;
  const [panel, setPanel] = useState<'files' | 'resources' | null>(null);
  const [dragging, setDragging] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const title = room.kind === 'dm' ? (room.dm_peer?.username ?? room.name) : `${channel.name}`;

  const items: Item[] = [
    ...timeline.messages.map((m): Item => ({ key: `m${m.id}`, sender: m.sender_username ?? 'unknown', created_at: m.created_at, kind: 'message', message: m })),
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
    setPanel(null);
    setSettingsOpen(false);
  }, [channel.id]);

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

  function onScroll() {
    const el = list.current;
    if (el === null) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    if (el.scrollTop < LOAD_OLDER_PX && timeline.hasOlder && !loadingOlder.value.has(channel.id)) older();
  }

  const typingNames = Object.entries(typists.value[channel.id] ?? {})
    .filter(([id]) => Number(id) !== user.id)
    .map(([, t]) => t.username);

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
        for (const file of Array.from(files)) void startUpload(channel, file);
      }}
    >
      <header class="channel-head">
        <button type="button" class="button button-secondary back-button" onClick={onBack}>
          Rooms
        </button>
        <div class="channel-titles">
          <h1 id="channel-title">
            {channel.is_encrypted ? (
              <span class="lock" title="End-to-end encrypted">
                <LockIcon label="Encrypted channel" />
              </span>
            ) : (
              <span aria-hidden="true">{room.kind === 'dm' ? '@' : '#'}</span>
            )}
            {title}
          </h1>
          <p class="muted channel-topic">{room.kind === 'dm' ? 'Direct message' : `${room.name}${channel.topic !== '' ? ` · ${channel.topic}` : ''}`}</p>
        </div>
        <button type="button" class="button button-secondary" aria-pressed={panel === 'files'} onClick={() => setPanel(panel === 'files' ? null : 'files')}>
          Files
        </button>
        {room.kind !== 'dm' && (
          <button type="button" class="button button-secondary" aria-pressed={panel === 'resources'} onClick={() => setPanel(panel === 'resources' ? null : 'resources')}>
            Resources
          </button>
        )}
        <button type="button" class="button button-secondary" onClick={onShowMembers}>
          Members
        </button>
        {maySeeSettings(room) && (
          <button type="button" class="button button-secondary" onClick={() => setSettingsOpen(true)}>
            Settings
          </button>
        )}
      </header>
      {channel.downgraded === true && (
        <Alert tone="error">
          The server now says this channel is not encrypted. It stays encrypted in this browser: messages are still sealed before they leave, and
          anything the server shows here without encryption is marked as such.
        </Alert>
      )}
      {settingsOpen && <RoomSettingsDialog room={room} onClose={() => setSettingsOpen(false)} />}
      {panel === 'files' && <FilesPanel channel={channel} messages={timeline.messages} onClose={() => setPanel(null)} />}
      {panel === 'resources' && <ResourcesPanel room={room} myId={user.id} onClose={() => setPanel(null)} />}
      <div class="messages" ref={list} onScroll={onScroll} role="log" aria-label={`Messages in ${title}`} aria-live="polite" tabIndex={0}>
        {timeline.hasOlder ? (
          <button type="button" class="button button-secondary load-older" disabled={loadingOlder.value.has(channel.id)} onClick={older}>
            {loadingOlder.value.has(channel.id) ? 'Loading…' : 'Load older messages'}
          </button>
        ) : (
          <p class="muted history-start">This is the beginning of {title}.</p>
        )}
        {days.map((day) => (
          <div key={day.day} class="day">
            <h2 class="day-label">
              <span>{dayLabel(day.day)}</span>
            </h2>
            {day.groups.map((group) => (
              <div key={group.items[0]?.key} class="group">
                <p class="group-head">
                  <strong class="sender">{group.sender}</strong> <time dateTime={group.items[0]?.created_at}>{clock(group.items[0]?.created_at ?? '')}</time>
                </p>
                {group.items.map((item) =>
                  item.kind === 'message' ? (
                    <Fragment key={item.key}>
                      {item.message.id === dividerAt && (
                        <div class="new-divider" role="separator" aria-label="New messages">
                          <span>New messages</span>
                        </div>
                      )}
                      <MessageRow
                        message={item.message}
                        messages={timeline.messages}
                        user={user}
                        encrypted={channel.is_encrypted}
                        keyVersion={keyVersion}
                        mayDelete={isAdmin || item.message.sender_id === user.id}
                      />
                    </Fragment>
                  ) : (
                    <PendingRow key={item.key} item={item.pending} />
                  ),
                )}
              </div>
            ))}
          </div>
        ))}
      </div>
      <p class="typing" aria-live="polite">
        {typingNames.length === 1 ? `${typingNames[0]} is typing…` : typingNames.length > 1 ? `${typingNames.join(', ')} are typing…` : ''}
      </p>
      <UploadList channelId={channel.id} />
      <Composer channel={channel} messages={timeline.messages} label={room.kind === 'dm' ? `Message ${title}` : `Message #${channel.name}`} />
    </section>
  );
}

function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** Message text as text nodes, links and mentions; never as HTML. */
export function MessageText({ text, username }: { text: string; username: string }) {
  return (
    <>
      {segments(text, username).map((s, i) =>
        s.kind === 'text' ? (
          s.text
        ) : s.kind === 'link' ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer nofollow">
            {s.text}
          </a>
        ) : (
          <span key={i} class={`mention${s.me ? ' mention-me' : ''}`}>
            {s.text}
          </span>
        ),
      )}
    </>
  );
}

/** The readable text of a loaded message: decrypted in encrypted channels, null when there is none. */
function readableText(message: Message, encrypted: boolean): string | null {
  if (message.deleted) return null;
  if (!encrypted) return message.content ?? (message.file?.name != null ? `File: ${message.file.name}` : null);
  const note = noteOf(message);
  if (note !== null) return note.caption !== '' ? note.caption : `File: ${note.name}`;
  const result = decrypted.value[message.id];
  return result?.kind === 'text' ? result.text : null;
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
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const own = message.sender_id === user.id;
  const result = encrypted ? decrypted.value[message.id] : undefined;
  const note = encrypted ? noteOf(message) : null;
  const text = note !== null ? note.caption : encrypted ? (result?.kind === 'text' ? result.text : null) : message.content;
  const mentioned = text !== null && segments(text, user.username).some((s) => s.kind === 'mention' && s.me);
  // An encrypted message sent under an earlier key can no longer be edited (the edit would be refused).
  const mayEdit = own && text !== null && message.file == null && (!encrypted || sealedUnderCurrentKey(message, keyVersion));

  if (message.deleted) {
    return (
      <div class="message deleted" data-message-id={message.id}>
        <p class="muted">This message was deleted.</p>
      </div>
    );
  }

  async function remove() {
    if (!window.confirm('Delete this message?')) return;
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

  return (
    <div class={`message${mentioned ? ' mentioned' : ''}`} data-message-id={message.id}>
      {message.reply_to !== null && <ReplyQuote replyTo={message.reply_to} messages={messages} encrypted={encrypted} />}
      {editing && text !== null ? (
        <EditForm message={message} initial={text} onDone={() => setEditing(false)} />
      ) : encrypted && result?.kind !== 'text' ? (
        <EncryptedStatus message={message} result={result} />
      ) : note !== null && message.file != null ? (
        <EncryptedFile file={message.file} note={note} />
      ) : (
        <p class="message-text">
          {text !== null && <MessageText text={text} username={user.username} />}
          {message.edited_at !== null && <span class="muted edited"> (edited)</span>}
        </p>
      )}
      {!encrypted && message.file != null && <PlainFile file={message.file} />}
      <ReactionChips list={reactions.value[message.id] ?? []} onToggle={(emoji) => void react(emoji)} />
      {picking && <ReactionPicker onPick={(emoji) => void react(emoji)} onClose={() => setPicking(false)} />}
      {!editing && (
        <div class="message-actions">
          <button type="button" class="link-button" onClick={() => setReplyTarget(message.channel_id, message.id)}>
            Reply
          </button>
          <button type="button" class="link-button" aria-expanded={picking} onClick={() => setPicking(!picking)}>
            React
          </button>
          {mayEdit && (
            <button type="button" class="link-button" onClick={() => setEditing(true)}>
              Edit
            </button>
          )}
          {mayDelete && (
            <button type="button" class="link-button" onClick={() => void remove()}>
              Delete
            </button>
          )}
        </div>
      )}
      {error !== null && <Alert tone="error">{error}</Alert>}
    </div>
  );
}

/** The quoted original above a reply; a click (or Enter) scrolls to it when it is loaded. */
function ReplyQuote({ replyTo, messages, encrypted }: { replyTo: number; messages: readonly Message[]; encrypted: boolean }) {
  const quote = resolveReply(replyTo, messages, (m) => readableText(m, encrypted));
  if (quote.kind === 'unavailable') {
    return <p class="reply-quote unavailable muted">Original message unavailable</p>;
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
    <button type="button" class="reply-quote" onClick={jump} aria-label={`Reply to ${quote.sender}: ${quote.snippet}. Show the original.`}>
      <strong>{quote.sender}</strong> <span class="reply-snippet">{quote.snippet}</span>
    </button>
  );
}

/** Reaction chips with counts; mine are highlighted, and a click toggles mine. */
function ReactionChips({ list, onToggle }: { list: readonly Reaction[]; onToggle: (emoji: string) => void }) {
  if (list.length === 0) return null;
  return (
    <div class="reactions" role="group" aria-label="Reactions">
      {list.map((r) => (
        <button
          key={r.emoji}
          type="button"
          class={`reaction-chip${r.me ? ' mine' : ''}`}
          aria-pressed={r.me}
          aria-label={`${emojiName(r.emoji)}: ${r.count}${r.me ? ', including you' : ''}`}
          title={emojiName(r.emoji)}
          onClick={() => onToggle(r.emoji)}
        >
          <span aria-hidden="true">{r.emoji}</span> <span class="reaction-count">{r.count}</span>
        </button>
      ))}
    </div>
  );
}

/** The fixed emoji set; the first gets the focus, Escape closes it. */
function ReactionPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div
      class="reaction-picker"
      role="group"
      aria-label="Add a reaction"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          onClose();
        }
      }}
    >
      {REACTION_EMOJI.map((emoji, i) => (
        <button key={emoji} ref={i === 0 ? first : null} type="button" class="reaction-option" aria-label={`React with ${emojiName(emoji)}`} title={emojiName(emoji)} onClick={() => onPick(emoji)}>
          {emoji}
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
        <LockIcon /> <span>Locked in this browser: your encryption keys are not here yet.</span> To read it, restore your keys from your backup in{' '}
        <Link href={ACCOUNT_PATH}>Account → Encryption</Link>.
      </p>
    );
  }
  if (result === undefined && identity === 'error') {
    return (
      <p class="message-text undecryptable">
        <LockIcon /> <span>Cannot be decrypted: encryption is unavailable in this browser.</span> Reload the page to try again.
      </p>
    );
  }
  if (result === undefined) {
    return <p class="message-text muted">Decrypting…</p>;
  }
  if (result.kind === 'no-key') {
    const asked = requested.value.has(message.channel_id);
    return (
      <div class="message-text undecryptable">
        <LockIcon /> <span>Cannot decrypt yet: you do not have key version {result.version} of this channel.</span>{' '}
        {asked ? (
          <span class="muted">Key requested; an admin must approve.</span>
        ) : (
          <button type="button" class="link-button" onClick={() => askForKey(message.channel_id).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))}>
            Request key
          </button>
        )}
        {error !== null && <Alert tone="error">{error}</Alert>}
      </div>
    );
  }
  if (result.kind === 'warning') {
    return (
      <div class="message-warning" role="note">
        <strong>Warning:</strong> {result.reason}
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
      await editMessage(message, content);
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <div class="edit-form">
      <label class="visually-hidden" for={`edit-${message.id}`}>
        Edit message
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
          Save
        </button>
        <button type="button" class="button button-secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
    </div>
  );
}

function PendingRow({ item }: { item: PendingMessage }) {
  const offline = connection.value !== 'online';
  const status =
    item.status === 'failed' ? `Not sent: ${item.error ?? 'refused'}` : offline ? 'Waiting for the connection…' : (item.waiting ?? 'Sending…');
  return (
    <div class={`message pending${item.status === 'failed' ? ' failed' : ''}`} data-pending={item.status}>
      <p class="message-text">{item.label ?? item.content}</p>
      <p class="pending-status">
        {status}
        {item.status === 'failed' && (
          <>
            {' '}
            <button type="button" class="link-button" onClick={() => retryPending(item.client_msg_id)}>
              Retry
            </button>{' '}
            <button type="button" class="link-button" onClick={() => discardPending(item.client_msg_id)}>
              Discard
            </button>
          </>
        )}
      </p>
    </div>
  );
}

function Composer({ channel, messages, label }: { channel: Channel; messages: readonly Message[]; label: string }) {
  const [text, setText] = useState('');
  const replyTo = replyingTo.value[channel.id];
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    setText('');
    input.current?.focus();
  }, [channel.id]);
  // Starting a reply puts the cursor in the composer.
  useLayoutEffect(() => {
    if (replyTo !== undefined) input.current?.focus();
  }, [replyTo]);

  const identity = identityStatus.value.kind;
  if (channel.is_encrypted && identity !== 'ready') {
    return (
      <div class="composer composer-disabled">
        <Alert tone="info">
          {identity === 'loading' ? 'Loading your encryption keys…' : 'This channel is end-to-end encrypted. Restore or create your encryption keys (above) to write here.'}
        </Alert>
      </div>
    );
  }

  function attach(files: FileList | null) {
    if (files === null) return;
    for (const file of Array.from(files)) void startUpload(channel, file);
  }

  function send() {
    if (channel.is_encrypted && identityStatus.value.kind !== 'ready') return;
    const content = text.trim();
    if (content === '') return;
    sendMessage(channel.id, content, replyTo);
    setReplyTarget(channel.id, null);
    setText('');
  }

  const quote = replyTo === undefined ? null : resolveReply(replyTo, messages, (m) => readableText(m, channel.is_encrypted));

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {quote !== null && (
        <div class="composer-reply" role="status">
          <span>
            Replying to {quote.kind === 'loaded' ? <strong>{quote.sender}</strong> : 'a message'}
            {quote.kind === 'loaded' && <span class="reply-snippet">: {quote.snippet}</span>}
          </span>
          <button type="button" class="link-button" aria-label="Cancel reply" onClick={() => setReplyTarget(channel.id, null)}>
            Cancel
          </button>
        </div>
      )}
      <label class="button button-secondary attach-button" title="Attach files (or drop them on the channel)">
        Attach
        <input
          type="file"
          multiple
          class="visually-hidden"
          aria-label="Attach files"
          onChange={(e) => {
            attach(e.currentTarget.files);
            e.currentTarget.value = '';
          }}
        />
      </label>
      <label class="visually-hidden" for="composer-input">
        {label}
      </label>
      <textarea
        id="composer-input"
        ref={input}
        value={text}
        rows={1}
        placeholder={label}
        maxLength={4000}
        onInput={(e) => {
          setText(e.currentTarget.value);
          sendTyping(channel.id);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          } else if (e.key === 'Escape' && replyTo !== undefined) {
            e.preventDefault();
            setReplyTarget(channel.id, null);
          }
        }}
      />
      <button type="submit" class="button button-primary">
        Send
      </button>
    </form>
  );
}
