// The worker's translations: only the catalogues' `push` section, in the
// language the page last used (push/prefs.ts), else the browser's. The
// worker cannot load the page's catalogue chunks (a service worker may not
// import modules on demand), so both sections are built in.

import i18next, { type TFunction } from 'i18next';
import * as enCatalogue from '../i18n/locales/en.json';
import * as zhCatalogue from '../i18n/locales/zh-CN.json';
import { detectLanguage } from '../i18n/language.ts';
import { rememberedLanguage } from '../push/prefs.ts';
import type { Translate } from '../push/content.ts';

const i18n = i18next.createInstance();
void i18n.init({
  lng: 'en',
  fallbackLng: 'en',
  resources: { en: { translation: { push: enCatalogue.push } }, 'zh-CN': { translation: { push: zhCatalogue.push } } },
  // Notifications are text, never markup.
  interpolation: { escapeValue: false },
  initAsync: false,
});

/** The translate function in the person's language. */
export async function translator(): Promise<Translate> {
  const lang = (await rememberedLanguage().catch(() => null)) ?? detectLanguage(null, self.navigator.languages);
  const t: TFunction = i18n.getFixedT(lang);
  return (key, values) => String(t(key as never, values as never));
}
