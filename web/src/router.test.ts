import { describe, expect, it } from 'vitest';
import { HOME_PATH, LOGIN_PATH, matchRoute, redirectFor } from './router.ts';

describe('matchRoute', () => {
  it('knows the pages, with or without a trailing slash', () => {
    expect(matchRoute('/').name).toBe('home');
    expect(matchRoute('/login').name).toBe('login');
    expect(matchRoute('/login/').name).toBe('login');
    expect(matchRoute('/register').name).toBe('register');
    expect(matchRoute('/account').name).toBe('account');
  });

  it('reads the channel id of a channel page', () => {
    expect(matchRoute('/channels/42')).toMatchObject({ name: 'channel', access: 'member', channelId: 42 });
    expect(matchRoute('/channels/0').name).toBe('not-found');
    expect(matchRoute('/channels/abc').name).toBe('not-found');
  });

  it('answers anything else with not-found', () => {
    expect(matchRoute('/nope').name).toBe('not-found');
    expect(matchRoute('/login/extra').name).toBe('not-found');
  });
});

describe('redirectFor', () => {
  it('sends signed-out visitors of member pages to the login page', () => {
    expect(redirectFor(matchRoute('/'), 'anonymous')).toBe(LOGIN_PATH);
  });

  it('offline, opens only the chat: the account and guest pages send to the start page', () => {
    expect(redirectFor(matchRoute('/account'), 'offline')).toBe(HOME_PATH);
    expect(redirectFor(matchRoute('/login'), 'offline')).toBe(HOME_PATH);
  });

  it('sends signed-in users away from the login and register pages', () => {
    expect(redirectFor(matchRoute('/login'), 'signed-in')).toBe(HOME_PATH);
    expect(redirectFor(matchRoute('/register'), 'signed-in')).toBe(HOME_PATH);
  });

  it('lets everyone else stay, and decides nothing before the session is known', () => {
    expect(redirectFor(matchRoute('/'), 'signed-in')).toBeNull();
    expect(redirectFor(matchRoute('/login'), 'anonymous')).toBeNull();
    expect(redirectFor(matchRoute('/'), 'loading')).toBeNull();
    expect(redirectFor(matchRoute('/'), 'unavailable')).toBeNull();
    expect(redirectFor(matchRoute('/'), 'offline')).toBeNull();
    expect(redirectFor(matchRoute('/channels/3'), 'offline')).toBeNull();
    expect(redirectFor(matchRoute('/nope'), 'anonymous')).toBeNull();
  });
});
