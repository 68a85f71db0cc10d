// Mention suggestions in the composer: typing `@` and the start of a name
// lists the room's members that match (chat/mention-suggest.ts ranks them);
// Up/Down move, Enter or Tab put `@name ` in place of what was typed, Escape
// closes, a click picks too. The members come from the room's members list
// (the one the members panel shows), fetched the first time a mention is
// typed in a room and again when the room's membership changes; nothing
// else leaves the browser while typing, in plaintext and encrypted channels
// alike.
//
// Accessibility: the text box keeps the focus and points at the list and its
// highlighted option (`aria-controls`, `aria-activedescendant`,
// `aria-autocomplete="list"`), as in the WAI-ARIA combobox pattern. A
// textarea may not take the combobox role (nor `aria-expanded`, which its
// textbox role does not support), so a polite live region says when the
// list opens and how many match.

import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import * as roomsApi from '../../api/rooms.ts';
import type { Member } from '../../api/rooms.ts';
import { channelWideCandidates, fragmentAt, insertMention, MAX_SUGGESTIONS, rankCandidates } from '../../chat/mention-suggest.ts';
import { membersVersion } from '../../chat/store.ts';
import { authenticated } from '../../state/session.ts';
import { Avatar } from './Avatar.tsx';
import { person, profiles, seedFromMembers } from '../../chat/profiles.ts';
import './mentions.css';
import { t } from '../../i18n/index.ts';

const LIST_ID = 'mention-list';
const optionId = (userId: number) => `mention-option-${userId}`;

interface Options {
  roomId: number;
  myId: number;
  text: string;
  setText: (text: string) => void;
  input: RefObject<HTMLTextAreaElement | null>;
  /** I may use @channel, @here, @everyone and @room here: they are suggested too. */
  channelWide: boolean;
}

interface Suggestions {
  /** The text box's ARIA attributes. */
  inputProps: { 'aria-autocomplete': 'list'; 'aria-controls'?: string; 'aria-activedescendant'?: string };
  /** Handles a key of the text box; true when it was the list's (the composer then leaves it alone). */
  onKeyDown: (e: KeyboardEvent) => boolean;
  /** Notes where the caret is (after input, a click, a key, focus) and whether the box has the focus. */
  track: (e: Event) => void;
  /** The list and its announcement, to render beside the text box. */
  view: preact.JSX.Element;
}

/**
 * The room's members, fetched when first needed and again when its
 * membership changes; null until they came. When they could not be fetched
 * (offline), nothing is suggested rather than "No one matches", and the
 * next `@` tries again.
 */
