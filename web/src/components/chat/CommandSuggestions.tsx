// Command suggestions in the composer: typing `/` and the start of a
// trigger lists the built-ins and the room's registered commands that
// match (chat/commands.ts), with their usage hints; Up/Down move, Enter or
// Tab put `/name ` in the box, Escape closes, a click picks too. The room's
// commands are fetched the first time `/` is typed in it.
//
// Accessibility: as the mention list (MentionSuggestions.tsx), the text box
// keeps the focus and points at the list and its highlighted option
// (`aria-controls`, `aria-activedescendant`), and a polite live region says
// how many match.

import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { roomCommands, type CommandInfo } from '../../api/commands.ts';
import { suggestCommands, type BuiltIn, type Suggestion } from '../../chat/commands.ts';
import { authenticated } from '../../state/session.ts';
import { t } from '../../i18n/index.ts';
import './mentions.css';

const LIST_ID = 'command-list';
const optionId = (name: string) => `command-option-${name}`;

/** A room's registered commands, fetched when first wanted; empty until then (or when they cannot be fetched). */
export function useRoomCommands(roomId: number, wanted: boolean): readonly CommandInfo[] {
  const [loaded, setLoaded] = useState<{ roomId: number; commands: readonly CommandInfo[] } | null>(null);
  const current = loaded !== null && loaded.roomId === roomId;
  useEffect(() => {
    if (!wanted || current) return;
    let live = true;
    authenticated(() => roomCommands(roomId))
      .then((commands) => live && setLoaded({ roomId, commands }))
      // Without them only the built-ins are suggested.
      .catch(() => live && setLoaded({ roomId, commands: [] }));
    return () => {
      live = false;
    };
  }, [roomId, wanted, current]);
  return current ? loaded.commands : [];
}

/** What a built-in does, from the catalogue; a registered command's own description. */
export function describeSuggestion(s: Suggestion): string {
  return s.builtIn ? t(`commands.builtIn.${s.name as BuiltIn}`) : (s.description ?? '');
}

interface Options {
  text: string;
  setText: (text: string) => void;
  input: RefObject<HTMLTextAreaElement | null>;
  commands: readonly CommandInfo[];
}

export function useCommandSuggestions({ text, setText, input, commands }: Options) {
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(false);
  const [focused, setFocused] = useState(false);
  const placeCaret = useRef<number | null>(null);
  const matches = suggestCommands(text, commands);
  const open = focused && matches !== null && !dismissed;
  const listed = open && matches.length > 0;
  const selected = Math.min(active, Math.max((matches?.length ?? 1) - 1, 0));
  const activeOne = listed ? matches[selected] : undefined;

  useEffect(() => setActive(0), [text]);
  useEffect(() => {
    if (matches === null && dismissed) setDismissed(false);
  }, [matches === null]);
  useLayoutEffect(() => {
    const at = placeCaret.current;
    if (at === null || input.current === null) return;
    placeCaret.current = null;
    input.current.setSelectionRange(at, at);
  }, [text]);

  function pick(s: Suggestion) {
    const next = `/${s.name} `;
    placeCaret.current = next.length;
    setText(next);
  }

  function onKeyDown(e: KeyboardEvent): boolean {
    if (!open || matches === null || e.altKey || e.ctrlKey || e.metaKey) return false;
    if (e.key === 'Escape') {
      setDismissed(true);
    } else if (!listed) {
      return false;
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((selected + step + matches.length) % matches.length);
    } else if (e.key === 'Enter' && text.toLowerCase() === `/${activeOne?.name ?? ''}`) {
      // A trigger typed in full: Enter runs it (`/help`, `/leave`).
      return false;
    } else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && activeOne !== undefined) {
      pick(activeOne);
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  function track(e: Event) {
    setFocused(e.type !== 'blur');
  }

  const view = (
    <>
      {listed && (
        <ul id={LIST_ID} class="mention-list command-list" role="listbox" aria-label={t('commands.listLabel')}>
          {matches.map((s, index) => (
            <li
              key={s.name}
              id={optionId(s.name)}
              role="option"
              aria-selected={index === selected}
              class={`mention-option${index === selected ? ' active' : ''}`}
              onMouseDown={(e) => e.preventDefault()}
              onMouseMove={() => index !== selected && setActive(index)}
              onClick={() => pick(s)}
            >
              <span class="mention-name">
                /{s.name}
                {s.hint !== '' && <span class="muted"> {s.hint}</span>}
              </span>
              <span class="muted">{describeSuggestion(s)}</span>
            </li>
          ))}
        </ul>
      )}
      <span class="visually-hidden" aria-live="polite">
        {listed ? t('commands.count', { count: matches.length }) : ''}
      </span>
    </>
  );

  return {
    open: listed,
    inputProps: {
      ...(listed ? { 'aria-controls': LIST_ID } : {}),
      ...(activeOne !== undefined ? { 'aria-activedescendant': optionId(activeOne.name) } : {}),
    },
    onKeyDown,
    track,
    view,
  };
}
