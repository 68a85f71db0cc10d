import { describe, expect, it } from 'vitest';
import { actionOf, escapedSlash, meText, parseCommand, planCommand, suggestCommands } from './commands.ts';

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
    expect(suggestCommands('/', registered)?.map((s) => s.name)).toEqual(['me', 'topic', 'invite', 'kick', 'leave', 'mute', 'help', 'weather', 'deploy']);
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
