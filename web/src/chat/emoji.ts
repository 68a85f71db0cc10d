// Emoji: the catalogue (from `emojibase-data`, loaded on demand as its own
// chunk), search, `:shortcode:` replacement and the recently used list.
//
// Shortcodes are replaced in the text before it is sent, so every reader
// (other clients, encrypted channels, notifications) gets the Unicode
// character. Code spans and code blocks are left alone.

export interface Emoji {
  emoji: string;
  /** CLDR name, e.g. "thumbs up". */
  label: string;
  /** emojibase's group number (0 smileys and emotion … 9 flags). */
  group: number;
  /** GitHub-style shortcodes, without colons, e.g. ["+1", "thumbsup"]. */
  shortcodes: readonly string[];
  tags: readonly string[];
}

export interface EmojiData {
  /** In the standard order, without components (skin tones) and regional indicators. */
  list: readonly Emoji[];
  /** Shortcode (lower case, no colons) to emoji. */
  byShortcode: ReadonlyMap<string, string>;
  /** Emoji to its name, for labels. */
  names: ReadonlyMap<string, string>;
}

/** The fields of emojibase's compact data that are read here. */
export interface CompactEmoji {
  hexcode: string;
  label: string;
  unicode: string;
  group?: number;
  order?: number;
  tags?: readonly string[];
}

/** emojibase's shortcode files: hexcode to one shortcode or several. */
export type ShortcodeFile = Readonly<Record<string, string | readonly string[]>>;

/** emojibase's group of components (skin tones, hair). */
const COMPONENT_GROUP = 2;

export function buildEmojiData(compact: readonly CompactEmoji[], shortcodes: ShortcodeFile): EmojiData {
  const list: Emoji[] = [];
  const byShortcode = new Map<string, string>();
  const names = new Map<string, string>();
  const sorted = compact.filter((e) => e.group !== undefined && e.group !== COMPONENT_GROUP).sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  for (const entry of sorted) {
    const unicode = canonical(entry.unicode);
    const codes = shortcodes[entry.hexcode];
    const list_ = codes === undefined ? [] : typeof codes === 'string' ? [codes] : [...codes];
    list.push({ emoji: unicode, label: entry.label, group: entry.group ?? 0, shortcodes: list_, tags: entry.tags ?? [] });
    names.set(unicode, entry.label);
    for (const code of list_) if (!byShortcode.has(code.toLowerCase())) byShortcode.set(code.toLowerCase(), unicode);
  }
  return { list, byShortcode, names };
}

/**
 * The emoji as most keyboards type it: no variation selector after a
 * character that is shown as emoji anyway (👍, not 👍 + U+FE0F), so the same
 * reaction from the picker and from elsewhere is one chip.
 */
export function canonical(emoji: string): string {
  return emoji.replace(/(\p{Emoji_Presentation})\uFE0F/gu, '$1');
}

/**
 * Emoji matching every word of the query, best first: a shortcode or name
 * equal to the query, then starting with it, then containing it, then a
 * tag. A leading colon is ignored, so ":tad" finds 🎉.
 */
export function searchEmoji(data: EmojiData, query: string, limit = 120): Emoji[] {
  const words = query.toLowerCase().replace(/^:|:$/g, '').split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return [];
  const scored: { emoji: Emoji; score: number }[] = [];
  for (const emoji of data.list) {
    let total = 0;
    for (const word of words) {
      const score = scoreWord(emoji, word);
      if (score === 0) {
        total = 0;
        break;
      }
      total += score;
    }
    if (total > 0) scored.push({ emoji, score: total });
  }
  // Stable: equal scores keep the standard order.
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((s) => s.emoji);
}

function scoreWord(emoji: Emoji, word: string): number {
  const label = emoji.label.toLowerCase();
  if (emoji.shortcodes.some((c) => c === word) || label === word) return 100;
  if (emoji.shortcodes.some((c) => c.startsWith(word)) || label.split(/[\s:,-]+/).some((w) => w.startsWith(word))) return 50;
  if (emoji.shortcodes.some((c) => c.includes(word)) || label.includes(word)) return 20;
  if (emoji.tags.some((t) => t.startsWith(word))) return 10;
  return 0;
}

/** A `:shortcode:` (letters, digits, `_`, `+`, `-`), not glued to a word or another colon before it. */
const SHORTCODE = /(^|[^\w:])(:[a-z0-9_+-]+:)/gi;
/** Fenced code blocks and inline code spans, which keep their text. */
const CODE = /(```[\s\S]*?(?:```|$)|`[^`\n]*`)/g;

/** Whether the text has something that may be a shortcode (outside code). */
export function hasShortcode(text: string): boolean {
  return text.split(CODE).some((part, i) => i % 2 === 0 && new RegExp(SHORTCODE.source, 'i').test(part));
}

/** The text with every known `:shortcode:` outside code replaced by its emoji; unknown ones stay. */
export function replaceShortcodes(text: string, byShortcode: ReadonlyMap<string, string>): string {
  return text
    .split(CODE)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(SHORTCODE, (match, lead: string, code: string) => {
            const emoji = byShortcode.get(code.slice(1, -1).toLowerCase());
            return emoji === undefined ? match : lead + emoji;
          }),
    )
    .join('');
}

/** Where the recently used emoji are kept (this browser only; emoji are not secret). */
export const RECENT_KEY = 'securechat.recentEmoji';
export const RECENT_MAX = 24;

/** The recently used emoji, newest first. */
export function recentEmoji(storage: Pick<Storage, 'getItem'> | null): string[] {
  try {
    const raw = storage?.getItem(RECENT_KEY);
    const value: unknown = raw == null ? [] : JSON.parse(raw);
    return Array.isArray(value) ? value.filter((e): e is string => typeof e === 'string' && e !== '').slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

/** Puts an emoji first in the recently used list, keeping at most RECENT_MAX. */
export function rememberEmoji(storage: Pick<Storage, 'getItem' | 'setItem'> | null, emoji: string): string[] {
  const next = [emoji, ...recentEmoji(storage).filter((e) => e !== emoji)].slice(0, RECENT_MAX);
  try {
    storage?.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // Storage full or disabled: the list lasts for this page only.
  }
  return next;
}
