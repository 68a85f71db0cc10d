// A message's actions (Reply, React, Edit, Delete) behind its "⋯" button:
// a WAI-ARIA APG menu button. The button says it opens a menu and whether
// it is open; in the menu Up/Down (wrapping), Home/End and the first letter
// move, Enter or Space chooses, Escape closes it and gives the focus back to
// the button, and Tab closes it and goes on. The message opens the same menu
// from the keyboard (Enter on the focused message) and on touch screens by
// holding a finger on it (`useLongPress`).

import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import './message-actions.css';
import { t } from '../../i18n/index.ts';

export interface MessageAction {
  label: string;
  run: () => void;
  /** Left out when the action is not offered (Edit under an earlier key). */
  shown?: boolean;
}

interface Props {
  messageId: number;
  actions: readonly MessageAction[];
  open: boolean;
  onOpenChange: (open: boolean) => void;
}

/** How long a finger rests on a message before its menu opens. */
export const LONG_PRESS_MS = 500;
/** A finger that moves farther than this is scrolling, not holding. */
const MOVE_TOLERANCE_PX = 10;

export function MessageActions({ messageId, actions, open, onOpenChange }: Props) {
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const shown = actions.filter((a) => a.shown !== false);
  const menuId = `message-menu-${messageId}`;
  const buttonId = `message-more-${messageId}`;

  const items = () => Array.from(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);

  // Opening puts the focus on the first item, as the menu appears (a key
  // pressed right after goes to the menu).
  useLayoutEffect(() => {
    if (!open) return;
    items()[0]?.focus({ preventScroll: true });
    // Near the bottom of the list the menu would open below the visible part.
    menu.current?.scrollIntoView({ block: 'nearest' });
  }, [open]);

  // A click or tap elsewhere closes it.
  useEffect(() => {
    if (!open) return;
    const outside = (e: PointerEvent) => {
      const target = e.target as Node | null;
      if (target !== null && menu.current?.contains(target) !== true && button.current?.contains(target) !== true) onOpenChange(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  function closeToButton() {
    onOpenChange(false);
    button.current?.focus();
  }

  function choose(action: MessageAction) {
    // The focus goes back to the button first, so an action that opens
    // something (a dialog, the picker) gives it back to a place that exists.
    closeToButton();
    action.run();
  }

  function onMenuKeyDown(e: KeyboardEvent) {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    let to: HTMLElement | undefined;
    if (e.key === 'ArrowDown') to = all[(at + 1) % all.length];
    else if (e.key === 'ArrowUp') to = all[(at - 1 + all.length) % all.length];
    else if (e.key === 'Home') to = all[0];
    else if (e.key === 'End') to = all.at(-1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      closeToButton();
      return;
    } else if (e.key === 'Tab') {
      onOpenChange(false);
      return;
    } else if (e.key.length === 1 && /\S/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      // Type-ahead: the next item starting with that letter.
      const letter = e.key.toLowerCase();
      const order = [...all.slice(at + 1), ...all.slice(0, at + 1)];
      to = order.find((item) => item.textContent?.trim().toLowerCase().startsWith(letter) === true);
      if (to === undefined) return;
    } else return;
    e.preventDefault();
    e.stopPropagation();
    to?.focus();
  }

  return (
    <>
      <button
        ref={button}
        id={buttonId}
        type="button"
        class="icon-button message-more"
        tabIndex={-1}
        aria-label={t('messageActions.label')}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => onOpenChange(!open)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            e.stopPropagation();
            onOpenChange(true);
          }
        }}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <div ref={menu} id={menuId} class="message-menu" role="menu" aria-labelledby={buttonId} onKeyDown={onMenuKeyDown}>
          {shown.map((action) => (
            <button key={action.label} type="button" role="menuitem" tabIndex={-1} class="message-menu-item" onClick={() => choose(action)}>
              {action.label}
            </button>
          ))}
        </div>
      )}
    </>
  );
}

/**
 * Opens a message's menu when a finger rests on it for `LONG_PRESS_MS`
 * without moving (a moving finger scrolls the list instead). Returns the
 * handlers for the message's element.
 */
export function useLongPress(onLongPress: () => void) {
  const timer = useRef<number | null>(null);
  const start = useRef<{ x: number; y: number; at: number } | null>(null);
  const fired = useRef(false);

  function fire() {
    cancel();
    fired.current = true;
    onLongPress();
  }

  function cancel() {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = null;
    start.current = null;
  }

  useEffect(() => cancel, []);

  return {
    onPointerDown(e: PointerEvent) {
      if (e.pointerType !== 'touch' || (e.target as HTMLElement).closest('button, a, textarea, input, [role="menu"]') !== null) return;
      cancel();
      fired.current = false;
      start.current = { x: e.clientX, y: e.clientY, at: e.timeStamp };
      timer.current = window.setTimeout(fire, LONG_PRESS_MS);
    },
    onPointerMove(e: PointerEvent) {
      const from = start.current;
      if (from !== null && Math.hypot(e.clientX - from.x, e.clientY - from.y) > MOVE_TOLERANCE_PX) cancel();
    },
    onPointerUp(e: PointerEvent) {
      // A busy page may see the finger lifted before its timer ran: the event's own time says how long it was held.
      const from = start.current;
      if (timer.current !== null && from !== null && e.timeStamp - from.at >= LONG_PRESS_MS) fire();
      else cancel();
    },
    onPointerCancel: cancel,
    // The browser's own long-press menu (copy, select) would cover ours.
    onContextMenu(e: MouseEvent) {
      if (fired.current || timer.current !== null) e.preventDefault();
    },
  };
}
