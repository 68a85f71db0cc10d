// Whether the search panel is open, and with what text: opened by `/`, by
// the quick switcher's "Search messages for …" entry, closed by its button
// or Escape.

import { signal } from '@preact/signals';

/** The open panel's starting text; `seq` makes a second open with the same text still refill and focus the box. */
export const searchPanel = signal<{ query: string; seq: number } | null>(null);
let seq = 0;

export function openSearch(query = ''): void {
  searchPanel.value = { query, seq: ++seq };
}

export function closeSearch(): void {
  searchPanel.value = null;
}
