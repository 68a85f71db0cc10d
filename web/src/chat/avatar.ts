// Avatars until profile pictures exist: a person's initials on a colour
// picked from their user id, so that everyone sees the same colour for the
// same person. The initials are white on every colour of the palette, each
// dark enough for WCAG AA text contrast (4.5:1) in both themes.

/** Background colours; white initials on each have a contrast of at least 4.5:1 (avatar.test.ts). */
export const AVATAR_COLOURS = ['#1f6f5c', '#1d5f99', '#5b4a9e', '#8e3b46', '#8a4b08', '#a3306b', '#2f6b2f', '#4a5568'] as const;

/** The colour of a person: from the user id, or from the name when the id is not known. */
export function avatarColour(key: number | string): string {
  let n: number;
  if (typeof key === 'number') {
    n = Math.abs(Math.trunc(key));
  } else {
    n = 0;
    for (const ch of key) n = (n * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  }
  return AVATAR_COLOURS[n % AVATAR_COLOURS.length] ?? AVATAR_COLOURS[0];
}

/**
 * Up to two initials: the first letters of the first two words of the name
 * (split on spaces, dots, dashes and underscores), else its first two
 * letters; "?" for an empty name.
 */
export function initials(username: string): string {
  const words = username.split(/[\s._-]+/u).filter((w) => w !== '');
  const letters = words.length >= 2 ? [first(words[0] ?? ''), first(words[1] ?? '')] : Array.from(words[0] ?? '').slice(0, 2);
  const result = letters.join('').toLocaleUpperCase();
  return result === '' ? '?' : result;
}

function first(word: string): string {
  return Array.from(word)[0] ?? '';
}

/** WCAG relative luminance of a `#rrggbb` colour. */
export function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
}

/** WCAG contrast ratio of two `#rrggbb` colours. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
