// The composer of a channel: the text box (it grows with its content up to
// about 40% of the window, then scrolls inside), the reply being written,
// files attached by the button or pasted, Up in an empty box to edit my
// last message, and suggestions of people while an `@name` is typed
// (MentionSuggestions.tsx), and slash commands: suggestions while `/name`
// is typed (CommandSuggestions.tsx), a command line run instead of sent
// (commandRunner.ts), `//text` sent as `/text`.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../../api/messages.ts';
import type { Channel } from '../../api/rooms.ts';
import { lastEditable } from '../../chat/composing.ts';
import { preloadForText, withShortcodes } from '../../chat/emoji-load.ts';
import { resolveReply } from '../../chat/replies.ts';
import { chatNotice, editingMessage, outboxFullText, outboxLimitFor, replyingTo, roomOfChannel, sendMessage, sendTyping, setReplyTarget } from '../../chat/store.ts';
import { decrypted, identityStatus } from '../../e2ee/engine.ts';
import { startUpload } from '../../files/uploads.ts';
import { Alert } from '../Alert.tsx';
import { ComposerEmoji } from './EmojiPicker.tsx';
import { useMentionSuggestions } from './MentionSuggestions.tsx';
import { useCommandSuggestions, useRoomCommands } from './CommandSuggestions.tsx';
import { runPlan } from './commandRunner.ts';
import { BUILT_INS, escapedSlash, parseCommand, planCommand } from '../../chat/commands.ts';
import { roomCommands } from '../../api/commands.ts';
import { authenticated } from '../../state/session.ts';
import { mayMentionChannel, mentionsChannel } from '../../chat/mentions.ts';
import { noteOf } from './FilePanels.tsx';
import { t } from '../../i18n/index.ts';
import { withParts } from '../../i18n/rich.tsx';

const INPUT_ID = 'composer-input';

/** The readable text of a loaded message: decrypted in encrypted channels, null when there is none. */
export function readableText(message: Message, encrypted: boolean): string | null {
  if (message.deleted) return null;
  if (!encrypted) return message.content ?? (message.file?.name != null ? t('composer.file', { name: message.file.name }) : null);
  const note = noteOf(message);
  if (note !== null) return note.caption !== '' ? note.caption : t('composer.file', { name: note.name });
  const result = decrypted.value[message.id];
  return result?.kind === 'text' ? result.text : null;
}

/** Starts editing a message in place (the Edit button, or Up in the composer). */
/** Whether a channel's composer is shown: an encrypted channel needs this browser's keys first. */
export function composerShown(channel: Channel): boolean {
  return !channel.is_encrypted || identityStatus.value.kind === 'ready';
}

export function startEditing(messageId: number, fromComposer = false): void {
  editingMessage.value = { id: messageId, fromComposer };
}

/** Ends the edit in place; an edit started from the composer gives the focus back to it. */
export function finishEditing(): void {
  const was = editingMessage.value;
  editingMessage.value = null;
  if (was?.fromComposer === true) document.getElementById(INPUT_ID)?.focus();
}

interface Props {
  channel: Channel;
  /** The channel's loaded messages (the quote of a reply; the message Up edits). */
  messages: readonly Message[];
  label: string;
  myId: number;
  /** The channel's current key version (encrypted channels), else null. */
  keyVersion: number | null;
  /** Called when I send a message or a file (the message list then goes to the bottom). */
  onSend: () => void;
}

