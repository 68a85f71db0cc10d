// The quick switcher (Ctrl/Cmd+K): a dialog with a combobox over my rooms,
// channels and DMs, and people found by the user search (open or start a
// DM). Arrow keys move, Enter goes, Escape closes. And the shortcuts help
// (`?`).

import { useEffect, useMemo, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import * as roomsApi from '../../api/rooms.ts';
import { enterRoom, rooms } from '../../chat/store.ts';
import { rank, type Target, targetsOf } from '../../chat/switcher.ts';
import { personName, profiles } from '../../chat/profiles.ts';
import { channelPath, navigate } from '../../router.ts';
import { authenticated } from '../../state/session.ts';
import { openSearch } from '../../search/panel.ts';
import { Alert } from '../Alert.tsx';
import { Dialog } from '../Dialog.tsx';
import { t } from '../../i18n/index.ts';

/** What a target is, in the UI's language. */
function kindLabel(kind: Target['kind']): string {
  return t(`switcher.${kind}`);
}

export function QuickSwitcher({ myId, onClose }: { myId: number; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const [people, setPeople] = useState<Target[]>([]);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | null>(null);

  // People by name (the server's user search), for a DM not started yet.
  useEffect(() => {
    const q = query.trim();
    if (q === '') {
      setPeople([]);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      authenticated(() => roomsApi.searchUsers(q))
        .then((users) => {
          if (!current) return;
          const peers = new Set(rooms.value.flatMap((r) => (r.kind === 'dm' && r.dm_peer != null ? [r.dm_peer.id] : [])));
          setPeople(
            users
              .filter((u) => u.id !== myId && !u.disabled && !peers.has(u.id))
              .map((u) => ({ kind: 'person', key: `person-${u.id}`, label: u.username, detail: t('switcher.startDm'), userId: u.id })),
          );
        })
        .catch(() => current && setPeople([]));
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, myId]);

  const results = useMemo(() => rank(query, [...targetsOf(rooms.value, (peer) => personName(peer.id, peer.username)), ...people]), [query, people, rooms.value, profiles.value]);
  // The last entry searches the messages for the typed text (the search panel), so Ctrl/Cmd+K reaches search too.
  const searchEntry = query.trim() === '' ? -1 : results.length;
  const entries = results.length + (searchEntry < 0 ? 0 : 1);
  const selected = Math.min(active, Math.max(entries - 1, 0));

  useEffect(() => {
    document.getElementById(`switcher-option-${selected}`)?.scrollIntoView({ block: 'nearest' });
  }, [selected, results]);

  async function go(target: Target | undefined) {
    if (target === undefined) return;
    if (target.kind !== 'person') {
      onClose();
      navigate(channelPath(target.channelId));
      return;
    }
    try {
      const room = await authenticated(() => roomsApi.openDm(target.userId));
      onClose();
      await enterRoom(room.id);
    } catch (err) {
      setError(describeError(err));
    }
  }

  function searchMessages() {
    onClose();
    openSearch(query.trim());
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (entries === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((selected + step + entries) % entries);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (selected === searchEntry) searchMessages();
      else void go(results[selected]);
    }
  }

  return (
    <Dialog title={t('switcher.title')} onClose={onClose}>
      <div class="field">
        <label for="switcher-input">{t('switcher.label')}</label>
        <input
          id="switcher-input"
          type="text"
          role="combobox"
          aria-expanded="true"
          aria-controls="switcher-list"
          aria-autocomplete="list"
          aria-activedescendant={entries > 0 ? `switcher-option-${selected}` : undefined}
          autocomplete="off"
          spellcheck={false}
          autoFocus
          value={query}
          onInput={(e) => {
            setQuery(e.currentTarget.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
        />
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      <ul id="switcher-list" class="switcher-list" role="listbox" aria-label={t('switcher.matchesLabel')}>
        {results.map((target, index) => (
          <li
            key={target.key}
            id={`switcher-option-${index}`}
            role="option"
            aria-selected={index === selected}
            class={`switcher-option${index === selected ? ' active' : ''}`}
            onMouseMove={() => index !== selected && setActive(index)}
            onClick={() => void go(target)}
          >
            <span class="switcher-label">{target.label}</span>
            <span class="switcher-detail muted">
              {target.kind === 'channel' ? t('switcher.channelIn', { room: target.detail }) : target.kind === 'person' ? target.detail : kindLabel(target.kind)}
            </span>
          </li>
        ))}
        {searchEntry >= 0 && (
          <li
            id={`switcher-option-${searchEntry}`}
            role="option"
            aria-selected={searchEntry === selected}
            class={`switcher-option switcher-search${searchEntry === selected ? ' active' : ''}`}
            onMouseMove={() => searchEntry !== selected && setActive(searchEntry)}
            onClick={searchMessages}
          >
            <span class="switcher-label">{t('switcher.searchFor', { query: query.trim() })}</span>
            <span class="switcher-detail muted">{t('switcher.search')}</span>
          </li>
        )}
      </ul>
      <p class="muted switcher-status" role="status">
        {results.length === 0 ? t('switcher.nothing') : t('switcher.matches', { count: results.length })}
      </p>
    </Dialog>
  );
}

/** Whether shortcuts use ⌘ rather than Ctrl here. */
export const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/**
 * Every keyboard shortcut of the chat screen. Key names are the keycaps'
 * (Ctrl, Alt, Shift, Enter, Escape), the same in every language.
 */
export function shortcuts(): readonly { keys: string[]; what: string }[] {
  return [
    { keys: [IS_MAC ? '⌘' : 'Ctrl', 'K'], what: t('shortcuts.jump') },
    { keys: ['Alt', '↑'], what: t('shortcuts.previous') },
    { keys: ['Alt', '↓'], what: t('shortcuts.next') },
    { keys: ['/'], what: t('shortcuts.search') },
    { keys: ['?'], what: t('shortcuts.help') },
    { keys: ['Enter'], what: t('shortcuts.send') },
    { keys: ['Shift', 'Enter'], what: t('shortcuts.newLine') },
    { keys: ['↑'], what: t('shortcuts.editLast') },
    { keys: ['Escape'], what: t('shortcuts.escape') },
  ];
}

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title={t('shortcuts.title')} onClose={onClose}>
      <dl class="shortcuts">
        {shortcuts().map((s) => (
          <div key={s.what} class="shortcut">
            <dt>
              {s.keys.map((k, i) => (
                <span key={k}>
                  {i > 0 && ' + '}
                  <kbd>{k}</kbd>
                </span>
              ))}
            </dt>
            <dd>{s.what}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
