import { describe, expect, it } from 'vitest';
import { actionOf, BUILT_IN_HINTS, escapedSlash, meText, parseCommand, parseRemind, planCommand, suggestCommands } from './commands.ts';

describe('parseCommand', () => {
  it('reads the name, the text and the people named', () => {
    expect(parseCommand('/Invite @bob and @carol.w ')).toEqual({ name: 'invite', text: '@bob and @carol.w', mentions: ['bob', 'carol.w'] });
    expect(parseCommand('/leave')).toEqual({ name: 'leave', text: '', mentions: [] });
    expect(parseCommand('/me   waves\nhello')).toEqual({ name: 'me', text: 'waves\nhello', mentions: [] });
  });

  it('leaves text that only looks like a command', () => {
    expect(parseCommand('hello /me')).toBeNull();
    expect(parseCommand('/path/to/file')).toBeNull();
    expect(parseCommand('/ 2')).toBeNull();
    expect(parseCommand('//me')).toBeNull();
    expect(parseCommand(`/${'x'.repeat(33)}`)).toBeNull();
    expect(escapedSlash('//me waves')).toBe('/me waves');
    expect(escapedSlash('/me waves')).toBeNull();
  });

  it('ignores addresses as mentions', () => {
    expect(parseCommand('/kick a@b.c @dave')?.mentions).toEqual(['dave']);
  });
});

describe('suggestCommands', () => {
  const registered = [
    { trigger: 'weather', description: 'The weather', usage_hint: '[city]' },
    { trigger: 'deploy', description: '', usage_hint: '' },
  ];

  it('lists built-ins then the room’s commands that start with what was typed', () => {
    expect(suggestCommands('/', registered)?.map((s) => s.name)).toEqual(['me', 'topic', 'invite', 'kick', 'leave', 'mute', 'remind', 'help', 'weather', 'deploy']);
    expect(suggestCommands('/W', registered)).toEqual([{ name: 'weather', hint: '[city]', description: 'The weather', builtIn: false }]);
    expect(suggestCommands('/m', registered)?.map((s) => s.name)).toEqual(['me', 'mute']);
    expect(suggestCommands('/zzz', registered)).toEqual([]);
  });

  it('stops once the trigger is typed or the text is no trigger', () => {
    expect(suggestCommands('/me ', registered)).toBeNull();
    expect(suggestCommands('hi', registered)).toBeNull();
    expect(suggestCommands('', registered)).toBeNull();
  });
});

describe('planCommand', () => {
  it('maps the built-ins', () => {
    expect(planCommand('/me waves', [], true)).toEqual({ kind: 'me', text: 'waves' });
    expect(planCommand('/me', [], false)).toEqual({ kind: 'usage', name: 'me', hint: '<action>' });
    expect(planCommand('/topic Release on Friday', [], false)).toEqual({ kind: 'topic', topic: 'Release on Friday' });
    expect(planCommand('/topic', [], false)).toEqual({ kind: 'topic', topic: '' });
    expect(planCommand('/invite @bob', [], true)).toEqual({ kind: 'invite', username: 'bob' });
    expect(planCommand('/kick bob', [], false)).toEqual({ kind: 'kick', username: 'bob' });
    expect(planCommand('/kick', [], false)).toEqual({ kind: 'usage', name: 'kick', hint: '@user' });
    expect(planCommand('/leave', [], true)).toEqual({ kind: 'leave' });
    expect(planCommand('/mute', [], false)).toEqual({ kind: 'mute' });
    expect(planCommand('/help', [], false)).toEqual({ kind: 'help' });
  });

  it('runs registered commands in plaintext channels only', () => {
    expect(planCommand('/weather paris', ['weather'], false)).toEqual({ kind: 'registered', name: 'weather', text: 'paris' });
    expect(planCommand('/weather paris', ['weather'], true)).toEqual({ kind: 'encrypted', name: 'weather' });
    expect(planCommand('/nope', ['weather'], false)).toEqual({ kind: 'unknown', name: 'nope' });
    expect(planCommand('just text', ['weather'], false)).toBeNull();
  });
});

describe('/me messages', () => {
  it('are read back as actions', () => {
    expect(actionOf(meText('waves'))).toBe('waves');
    expect(actionOf('/me')).toBeNull();
    expect(actionOf('/meow')).toBeNull();
    expect(actionOf('hello')).toBeNull();
  });
});

describe('/remind', () => {
  // A Monday, 15:00 local time.
  const now = new Date(2026, 11, 7, 15, 0, 0);

  it('reads "in N units", with or without "me" and "to"', () => {
    expect(parseRemind('me in 10 minutes to call Bob', now)).toEqual({ dueAt: now.getTime() + 600_000, note: 'call Bob' });
    expect(parseRemind('in 2 hours stand-up', now)).toEqual({ dueAt: now.getTime() + 7_200_000, note: 'stand-up' });
    expect(parseRemind('me in 1 week', now)).toEqual({ dueAt: now.getTime() + 604_800_000, note: '' });
    expect(parseRemind('in 3d to renew', now)?.dueAt).toBe(now.getTime() + 3 * 86_400_000);
  });

  it('reads "at HH:MM": today, or tomorrow once that time has passed', () => {
    expect(parseRemind('me at 16:30 to leave', now)).toEqual({ dueAt: new Date(2026, 11, 7, 16, 30).getTime(), note: 'leave' });
    expect(parseRemind('at 9:05 coffee', now)).toEqual({ dueAt: new Date(2026, 11, 8, 9, 5).getTime(), note: 'coffee' });
    expect(parseRemind('at 15:00 now', now)?.dueAt).toBe(new Date(2026, 11, 8, 15, 0).getTime());
  });

  it('refuses what it cannot read, so the composer shows the usage', () => {
    for (const text of ['', 'me', 'tomorrow', 'in ten minutes', 'in 0 minutes', 'in 5 fortnights', 'at 25:00', 'at 10:61']) {
      expect(parseRemind(text, now), text).toBeNull();
    }
    expect(planCommand('/remind soon', [], false, now)).toEqual({ kind: 'usage', name: 'remind', hint: BUILT_IN_HINTS.remind });
    expect(planCommand('/remind me in 5 minutes to stretch', [], true, now)).toEqual({ kind: 'remind', dueAt: now.getTime() + 300_000, note: 'stretch' });
  });
});
