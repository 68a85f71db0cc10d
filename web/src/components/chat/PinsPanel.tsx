// The "Pinned" panel of a channel and the "Saved" panel of the caller's
// bookmarks: lists of messages, decrypted in the browser like the
// timeline's (the server stores ids only), each opening its message in
// the timeline with the search's jump. One header button opens the pins;
// each panel leads to the other.

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import type { Message } from '../../api/messages.ts';
import * as pinsApi from '../../api/pins.ts';
import type { SavedItem } from '../../api/pins.ts';
import { decryptMessages } from '../../e2ee/engine.ts';
import { t } from '../../i18n/index.ts';
import { loadPins, pinLists, savedVersion } from '../../pins/state.ts';
import { jumpToMessage } from '../../search/jump.ts';
import { Alert } from '../Alert.tsx';
import { usePaged } from './paged.ts';
import { readableText } from './Composer.tsx';
import { personName } from '../../chat/profiles.ts';
import { PersonName } from './PersonName.tsx';

/** The header's Pinned button: a pushpin, sized like the bell beside it. */
export function PinIcon() {
  return (
    <svg class="bell-icon" viewBox="0 0 16 16" width="14" height="14" focusable="false" aria-hidden="true">
      <path d="M5 1.5h6l-1 4 2.5 3v1h-4V15h-1V9.5h-4v-1L6 5.5z" fill="currentColor" />
    </svg>
  );
}

/** One listed message: what it is, a line of detail, and anything more the list offers (a Remove). */
interface Entry {
  message: Message;
  detail: string;
  extra?: preact.ComponentChildren;
}

/** One listed message: who wrote it, its text (or why it is not readable), a jump. */
function ListedMessage({ entry, onError }: { entry: Entry; onError: (e: string) => void }) {
  const { message } = entry;
  const text = readableText(message, message.envelope !== null) ?? t('pins.unreadable');
  return (
    <li class="pin-item">
      <button type="button" class="link-button pin-open" onClick={() => void jumpToMessage(message.channel_id, message.id).catch((err: unknown) => onError(describeError(err)))}>
        <strong>
          <PersonName userId={message.sender_id} username={message.sender_username} fallback={t('pins.someone')} />
        </strong>
        : <span class="pin-text">{text}</span>
      </button>
      <p class="muted pin-detail">{entry.detail}</p>
      {entry.extra}
    </li>
  );
}

interface ListProps {
  /** The heading's id and text. */
  id: string;
  title: string;
  /** The button to the other panel (Saved from Pinned, Pinned from Saved). */
  other: string;
  onOther: () => void;
  onClose: () => void;
  /** Null while loading. */
  entries: readonly Entry[] | null;
  empty: string;
  error: string | null;
  setError: (e: string) => void;
  footer?: preact.ComponentChildren;
}

/** The one list both panels show: heading, the other panel's button, Close, the messages. */
function MessageListPanel({ id, title, other, onOther, onClose, entries, empty, error, setError, footer }: ListProps) {
  return (
    <aside class="side-panel pins-panel" aria-labelledby={id}>
      <div class="members-head">
        <h2 id={id}>{title}</h2>
        <button type="button" class="button button-secondary" onClick={onOther}>
          {other}
        </button>
        <button type="button" class="button button-secondary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      {entries === null && error === null && <p class="muted">{t('pins.loading')}</p>}
      {entries !== null && entries.length === 0 && <p class="muted">{empty}</p>}
      <ul class="pin-list">
        {entries?.map((entry) => (
          <ListedMessage key={entry.message.id} entry={entry} onError={setError} />
        ))}
      </ul>
      {footer}
    </aside>
  );
}

export function PinsPanel({ channelId, onClose, onShowSaved }: { channelId: number; onClose: () => void; onShowSaved: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const list = pinLists.value[channelId];
  useEffect(() => {
    void loadPins(channelId).catch((err: unknown) => setError(describeError(err)));
  }, [channelId]);
  useEffect(() => {
    if (list !== undefined) void decryptMessages(list.pins.map((p) => p.message));
  }, [list]);
  const entries = list?.pins.map((p) => ({ message: p.message, detail: t('pins.pinnedBy', { name: p.pinned_by_username !== null ? personName(p.pinned_by, p.pinned_by_username) : t('pins.someone') }) })) ?? null;
  return <MessageListPanel id="pins-title" title={t('pins.title')} other={t('pins.savedButton')} onOther={onShowSaved} onClose={onClose} entries={entries} empty={t('pins.none')} error={error} setError={setError} />;
}

export function SavedPanel({ onClose, onShowPins }: { onClose: () => void; onShowPins: () => void }) {
  const list = usePaged<SavedItem, string>(
    async (before) => {
      const page = await pinsApi.listSaved(before);
      return { items: page.saved, next: page.next };
    },
    (s) => s.message,
    savedVersion.value,
  );
  const { items, next, error, setError, setItems, load } = list;

  async function remove(messageId: number) {
    try {
      await pinsApi.setSaved(messageId, false);
      setItems((old) => (old ?? []).filter((s) => s.message.id !== messageId));
    } catch (err) {
      setError(describeError(err));
    }
  }

  const entries =
    items?.map((s) => ({
      message: s.message,
      detail: t('pins.savedAt', { when: new Date(s.saved_at).toLocaleString() }),
      extra: (
        <button type="button" class="link-button" onClick={() => void remove(s.message.id)}>
          {t('pins.unsave')}
        </button>
      ),
    })) ?? null;
  const more = next !== null && (
    <button type="button" class="button button-secondary" onClick={() => void load(next)}>
      {t('pins.more')}
    </button>
  );
  return <MessageListPanel id="saved-title" title={t('pins.savedTitle')} other={t('pins.button')} onOther={onShowPins} onClose={onClose} entries={entries} empty={t('pins.noneSaved')} error={error} setError={setError} footer={more} />;
}
