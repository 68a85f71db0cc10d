import { describe, expect, it } from 'vitest';
import { MUTED_FOREVER, muteUntil, mutedForever } from './mute.ts';

describe('mute', () => {
  const now = new Date('2026-12-07T09:00:00Z');
  it('mutes for an hour, eight hours, a week, or until unmuted', () => {
    expect(muteUntil('1h', now)).toBe('2026-12-07T10:00:00.000Z');
    expect(muteUntil('8h', now)).toBe('2026-12-07T17:00:00.000Z');
    expect(muteUntil('week', now)).toBe('2026-12-14T09:00:00.000Z');
    expect(muteUntil('forever', now)).toBe(MUTED_FOREVER);
  });
  it('tells "until I unmute" from a time, in any form the server writes it', () => {
    expect(mutedForever(MUTED_FOREVER)).toBe(true);
    expect(mutedForever('9999-12-31T23:59:59+00:00')).toBe(true);
    expect(mutedForever(muteUntil('week', now))).toBe(false);
  });
});
