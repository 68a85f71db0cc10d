// Which language the UI speaks: the person's choice, kept in this browser,
// or else the first of the browser's preferred languages that the UI ships.
// Pure functions only, so the rule is unit-tested without a DOM.

/** The languages the UI ships, each with a catalogue in `locales/`. */
export const LANGUAGES = ['en', 'zh-CN'] as const;

export type Language = (typeof LANGUAGES)[number];

/**
 * Each language's name in itself, as a language picker shows it: someone
 * who cannot read the current language still finds their own.
 */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = {
  en: 'English',
  'zh-CN': '简体中文',
};

/** localStorage key of an explicit choice. */
export const LANGUAGE_KEY = 'securechat.language';

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * Maps a BCP 47 tag from `navigator.languages` to a shipped language, or
 * null. Every Chinese tag gets Simplified Chinese, the only Chinese shipped:
 * for a reader of Traditional Chinese it is closer than English.
 */
export function matchLanguage(tag: string): Language | null {
  const base = tag.toLowerCase().split('-')[0];
  if (base === 'zh') return 'zh-CN';
  if (base === 'en') return 'en';
  return null;
}

/** The stored choice if it is valid, else the browser's first shipped preference, else English. */
export function detectLanguage(stored: string | null, preferred: readonly string[]): Language {
  if (isLanguage(stored)) return stored;
  for (const tag of preferred) {
    const match = matchLanguage(tag);
    if (match !== null) return match;
  }
  return 'en';
}

/**
 * The locale for dates, times and numbers: the browser's own tag when it is
 * of the UI's language (so en-GB keeps its 24-hour clock under English),
 * else the UI's language itself (so Chinese UI shows Chinese dates even in
 * a browser set to English).
 */
export function formatLocale(language: Language, preferred: readonly string[]): string {
  for (const tag of preferred) {
    if (matchLanguage(tag) !== language) continue;
    // A Traditional-script tag would mix scripts with the Simplified UI.
    if (language === 'zh-CN' && !/^zh(-hans)?(-(cn|sg|my))?$/i.test(tag)) continue;
    return tag;
  }
  return language;
}
