// Loads the emoji catalogue on demand: the data is a chunk of its own
// (about 100 KB gzip), fetched the first time the picker opens or the
// composer's text has a `:shortcode:`, never with the main bundle. The names
// (labels, search) are in the UI's language; the `:shortcodes:` are GitHub's
// in every language, since they are typed like code.

import { signal } from '@preact/signals';
import { language, type Language } from '../i18n/index.ts';
import { buildEmojiData, hasShortcode, replaceShortcodes, type CompactEmoji, type EmojiData, type ShortcodeFile } from './emoji.ts';

/** The catalogue once loaded (views re-render when it arrives). */
export const emojiData = signal<EmojiData | null>(null);

let loading: Promise<EmojiData> | null = null;
/** The language whose names `loading` brings. */
let loadingFor: Language | null = null;

/** The emoji names of a language, each a chunk of its own. */
function compactFor(lang: Language): Promise<{ default: unknown }> {
  return lang === 'zh-CN' ? import('emojibase-data/zh/compact.json') : import('emojibase-data/en/compact.json');
}

/** Loads the catalogue, again if the language changed since it was loaded. */
export function loadEmojiData(): Promise<EmojiData> {
  const lang = language.value;
  if (loading !== null && loadingFor === lang) return loading;
  loadingFor = lang;
  const mine: Promise<EmojiData> = Promise.all([compactFor(lang), import('emojibase-data/en/shortcodes/github.json')]).then(
    ([compact, shortcodes]) => {
      const data = buildEmojiData(compact.default as readonly CompactEmoji[], shortcodes.default as ShortcodeFile);
      if (loading === mine) emojiData.value = data;
      return data;
    },
    (err: unknown) => {
      if (loading === mine) loading = null;
      throw err;
    },
  );
  loading = mine;
  return mine;
}

let queue: Promise<void> | null = null;

/**
 * Hands `deliver` the text with its `:shortcodes:` replaced. At once when the
 * catalogue is loaded or the text has no shortcode; otherwise after loading
 * it (a failed load delivers the text as typed). Deliveries keep the order
 * of the calls, so a message never overtakes an earlier one waiting here.
 */
export function withShortcodes(text: string, deliver: (text: string) => void): void {
  const loaded = emojiData.value;
  if (queue === null && (loaded !== null || !hasShortcode(text))) {
    deliver(loaded === null ? text : replaceShortcodes(text, loaded.byShortcode));
    return;
  }
  const mine = (queue ?? Promise.resolve()).then(async () => {
    const data = hasShortcode(text) ? await loadEmojiData().catch(() => null) : emojiData.value;
    deliver(data === null ? text : replaceShortcodes(text, data.byShortcode));
  });
  queue = mine;
  void mine.finally(() => {
    if (queue === mine) queue = null;
  });
}

/** Starts loading when typed text may hold a shortcode, so sending need not wait. */
export function preloadForText(text: string): void {
  if (emojiData.value === null && /(^|[^\w:]):[a-z0-9_+-]{2,}/i.test(text)) void loadEmojiData().catch(() => undefined);
}

/** `withShortcodes` as a promise, for an edit that is saved with await. */
export function expandShortcodes(text: string): Promise<string> {
  return new Promise((resolve) => withShortcodes(text, resolve));
}