function useMembers(roomId: number, wanted: boolean): readonly Member[] | null {
  const version = membersVersion.value[roomId] ?? 0;
  const [loaded, setLoaded] = useState<{ roomId: number; version: number; members: readonly Member[] } | null>(null);
  const current = loaded !== null && loaded.roomId === roomId && loaded.version === version;
  useEffect(() => {
    if (!wanted || current) return;
    let live = true;
    authenticated(() => roomsApi.members(roomId))
      .then((answer) => {
        if (!live) return;
        seedFromMembers(answer.members);
        setLoaded({ roomId, version, members: answer.members });
      })
      // Without the list there is nothing to suggest; typing goes on as usual.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [roomId, version, wanted, current]);
  return current ? loaded.members : null;
}

/** The members with the display names known for them, to be matched too. */
function withDisplayNames(members: readonly Member[]): (Member & { display_name: string | null })[] {
  const known = profiles.value;
  return members.map((m) => ({ ...m, display_name: known[m.user_id]?.display_name ?? null }));
}

/** A suggestion's name: the display name beside the @username when set; the username alone otherwise (what is inserted). */
function MentionName({ member }: { member: Member }) {
  const shown = member.user_id < 0 ? null : person(member.user_id, member.username);
  if (shown === null || !shown.hasDisplayName) return <span class="mention-name">{member.username}</span>;
  return (
    <>
      <span class="mention-display">{shown.name}</span>
      <span class="muted mention-at">
        @<span class="mention-name">{member.username}</span>
      </span>
    </>
  );
}

export function useMentionSuggestions({ roomId, myId, text, setText, input, channelWide }: Options): Suggestions {
  const [caret, setCaret] = useState<number | null>(null);
  const [focused, setFocused] = useState(false);
  const [active, setActive] = useState(0);
  // Escape closes the list for the mention being typed (by where it starts) until another one begins.
  const [dismissed, setDismissed] = useState<number | null>(null);
  const placeCaret = useRef<number | null>(null);

  const fragment = caret === null ? null : fragmentAt(text, Math.min(caret, text.length));
  const members = useMembers(roomId, fragment !== null);
  // Channel-wide names first, as pseudo-members with negative ids (no one's avatar).
  const everyone: Member[] = fragment === null ? [] : channelWideCandidates(fragment.query, channelWide).map((name, i) => ({ user_id: -1 - i, username: name, role: 'member', joined_at: '' }));
  const matches = fragment === null || members === null ? [] : [...everyone, ...rankCandidates(withDisplayNames(members), fragment.query, myId)].slice(0, MAX_SUGGESTIONS);
  const open = focused && fragment !== null && members !== null && fragment.start !== dismissed;
  const listed = open && matches.length > 0;
  const selected = Math.min(active, Math.max(matches.length - 1, 0));
  const activeMember = listed ? matches[selected] : undefined;

  useEffect(() => setActive(0), [fragment?.start, fragment?.query, roomId]);
  useEffect(() => {
    if (fragment === null && dismissed !== null) setDismissed(null);
  }, [fragment === null]);
  // A pick moves the caret after the inserted name, once the text box shows the new text.
  useLayoutEffect(() => {
    const at = placeCaret.current;
    if (at === null || input.current === null) return;
    placeCaret.current = null;
    input.current.setSelectionRange(at, at);
    setCaret(at);
  }, [text]);

  function pick(member: Member) {
    if (fragment === null) return;
    const next = insertMention(text, fragment, member.username);
    placeCaret.current = next.caret;
    setText(next.text);
  }

  function onKeyDown(e: KeyboardEvent): boolean {
    if (!open || e.altKey || e.ctrlKey || e.metaKey) return false;
    if (e.key === 'Escape') {
      setDismissed(fragment.start);
    } else if (!listed) {
      return false;
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((selected + step + matches.length) % matches.length);
    } else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && activeMember !== undefined) {
      pick(activeMember);
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  function track(e: Event) {
    const el = e.currentTarget as HTMLTextAreaElement;
    if (e.type === 'blur') {
      setFocused(false);
      return;
    }
    setFocused(true);
    // Only a caret, not a selection, is a place to type a mention.
    setCaret(el.selectionStart === el.selectionEnd ? el.selectionStart : null);
  }

  const view = (
    <>
      {listed && (
        <ul id={LIST_ID} class="mention-list" role="listbox" aria-label={t('mentions.listLabel')}>
          {matches.map((m, index) => (
            <li
              key={m.user_id}
              id={optionId(m.user_id)}
              role="option"
              aria-selected={index === selected}
              class={`mention-option${index === selected ? ' active' : ''}`}
              // The text box keeps the focus (and the caret) while the pointer picks.
              onMouseDown={(e) => e.preventDefault()}
              onMouseMove={() => index !== selected && setActive(index)}
              onClick={() => pick(m)}
            >
              {/* The name is read first ("bob, online"); the avatar still shows first (mentions.css). */}
              <MentionName member={m} />
              {m.user_id === myId && <span class="muted">{t('members.you')}</span>}
              {m.user_id < 0 ? <span class="muted">{t('mentions.channelWide')}</span> : <Avatar userId={m.user_id} username={m.username} withPresence />}
            </li>
          ))}
        </ul>
      )}
      {open && !listed && (
        <p class="mention-list mention-none muted" aria-hidden="true">
          {t('mentions.none')}
        </p>
      )}
      <span class="visually-hidden" aria-live="polite">
        {open ? (listed ? t('mentions.count', { count: matches.length }) : t('mentions.none')) : ''}
      </span>
    </>
  );

  return {
    inputProps: {
      'aria-autocomplete': 'list',
      ...(listed ? { 'aria-controls': LIST_ID } : {}),
      ...(activeMember !== undefined ? { 'aria-activedescendant': optionId(activeMember.user_id) } : {}),
    },
    onKeyDown,
    track,
    view,
  };
}
