// A WAI-ARIA toolbar: its buttons are one tab stop, Left/Right (and
// Home/End) move between them, and it remembers the last one used.

import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { useRovingFocus, type RovingOptions } from './useRovingFocus.ts';
import './keyboard.css';

const TOOLBAR: RovingOptions = { items: 'button, a[href]', orientation: 'horizontal' };

/**
 * Lays out as if its buttons were its parent's own children (`display:
 * contents`), so wrapping a row of buttons in it changes only the keyboard.
 */
export function RovingToolbar({ label, children }: { label: string; children: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useRovingFocus(ref, TOOLBAR);
  return (
    <div ref={ref} class="roving-toolbar" role="toolbar" aria-label={label}>
      {children}
    </div>
  );
}
