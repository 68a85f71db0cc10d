import compact from 'emojibase-data/en/compact.json';
import github from 'emojibase-data/en/shortcodes/github.json';
import { describe, expect, it } from 'vitest';
import { buildEmojiData, hasShortcode, RECENT_KEY, RECENT_MAX, recentEmoji, rememberEmoji, replaceShortcodes, searchEmoji, type CompactEmoji, type ShortcodeFile } from './emoji.ts';

const data = buildEmojiData(compact as readonly CompactEmoji[], github as ShortcodeFile);

function memoryStorage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  };
}

describe('the emoji catalogue', () => {
  it('holds the emoji in order, with names and shortcodes, and no skin-tone components', () => {
    expect(data.list.length).toBeGreaterThan(1500);
    expect(data.list[0]?.emoji).toBe('😀');
    expect(data.byShortcode.get('+1')).toBe('👍');
    expect(data.byShortcode.get('tada')).toBe('🎉');
    expect(data.byShortcode.get('heart')).toBe('❤️');
    expect(data.names.get('👍')).toBe('thumbs up');
    expect(data.list.some((e) => e.label.startsWith('regional indicator') || e.label.includes('skin tone'))).toBe(false);
  });

  it('searches by shortcode, name and tag, best match first', () => {
    expect(searchEmoji(data, 'tada')[0]?.emoji).toBe('🎉');
    expect(searchEmoji(data, ':tad')[0]?.emoji).toBe('🎉');
    expect(searchEmoji(data, 'thumbs up')[0]?.emoji).toBe('👍');
    expect(searchEmoji(data, 'pizza').map((e) => e.emoji)).toContain('🍕');
    expect(searchEmoji(data, 'zzqqx')).toEqual([]);
    expect(searchEmoji(data, '   ')).toEqual([]);
    expect(searchEmoji(data, 'a', 5)).toHaveLength(5);
  });
});

describe('shortcodes', () => {
  it('replaces known shortcodes and leaves unknown ones, times and code', () => {
    expect(replaceShortcodes('ship it :tada: :+1: :HEART:', data.byShortcode)).toBe('ship it 🎉 👍 ❤️');
    expect(replaceShortcodes(':nonexistent_code: at 12:30:45', data.byShortcode)).toBe(':nonexistent_code: at 12:30:45');
    expect(replaceShortcodes('`:tada:` and\n```\n:tada:\n```\n:tada:', data.byShortcode)).toBe('`:tada:` and\n```\n:tada:\n```\n🎉');
    expect(replaceShortcodes('a:tada: b', data.byShortcode)).toBe('a:tada: b');
  });

  it('tells whether text may hold a shortcode', () => {
    expect(hasShortcode('hi :smile:')).toBe(true);
    expect(hasShortcode('hi :smile')).toBe(false);
    expect(hasShortcode('`:smile:`')).toBe(false);
  });
});

describe('recently used', () => {
  it('keeps the newest first, without repeats, at most RECENT_MAX', () => {
    const storage = memoryStorage();
    expect(recentEmoji(storage)).toEqual([]);
    rememberEmoji(storage, '👍');
    rememberEmoji(storage, '🎉');
    expect(rememberEmoji(storage, '👍')).toEqual(['👍', '🎉']);
    expect(recentEmoji(storage)).toEqual(['👍', '🎉']);
    for (let i = 0; i < 40; i += 1) rememberEmoji(storage, String.fromCodePoint(0x1f600 + i));
    expect(recentEmoji(storage)).toHaveLength(RECENT_MAX);
  });

  it('survives broken or missing storage', () => {
    expect(recentEmoji(memoryStorage({ [RECENT_KEY]: '{not json' }))).toEqual([]);
    expect(recentEmoji(memoryStorage({ [RECENT_KEY]: '[1, "👍", ""]' }))).toEqual(['👍']);
    expect(recentEmoji(null)).toEqual([]);
    expect(rememberEmoji(null, '👍')).toEqual(['👍']);
  });
});
