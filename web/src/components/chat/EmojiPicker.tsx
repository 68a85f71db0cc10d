// The emoji picker, for reactions and the composer: a search box and a grid
// of every emoji (emojibase's catalogue, loaded on demand), with the recently
// used ones first (kept in localStorage).
//
// Keyboard: the search box has the focus; typing filters, Enter picks the
// first emoji shown, Down (or Tab) goes into the grid, where the arrow keys,
// Home and End move (one tab stop for the whole grid) and Enter picks.
// Escape closes and gives the focus back to what opened the picker.

import type { RefObject } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { recentEmoji, rememberEmoji, searchEmoji } from '../../chat/emoji.ts';
import { emojiData, loadEmojiData } from '../../chat/emoji-load.ts';
import { emojiName, REACTION_EMOJI } from '../../chat/reactions.ts';
import './formatting.css';
import { t } from '../../i18n/index.ts';

/** emojibase's groups with a name (2, the skin-tone components, is left out). */
const NAMED_GROUPS = [0, 1, 3, 4, 5, 6, 7, 8, 9] as const;

function groupName(group: number): string {
  const named = NAMED_GROUPS.find((g) => g === group);
  return named === undefined ? '' : t(`emoji.group${named}`);
}

/** A readable name for an emoji: the reaction set's short names, else the catalogue's. */
export function emojiLabel(emoji: string): string {
  const short = emojiName(emoji);
  return short !== emoji ? short : (emojiData.value?.names.get(emoji) ?? emoji);
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

interface Section {
  title: string;
  emoji: readonly string[];
}

interface Props {
  /** The dialog's name, e.g. "Add a reaction". */
  label: string;
  /** How each emoji's button reads, e.g. "React with" (followed by the emoji's name). */
  action?: string;
  onPick: (emoji: string) => void;
  onClose: () => void;
  /** Extra class for placement. */
  class?: string;
}

export function EmojiPicker({ label, action, onPick, onClose, class: extra }: Props) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const search = useRef<HTMLInputElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const opener = useRef<Element | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const data = emojiData.value;

  useEffect(() => {
    opener.current = document.activeElement;
    search.current?.focus();
    // Shown in the message list: scrolled into view when opened near its bottom.
    if (extra === undefined) root.current?.scrollIntoView({ block: 'nearest' });
    void loadEmojiData().catch(() => undefined);
  }, []);

  function close() {
    onClose();
    if (opener.current instanceof HTMLElement) opener.current.focus();
  }

  // A click outside closes it.
  useEffect(() => {
    const outside = (e: PointerEvent) => {
      if (root.current !== null && e.target instanceof Node && !root.current.contains(e.target) && e.target !== opener.current) onClose();
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [onClose]);

  const sections = useMemo((): Section[] => {
    if (query.trim() !== '') {
      return data === null ? [] : [{ title: t('emoji.searchResults'), emoji: searchEmoji(data, query).map((e) => e.emoji) }];
    }
    const recent = recentEmoji(storage());
    const first: Section = recent.length > 0 ? { title: t('emoji.recent'), emoji: recent } : { title: t('emoji.frequent'), emoji: REACTION_EMOJI };
    if (data === null) return [first];
    const byGroup = new Map<string, string[]>();
    for (const e of data.list) {
      const group = groupName(e.group);
      if (group === '') continue;
      let list = byGroup.get(group);
      if (list === undefined) byGroup.set(group, (list = []));
      list.push(e.emoji);
    }
    return [first, ...[...byGroup].map(([title, emoji]) => ({ title, emoji }))];
  }, [query, data]);

  const flat = sections.flatMap((s) => s.emoji);
  const activeIndex = Math.min(active, Math.max(flat.length - 1, 0));

  function pick(emoji: string) {
    rememberEmoji(storage(), emoji);
    onPick(emoji);
    if (opener.current instanceof HTMLElement) opener.current.focus();
  }

  function focusAt(index: number) {
    const buttons = grid.current?.querySelectorAll<HTMLButtonElement>('.emoji-option');
    if (buttons === undefined || buttons.length === 0) return;
    const i = Math.max(0, Math.min(index, buttons.length - 1));
    setActive(i);
    buttons[i]?.focus();
  }

  /** The button above or below: the nearest in the next row up or down, by position on screen. */
  function vertical(from: number, down: boolean): number {
    const buttons = Array.from(grid.current?.querySelectorAll<HTMLButtonElement>('.emoji-option') ?? []);
    const here = buttons[from]?.getBoundingClientRect();
    if (here === undefined) return from;
    let best = from;
    let bestRow = Infinity;
    let bestDx = Infinity;
    buttons.forEach((b, i) => {
      const r = b.getBoundingClientRect();
      const dy = down ? r.top - here.top : here.top - r.top;
      if (dy < here.height / 2) return;
      const dx = Math.abs(r.left - here.left);
      if (dy < bestRow - 1 || (Math.abs(dy - bestRow) <= 1 && dx < bestDx)) {
        best = i;
        bestRow = dy;
        bestDx = dx;
      }
    });
    return best;
  }

  function onGridKey(e: KeyboardEvent) {
    const moves: Record<string, () => number> = {
      ArrowRight: () => activeIndex + 1,
      ArrowLeft: () => activeIndex - 1,
      ArrowDown: () => vertical(activeIndex, true),
      ArrowUp: () => vertical(activeIndex, false),
      Home: () => 0,
      End: () => flat.length - 1,
    };
    const move = moves[e.key];
    if (move === undefined) return;
    e.preventDefault();
    if (e.key === 'ArrowUp' && vertical(activeIndex, false) === activeIndex) {
      search.current?.focus();
      return;
    }
    focusAt(move());
  }

  let index = 0;
  return (
    <div
      ref={root}
      class={`emoji-picker${extra === undefined ? '' : ` ${extra}`}`}
      role="dialog"
      aria-label={label}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          close();
        }
      }}
    >
      <input
        ref={search}
        type="search"
        class="emoji-search"
        placeholder={t('emoji.search')}
        aria-label={t('emoji.search')}
        autocomplete="off"
        value={query}
        onInput={(e) => {
          setQuery(e.currentTarget.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            const first = flat[0];
            if (first !== undefined) pick(first);
          } else if (e.key === 'ArrowDown') {
            e.preventDefault();
            focusAt(activeIndex);
          }
        }}
      />
      <p class="visually-hidden" role="status">
        {data === null ? t('emoji.loading') : query.trim() !== '' ? t('emoji.found', { count: flat.length }) : ''}
      </p>
      <div class="emoji-scroll" ref={grid} onKeyDown={onGridKey}>
        {sections.map((section) => (
          <div key={section.title} class="emoji-section" role="group" aria-label={section.title}>
            <p class="emoji-section-title" aria-hidden="true">
              {section.title}
            </p>
            {section.emoji.length === 0 ? (
              <p class="muted emoji-empty">{t('emoji.none')}</p>
            ) : (
              <div class="emoji-grid">
                {section.emoji.map((emoji) => {
                  const i = index++;
                  const name = emojiLabel(emoji);
                  return (
                    <button
                      key={emoji}
                      type="button"
                      class="emoji-option"
                      tabIndex={i === activeIndex ? 0 : -1}
                      aria-label={action === undefined ? name : t('emoji.action', { action, name })}
                      title={name}
                      onFocus={() => setActive(i)}
                      onClick={() => pick(emoji)}
                    >
                      {emoji}
                    </button>
                  );
                })}
              </div>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}

/** The composer's emoji button: the picker inserts at the cursor. */
export function ComposerEmoji({ input, onText }: { input: RefObject<HTMLTextAreaElement | null>; onText: (text: string) => void }) {
  const [open, setOpen] = useState(false);
  function insert(emoji: string) {
    setOpen(false);
    const el = input.current;
    if (el === null) return;
    const start = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? start;
    const text = el.value.slice(0, start) + emoji + el.value.slice(end);
    onText(text);
    const caret = start + emoji.length;
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(caret, caret);
    });
  }
  return (
    <div class="composer-emoji">
      <button type="button" class="button button-secondary" aria-expanded={open} aria-label={t('emoji.insert')} title={t('emoji.insert')} onClick={() => setOpen(!open)}>
        <span aria-hidden="true">☺</span>
      </button>
      {open && <EmojiPicker label={t('emoji.insert')} class="emoji-picker-above" onPick={insert} onClose={() => setOpen(false)} />}
    </div>
  );
}
