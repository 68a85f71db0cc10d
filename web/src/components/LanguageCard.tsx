import { useState } from 'preact/hooks';
import { describeError } from '../api/errors.ts';
import { isLanguage } from '../i18n/language.ts';
import { language, LANGUAGE_NAMES, LANGUAGES, setLanguage, t } from '../i18n/index.ts';
import { Alert } from './Alert.tsx';

/**
 * The Account page's language picker. The choice applies at once (the
 * other language's catalogue is fetched first) and is kept in this browser;
 * each option is written in its own language, so it can be found from any.
 */
export function LanguageCard() {
  const [error, setError] = useState<string | null>(null);
  const choose = (value: string) => {
    if (!isLanguage(value)) return;
    setError(null);
    setLanguage(value).catch((err: unknown) => setError(describeError(err)));
  };
  return (
    <section class="card" aria-labelledby="language-title">
      <h2 id="language-title">{t('language.title')}</h2>
      <div class="field">
        <label for="language-choice">{t('language.label')}</label>
        <select id="language-choice" value={language.value} aria-describedby="language-hint" onChange={(e) => choose(e.currentTarget.value)}>
          {LANGUAGES.map((code) => (
            <option key={code} value={code} lang={code}>
              {LANGUAGE_NAMES[code]}
            </option>
          ))}
        </select>
        <p id="language-hint" class="field-hint">
          {t('language.hint')}
        </p>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
    </section>
  );
}
