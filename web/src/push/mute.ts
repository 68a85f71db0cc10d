// "Mute for 1 hour / 8 hours / 1 week / until I unmute" as the time the
// server stores (`mute_until`, RFC 3339). "Until I unmute" is the last
// moment the server accepts, which no clock reaches.

export const MUTE_CHOICES = ['1h', '8h', 'week', 'forever'] as const;
export type MuteChoice = (typeof MUTE_CHOICES)[number];

/** The server's latest `mute_until`: "until I unmute". */
export const MUTED_FOREVER = '9999-12-31T23:59:59Z';

const HOUR_MS = 3600_000;
const DURATION_MS: Readonly<Record<Exclude<MuteChoice, 'forever'>, number>> = { '1h': HOUR_MS, '8h': 8 * HOUR_MS, week: 7 * 24 * HOUR_MS };

/** The `mute_until` for a choice made at `now`. */
export function muteUntil(choice: MuteChoice, now: Date): string {
  if (choice === 'forever') return MUTED_FOREVER;
  return new Date(now.getTime() + DURATION_MS[choice]).toISOString();
}

/** Whether a stored `mute_until` means "until I unmute" (the year 9999). */
export function mutedForever(muteUntil: string): boolean {
  return Date.parse(muteUntil) >= Date.parse('9999-01-01T00:00:00Z');
}
