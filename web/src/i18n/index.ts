// The UI's messages and their language, through i18next.
//
// English is bundled (it is also every missing key's fallback); any other
// catalogue is a chunk of its own, imported on demand, so English readers do
// not download it. `t()` reads the `language` signal, so every component
// that renders a message re-renders when the language changes: switching
// needs no reload.

import { signal } from '@preact/signals';
import i18next, { type TFunction } from 'i18next';
import en from './locales/en.json';
import { detectLanguage, formatLocale, LANGUAGE_KEY, type Language } from './language.ts';

export { LANGUAGE_NAMES, LANGUAGES, type Language } from './language.ts';

declare module 'i18next' {
  interface CustomTypeOptions {
    resources: { translation: typeof en };
    returnNull: false;
  }
}

const i18n = i18next.createInstance();
void i18n.init({
  lng: 'en',
  fallbackLng: 'en',
  resources: { en: { translation: en } },
  // Preact escapes text; escaping here too would show &amp; and the like.
  interpolation: { escapeValue: false },
  initAsync: false,
  returnNull: false,
});

/** Catalogues other than English, each loaded the first time it is needed. */
const CATALOGUES: Readonly<Record<Exclude<Language, 'en'>, () => Promise<{ default: unknown }>>> = {
  'zh-CN': () => import('./locales/zh-CN.json'),
};

/** The language the UI shows now. */
export const language = signal<Language>('en');

/**
 * Translates a catalogue key, with `{{name}}` interpolation and plurals
 * (`count`, under CLDR's rules for the language: `_one`/`_other` in
 * English, only `_other` in Chinese). Reading `language` makes the caller's
 * component re-render on a change of language.
 */
export const t: TFunction = ((...args: unknown[]): unknown => {
  void language.value;
  return (i18n.t as unknown as (...a: unknown[]) => unknown)(...args);
}) as unknown as TFunction;

function preferred(): readonly string[] {
  return typeof navigator === 'undefined' ? [] : navigator.languages;
}

/** The locale tag for `Intl` formatters: see `formatLocale`. */
export function intlLocale(): string {
  return formatLocale(language.value, preferred());
}

async function load(lang: Language): Promise<void> {
  if (lang === 'en' || i18n.hasResourceBundle(lang, 'translation')) return;
  const catalogue = await CATALOGUES[lang]();
  i18n.addResourceBundle(lang, 'translation', catalogue.default);
}

/** Shows the UI in `lang` (loading its catalogue first) and keeps `<html lang>` in step. */
async function apply(lang: Language): Promise<void> {
  await load(lang);
  await i18n.changeLanguage(lang);
  language.value = lang;
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

/** A person's choice of language: applied at once and remembered in this browser. */
export async function setLanguage(lang: Language): Promise<void> {
  await apply(lang);
  try {
    localStorage.setItem(LANGUAGE_KEY, lang);
  } catch {
    // Storage may be unavailable (private mode): the choice lasts this page.
  }
}

function storedChoice(): string | null {
  try {
    return localStorage.getItem(LANGUAGE_KEY);
  } catch {
    return null;
  }
}

/**
 * Chooses the starting language and loads its catalogue; main.tsx renders
 * after this, so a Chinese reader never sees an English first frame. If
 * the catalogue cannot be loaded the UI stays in English.
 */
export async function startI18n(): Promise<void> {
  try {
    await apply(detectLanguage(storedChoice(), preferred()));
  } catch {
    await apply('en');
  }
}
