import { describe, expect, it } from 'vitest';
import { AVATAR_COLOURS, avatarColour, contrast, initials } from './avatar.ts';

describe('avatars', () => {
  it('keeps white initials at WCAG AA contrast on every colour', () => {
    for (const colour of AVATAR_COLOURS) expect(contrast(colour, '#ffffff'), colour).toBeGreaterThanOrEqual(4.5);
  });

  it('computes contrast as WCAG does', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 1);
  });

  it('gives a person the same colour every time, and neighbours different ones', () => {
    expect(avatarColour(42)).toBe(avatarColour(42));
    expect(avatarColour(1)).not.toBe(avatarColour(2));
    expect(AVATAR_COLOURS).toContain(avatarColour(-7));
    expect(avatarColour('alice')).toBe(avatarColour('alice'));
  });

  it('takes the initials of two words, or the first two letters', () => {
    expect(initials('alice')).toBe('AL');
    expect(initials('mary.jane')).toBe('MJ');
    expect(initials('li_wei-zhang')).toBe('LW');
    expect(initials('b')).toBe('B');
    expect(initials('élodie')).toBe('ÉL');
    expect(initials('王小明')).toBe('王小');
    expect(initials('')).toBe('?');
  });
});