export function Composer({ channel, messages, label, myId, keyVersion, onSend }: Props) {
  const [text, setText] = useState('');
  const replyTo = replyingTo.value[channel.id];
  const input = useRef<HTMLTextAreaElement>(null);
  const room = roomOfChannel(channel.id);
  // Whether I may use @channel and the like here (the room's size setting; the core's log in encrypted channels).
  const mayMentionAll = room === null || mayMentionChannel(room, channel.is_encrypted, myId);
  const channelMentionRefused = !mayMentionAll && mentionsChannel(text);
  const mentions = useMentionSuggestions({ roomId: channel.room_id, myId, text, setText, input, channelWide: mayMentionAll });
  const commands = useRoomCommands(channel.room_id, text.startsWith('/'));
  const commandList = useCommandSuggestions({ text, setText, input, commands });
  useEffect(() => {
    setText('');
    input.current?.focus();
  }, [channel.id]);
  // Starting a reply puts the cursor in the composer.
  useLayoutEffect(() => {
    if (replyTo !== undefined) input.current?.focus();
  }, [replyTo]);

  // The box is as tall as its text (the stylesheet caps it at 40% of the window, then it scrolls inside).
  function fit() {
    const el = input.current;
    if (el === null) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight + el.offsetHeight - el.clientHeight}px`;
  }
  useLayoutEffect(fit, [text]);
  useEffect(() => {
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, []);

  const identity = identityStatus.value.kind;
  if (!composerShown(channel)) {
    return (
      <div class="composer composer-disabled">
        <Alert tone="info">
          {identity === 'loading' ? t('composer.loadingKeys') : t('composer.needsKeys')}
        </Alert>
      </div>
    );
  }

  /** Uploads files: the Attach button, a drop on the channel and a paste all come here. */
  function attach(files: readonly File[]) {
    if (files.length === 0) return;
    onSend();
    for (const file of files) void startUpload(channel, file);
  }

  /**
   * Runs a command line. A trigger that is neither a built-in nor in the
   * room's list as loaded is looked up again first (the list may still be
   * loading, or the command be new), so it is never called unknown too
   * early. Only `/me` waits for this browser's keys in an encrypted
   * channel: the rest send no message.
   */
  async function sendCommand(typed: string, name: string) {
    const known = (BUILT_INS as readonly string[]).includes(name) || commands.some((c) => c.trigger === name);
    const registered = known ? commands : await authenticated(() => roomCommands(channel.room_id)).catch(() => commands);
    const plan = planCommand(typed, registered.map((c) => c.trigger), channel.is_encrypted);
    if (plan === null || (plan.kind === 'me' && channel.is_encrypted && identityStatus.value.kind !== 'ready')) return;
    // A refused line stays to be corrected; anything else ran.
    if (plan.kind !== 'usage' && plan.kind !== 'unknown' && plan.kind !== 'encrypted') {
      setText('');
      setReplyTarget(channel.id, null);
      onSend();
    }
    const notice = await runPlan(plan, channel, registered, replyTo);
    if (notice !== null) chatNotice.value = notice;
  }

  function send() {
    const typed = text.trim();
    if (typed === '') return;
    const command = escapedSlash(typed) === null ? parseCommand(typed) : null;
    if (command !== null) {
      void sendCommand(typed, command.name);
      return;
    }
    if (channel.is_encrypted && identityStatus.value.kind !== 'ready') return;
    const content = escapedSlash(typed) ?? typed;
    // The server would refuse it (plaintext) and the others' clients ignore it (encrypted): the text stays to be changed.
    if (channelMentionRefused) return;
    const full = outboxLimitFor(content);
    if (full !== null) {
      // The text stays in the composer until there is room.
      chatNotice.value = outboxFullText(full);
      return;
    }
    // `:shortcode:` emoji are sent as the emoji (waiting for the catalogue only if it is not loaded yet).
    withShortcodes(content, (final) => sendMessage(channel.id, final, replyTo));
    setReplyTarget(channel.id, null);
    setText('');
    onSend();
  }

  /** Up in an empty composer edits my newest message that "Edit" is offered for. */
  function editLast(): boolean {
    const target = lastEditable(messages, myId, (m) => readableText(m, channel.is_encrypted), channel.is_encrypted, keyVersion);
    if (target === null) return false;
    startEditing(target.id, true);
    return true;
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
            {quote.kind === 'loaded' ? withParts(t('composer.replyingTo', { skipInterpolation: true }), { name: <strong>{quote.sender}</strong> }) : t('composer.replyingToMessage')}
            {quote.kind === 'loaded' && <span class="reply-snippet">{t('composer.snippet', { snippet: quote.snippet })}</span>}
          </span>
          <button type="button" class="link-button" aria-label={t('composer.cancelReply')} onClick={() => setReplyTarget(channel.id, null)}>
            {t('common.cancel')}
          </button>
        </div>
      )}
      <label class="button button-secondary attach-button" title={t('composer.attachTitle')}>
        {t('composer.attach')}
        <input
          type="file"
          multiple
          class="visually-hidden"
          aria-label={t('composer.attachLabel')}
          onChange={(e) => {
            attach(Array.from(e.currentTarget.files ?? []));
            e.currentTarget.value = '';
          }}
        />
      </label>
      <ComposerEmoji input={input} onText={setText} />
      <label class="visually-hidden" for={INPUT_ID}>
        {label}
      </label>
      {mentions.view}
      {commandList.view}
      {channelMentionRefused && (
        <Alert tone="error">{t('composer.channelMentionRefused', { max: room?.everyone_mention_max_members ?? 0 })}</Alert>
      )}
      <textarea
        id={INPUT_ID}
        ref={input}
        value={text}
        rows={1}
        placeholder={label}
        maxLength={4000}
        {...mentions.inputProps}
        {...commandList.inputProps}
        onInput={(e) => {
          setText(e.currentTarget.value);
          mentions.track(e);
          commandList.track(e);
          preloadForText(e.currentTarget.value);
          sendTyping(channel.id);
        }}
        onKeyUp={mentions.track}
        onClick={mentions.track}
        onFocus={(e) => {
          mentions.track(e);
          commandList.track(e);
        }}
        onBlur={(e) => {
          mentions.track(e);
          commandList.track(e);
        }}
        onPaste={(e) => {
          // A pasted image (a screenshot, "Copy image") is attached; pasted text stays text.
          const data = e.clipboardData;
          if (data === null || data.files.length === 0 || data.types.includes('text/plain')) return;
          e.preventDefault();
          attach(Array.from(data.files));
        }}
        onKeyDown={(e) => {
          if (e.isComposing || commandList.onKeyDown(e) || mentions.onKeyDown(e)) return;
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            send();
          } else if (e.key === 'Escape' && replyTo !== undefined) {
            e.preventDefault();
            setReplyTarget(channel.id, null);
          } else if (e.key === 'ArrowUp' && text === '' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
            if (editLast()) e.preventDefault();
          }
        }}
      />
      <button type="submit" class="button button-primary">
        {t('composer.send')}
      </button>
    </form>
  );
}
