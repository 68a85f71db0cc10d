// Web Push in the page, started once by main.tsx: the `viewing` reports,
// opening a message from a notification's click, the language the worker
// writes notifications in, and this browser's push state.

import { effect } from '@preact/signals';
import { language } from '../i18n/index.ts';
import { refreshPushState } from './client.ts';
import { startOpening } from './open.ts';
import { rememberLanguage } from './prefs.ts';
import { startViewing } from './viewing.ts';

export function startPushClient(): void {
  startViewing();
  startOpening();
  effect(() => {
    const lang = language.value;
    if (typeof indexedDB !== 'undefined') void rememberLanguage(lang).catch(() => undefined);
  });
  void refreshPushState().catch(() => undefined);
}
