import { describe, expect, it } from 'vitest';
import en from './locales/en.json';
import zh from './locales/zh-CN.json';

// Every catalogue must answer every key the code asks for, with the same
// placeholders, and with the plural forms its language's rules select.

type Tree = { [key: string]: string | Tree };

/** Flattens nested keys to `a.b.c` → text. */
function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const PLURAL = /_(zero|one|two|few|many|other)$/;

/** Keys as the code names them: plural suffixes removed. */
function baseKeys(flat: Map<string, string>): Set<string> {
  return new Set([...flat.keys()].map((key) => key.replace(PLURAL, '')));
}

/** The plural suffixes present for a base key. */
function forms(flat: Map<string, string>, base: string): string[] {
  return [...flat.keys()]
    .filter((key) => key.replace(PLURAL, '') === base && PLURAL.test(key))
    .map((key) => PLURAL.exec(key)?.[1] ?? '')
    .sort();
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1] ?? ''))].sort();
}

/** The forms CLDR's rules select for a language's cardinal numbers. */
function requiredForms(locale: string): string[] {
  return [...new Intl.PluralRules(locale).resolvedOptions().pluralCategories].sort();
}

const catalogues = { en: flatten(en as Tree), 'zh-CN': flatten(zh as Tree) };

describe('catalogues', () => {
  it('have the same keys', () => {
    const english = [...baseKeys(catalogues.en)].sort();
    expect([...baseKeys(catalogues['zh-CN'])].sort()).toEqual(english);
  });

  it('use the same placeholders in every form of a key', () => {
    for (const base of baseKeys(catalogues.en)) {
      const expected = new Set<string>();
      for (const [locale, flat] of Object.entries(catalogues)) {
        const texts = [...flat.entries()].filter(([key]) => key === base || key.replace(PLURAL, '') === base).map(([, text]) => text);
        for (const text of texts) {
          // `count` may be left out of a form that says it in words ("one").
          const found = placeholders(text).filter((name) => name !== 'count');
          if (expected.size === 0) for (const name of found) expected.add(name);
          expect(found, `${locale} ${base}: "${text}"`).toEqual([...expected].sort());
        }
      }
    }
  });

  it("give each plural key exactly the forms its language's rules need", () => {
    for (const [locale, flat] of Object.entries(catalogues)) {
      const needed = requiredForms(locale);
      const plurals = new Set([...flat.keys()].filter((key) => PLURAL.test(key)).map((key) => key.replace(PLURAL, '')));
      for (const base of plurals) expect(forms(flat, base), `${locale} ${base}`).toEqual(needed);
    }
  });

  it('treat the same keys as plurals in both languages', () => {
    const plural = (flat: Map<string, string>) => [...new Set([...flat.keys()].filter((key) => PLURAL.test(key)).map((key) => key.replace(PLURAL, '')))].sort();
    expect(plural(catalogues['zh-CN'])).toEqual(plural(catalogues.en));
  });

  it('have no empty messages', () => {
    for (const [locale, flat] of Object.entries(catalogues)) {
      for (const [key, text] of flat) expect(text.trim(), `${locale} ${key}`).not.toBe('');
    }
  });

  it('leave no Latin words untranslated in Chinese beyond names and technical terms', () => {
    // Names and terms kept as they are in Chinese product text.
    const kept = /\b(Securechat|HTTP|https?|URL|Ctrl|Cmd|Alt|Shift|Enter|Esc|Escape|Tab|Markdown|QR|ID|DM|E2EE|emoji|Emoji|PNG|JPEG|KB|MB|GB|Web|Webhook)\b/g;
    // The search's query language is typed as it is in every language: `has:file`, `from:alice`, `before:YYYY-MM-DD`.
    const querySyntax = /\b(has|from|in|before|after):\S*|YYYY-MM-DD/g;
    // Mentions are typed as they are in every language too: `@channel`, `@here`.
    const mentionSyntax = /@[\w.-]+/g;
    // Commands too: `/remind me in 10 minutes to …`.
    const commandSyntax = /\/remind me (in \d+ minutes|at \d{1,2}:\d{2})( to)?|\/[a-z]+/g;
    for (const [key, text] of catalogues['zh-CN']) {
      const rest = text.replace(/\{\{[^}]*\}\}/g, '').replace(querySyntax, '').replace(mentionSyntax, '').replace(commandSyntax, '').replace(kept, '');
      expect(rest, `zh-CN ${key}: "${text}"`).not.toMatch(/[A-Za-z]{2,}/);
    }
  });
});
