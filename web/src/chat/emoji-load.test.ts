import { describe, expect, it } from 'vitest';
import { emojiData, expandShortcodes, withShortcodes } from './emoji-load.ts';

describe('withShortcodes', () => {
  it('delivers at once when there is no shortcode, and in call order while the catalogue loads', async () => {
    const delivered: string[] = [];
    withShortcodes('plain', (t) => delivered.push(t));
    expect(delivered).toEqual(['plain']);
    expect(emojiData.value).toBeNull();

    withShortcodes('first :tada:', (t) => delivered.push(t));
    withShortcodes('second, no shortcode', (t) => delivered.push(t));
    expect(delivered).toEqual(['plain']);
    expect(await expandShortcodes('third :+1: `:+1:`')).toBe('third 👍 `:+1:`');
    expect(delivered).toEqual(['plain', 'first 🎉', 'second, no shortcode']);

    // Loaded, and nothing waiting any more: at once.
    await new Promise((resolve) => setTimeout(resolve, 0));
    withShortcodes('now :rocket:', (t) => delivered.push(t));
    expect(delivered.at(-1)).toBe('now 🚀');
  });
});
