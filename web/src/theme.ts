// The colour theme: light, dark, or the system's (prefers-color-scheme).
// Imported first by main.tsx, so the choice is on <html> before first paint
// (the CSP allows no inline script in index.html).

import { signal } from '@preact/signals';

export type Theme = 'light' | 'dark' | 'system';

const KEY = 'securechat.theme';

function stored(): Theme {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

/** The chosen theme. */
export const theme = signal<Theme>(stored());

/** Sets data-theme on <html>: styles.css reads it; without it the system decides. */
function apply(value: Theme): void {
  if (value === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = value;
}

/** Chooses a theme, applies it and remembers it in this browser. */
export function setTheme(value: Theme): void {
  theme.value = value;
  apply(value);
  try {
    if (value === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, value);
  } catch {
    // Storage may be unavailable (private mode): the choice lasts this page.
  }
}

apply(theme.value);
