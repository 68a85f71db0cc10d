// Roving tab stops (WAI-ARIA APG, "Keyboard navigation inside components"):
// a group of controls is one stop in the Tab order, and the arrow keys move
// the focus inside it. The sidebar, the channel's toolbar and the message
// list each use it, so the composer is a handful of Tab presses from the top
// of the page however many channels and messages there are.

import type { RefObject } from 'preact';
import { useEffect } from 'preact/hooks';

const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]';
/** Marks a descendant whose tab stop this hook took away (and gives back). */
const MUTED = 'data-roving-muted';

export interface RovingOptions {
  /** Which elements of the container are the group's items. */
  items: string;
  /** Which arrow keys move: Up/Down, Left/Right, or both. */
  orientation: 'vertical' | 'horizontal' | 'both';
  /** The item to start on when none was focused yet (default: the first). */
  initial?: (items: readonly HTMLElement[]) => HTMLElement | undefined;
  /**
   * Forget the last focused item when the focus leaves the group, so the
   * next Tab lands on `initial` again (the current channel, the newest
   * message) rather than where the reader last was.
   */
  resetOnLeave?: boolean;
  /**
   * An item's own controls (a message's links and reaction chips) are tab
   * stops only in the current item; in every other item they are reached
   * by moving to it first.
   */
  muteInside?: boolean;
  /** Page Up/Down move by this many items (default: 1, the APG feed pattern). */
  pageStep?: number;
}

function visible(el: HTMLElement): boolean {
  return el.getClientRects().length > 0 && !el.closest('dialog') && !(el as HTMLButtonElement).disabled;
}

/**
 * Keeps exactly one item of `container` in the Tab order: the last one
 * focused, else `initial`. The group follows re-renders (a
 * MutationObserver), and when the focused item disappears (a pending
 * message becoming a sent one, a channel list refreshed) the focus moves to
 * the group's new current item instead of falling to the page.
 */
export function useRovingFocus(container: RefObject<HTMLElement | null>, options: RovingOptions): void {
  const { items: selector, orientation, initial, resetOnLeave = false, muteInside = false, pageStep = 1 } = options;

  useEffect(() => {
    const root = container.current;
    if (root === null) return;
    let current: HTMLElement | null = null;
    let focusInside = false;

    const list = (): HTMLElement[] => Array.from(root.querySelectorAll<HTMLElement>(selector)).filter(visible);

    /** The current item (exactly one gets tabindex 0), and tab stops inside items. */
    function apply(): HTMLElement | undefined {
      const all = list();
      if (current !== null && !all.includes(current)) current = null;
      const active = current ?? initial?.(all) ?? all[0];
      for (const item of all) item.tabIndex = item === active ? 0 : -1;
      if (muteInside) {
        for (const item of all) {
          for (const inner of Array.from(item.querySelectorAll<HTMLElement>(FOCUSABLE))) {
            if (inner === item || inner.matches(selector)) continue;
            const muted = inner.hasAttribute(MUTED);
            if (item === active && muted) {
              inner.removeAttribute(MUTED);
              inner.removeAttribute('tabindex');
            } else if (item !== active && !muted && !inner.hasAttribute('tabindex')) {
              inner.setAttribute(MUTED, '');
              inner.tabIndex = -1;
            }
          }
        }
      }
      return active;
    }

    function move(to: HTMLElement | undefined) {
      if (to === undefined) return;
      current = to;
      apply();
      to.focus();
      to.scrollIntoView({ block: 'nearest' });
    }

    function onKeyDown(e: KeyboardEvent) {
      if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || e.defaultPrevented) return;
      const target = e.target as HTMLElement;
      const all = list();
      const at = all.indexOf(target);
      if (at < 0) return;
      const back = orientation === 'horizontal' ? ['ArrowLeft'] : orientation === 'vertical' ? ['ArrowUp'] : ['ArrowUp', 'ArrowLeft'];
      const forward = orientation === 'horizontal' ? ['ArrowRight'] : orientation === 'vertical' ? ['ArrowDown'] : ['ArrowDown', 'ArrowRight'];
      let to: HTMLElement | undefined;
      if (back.includes(e.key)) to = all[Math.max(0, at - 1)];
      else if (forward.includes(e.key)) to = all[Math.min(all.length - 1, at + 1)];
      else if (e.key === 'Home') to = all[0];
      else if (e.key === 'End') to = all.at(-1);
      else if (e.key === 'PageUp' && orientation !== 'horizontal') to = all[Math.max(0, at - pageStep)];
      else if (e.key === 'PageDown' && orientation !== 'horizontal') to = all[Math.min(all.length - 1, at + pageStep)];
      else return;
      e.preventDefault();
      move(to);
    }

    function onFocusIn(e: FocusEvent) {
      focusInside = true;
      const item = (e.target as HTMLElement).closest<HTMLElement>(selector);
      if (item !== null && root?.contains(item) === true && item !== current) {
        current = item;
        apply();
      }
    }

    function leave() {
      focusInside = false;
      if (resetOnLeave) {
        current = null;
        apply();
      }
    }

    function onFocusOut(e: FocusEvent) {
      const next = e.relatedTarget;
      if (next instanceof Node && root?.contains(next) === true) return;
      const from = e.target as Node;
      // A focused element being removed is no leaving: the observer puts the focus back.
      if (next === null) queueMicrotask(() => from.isConnected && leave());
      else leave();
    }

    // Re-renders add and remove items; a focused item removed takes the focus with it.
    const observer = new MutationObserver(() => {
      const active = apply();
      const lost = document.activeElement === null || document.activeElement === document.body;
      if (focusInside && lost && active !== undefined) active.focus({ preventScroll: true });
    });
    observer.observe(root, { childList: true, subtree: true });
    root.addEventListener('keydown', onKeyDown);
    root.addEventListener('focusin', onFocusIn);
    root.addEventListener('focusout', onFocusOut);
    apply();
    return () => {
      observer.disconnect();
      root.removeEventListener('keydown', onKeyDown);
      root.removeEventListener('focusin', onFocusIn);
      root.removeEventListener('focusout', onFocusOut);
    };
  }, [container, selector, orientation, initial, resetOnLeave, muteInside, pageStep]);
}
