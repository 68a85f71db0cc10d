import { describe, expect, it } from 'vitest';
import { detectLanguage, formatLocale, matchLanguage } from './language.ts';

describe('detectLanguage', () => {
  it('keeps a stored choice', () => {
    expect(detectLanguage('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(detectLanguage('en', ['zh-CN'])).toBe('en');
  });

  it("follows the browser's first shipped preference without one", () => {
    expect(detectLanguage(null, ['fr-FR', 'zh-CN', 'en'])).toBe('zh-CN');
    expect(detectLanguage(null, ['de', 'en-GB', 'zh'])).toBe('en');
    expect(detectLanguage('klingon', ['zh-Hans-CN'])).toBe('zh-CN');
  });

  it('falls back to English', () => {
    expect(detectLanguage(null, ['fr', 'de'])).toBe('en');
    expect(detectLanguage(null, [])).toBe('en');
  });
});

describe('matchLanguage', () => {
  it('maps every Chinese tag to Simplified Chinese', () => {
    expect(matchLanguage('zh-TW')).toBe('zh-CN');
    expect(matchLanguage('ZH')).toBe('zh-CN');
    expect(matchLanguage('ja')).toBeNull();
  });
});

describe('formatLocale', () => {
  it("uses the browser's own tag for the same language", () => {
    expect(formatLocale('en', ['en-GB', 'zh-CN'])).toBe('en-GB');
    expect(formatLocale('zh-CN', ['en-US', 'zh-SG'])).toBe('zh-SG');
  });

  it("uses the UI's language when the browser prefers another", () => {
    expect(formatLocale('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(formatLocale('en', ['zh-CN'])).toBe('en');
  });

  it('does not mix Traditional script into the Simplified UI', () => {
    expect(formatLocale('zh-CN', ['zh-TW'])).toBe('zh-CN');
  });
});
