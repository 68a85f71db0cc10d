// What the service worker needs from the page and cannot read itself (it
// has no localStorage): the language the person chose. Kept in an IndexedDB
// database of its own, written by the page, read by the worker.

import { KeyValue } from '../e2ee/kv.ts';
import { isLanguage, type Language } from '../i18n/language.ts';

const DB = 'securechat-push';
const LANGUAGE = 'language';

/** Remembers the UI's language for the worker's notifications. */
export async function rememberLanguage(lang: Language): Promise<void> {
  const store = await KeyValue.open(DB);
  try {
    await store.put(LANGUAGE, lang);
  } finally {
    store.close();
  }
}

/** The language the page last used, or null (the worker then follows the browser's). */
export async function rememberedLanguage(): Promise<Language | null> {
  const store = await KeyValue.openExisting(DB);
  if (store === null) return null;
  try {
    const value = await store.get<unknown>(LANGUAGE);
    return isLanguage(value) ? value : null;
  } finally {
    store.close();
  }
}
