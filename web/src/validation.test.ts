import { describe, expect, it } from 'vitest';
import {
  firstInvalidField,
  newPasswordProblem,
  normalizeUsername,
  usernameProblem,
  validateLogin,
  validatePasswordChange,
  validateRegistration,
} from './validation.ts';

describe('usernameProblem', () => {
  it('accepts 3 to 32 letters, digits and _ . -', () => {
    for (const name of ['bob', 'alice_1', 'j.doe-2', 'A'.repeat(32), '___']) {
      expect(usernameProblem(name), name).toBeNull();
    }
  });

  it('rejects empty, short and long names', () => {
    expect(usernameProblem('')).toBe('Enter a username.');
    expect(usernameProblem('ab')).toMatch(/3 to 32 characters/);
    expect(usernameProblem('a'.repeat(33))).toMatch(/3 to 32 characters/);
  });

  it('rejects other characters, including spaces and non-ASCII letters', () => {
    for (const name of ['al ice', 'alice!', 'al@ce', 'zoë', 'a/b']) {
      expect(usernameProblem(name), name).toMatch(/may only contain/);
    }
  });
});

describe('normalizeUsername', () => {
  it('drops surrounding white space only', () => {
    expect(normalizeUsername('  alice \t')).toBe('alice');
    expect(normalizeUsername('Alice')).toBe('Alice');
  });
});

describe('newPasswordProblem', () => {
  it('needs at least 8 characters', () => {
    expect(newPasswordProblem('')).toBe('Enter a password.');
    expect(newPasswordProblem('1234567')).toMatch(/at least 8/);
    expect(newPasswordProblem('12345678')).toBeNull();
  });

  it('counts characters, not UTF-16 units', () => {
    // Four emoji are eight UTF-16 units but only four characters.
    expect(newPasswordProblem('😀😀😀😀')).toMatch(/at least 8/);
  });

  it('keeps spaces: they are part of a password', () => {
    expect(newPasswordProblem('        ')).toBeNull();
  });
});

describe('validateLogin', () => {
  it('only asks for both fields', () => {
    expect(validateLogin({ username: 'al', password: 'x' })).toEqual({});
    expect(validateLogin({ username: '  ', password: '' })).toEqual({
      username: 'Enter your username.',
      password: 'Enter your password.',
    });
  });
});

describe('validateRegistration', () => {
  it('accepts a valid form', () => {
    expect(validateRegistration({ username: ' dave ', password: 'correct horse', confirmPassword: 'correct horse' })).toEqual({});
  });

  it('reports every invalid field', () => {
    expect(validateRegistration({ username: 'x', password: 'short', confirmPassword: '' })).toEqual({
      username: 'Username must be 3 to 32 characters long.',
      password: 'Password must be at least 8 characters long.',
    });
  });

  it('requires the confirmation to match', () => {
    expect(validateRegistration({ username: 'dave', password: 'password123', confirmPassword: 'password124' })).toEqual({
      confirmPassword: 'Passwords do not match.',
    });
  });
});

describe('validatePasswordChange', () => {
  it('needs the current password and a valid, confirmed new one', () => {
    expect(validatePasswordChange({ currentPassword: '', newPassword: 'new', confirmPassword: 'new' })).toEqual({
      currentPassword: 'Enter your current password.',
      newPassword: 'Password must be at least 8 characters long.',
    });
    expect(validatePasswordChange({ currentPassword: 'old', newPassword: 'newpassword', confirmPassword: 'newpasswort' })).toEqual({
      confirmPassword: 'Passwords do not match.',
    });
    expect(validatePasswordChange({ currentPassword: 'old', newPassword: 'newpassword', confirmPassword: 'newpassword' })).toEqual({});
  });
});

describe('firstInvalidField', () => {
  it('follows the order of the form, not of the errors object', () => {
    expect(firstInvalidField({ confirmPassword: 'x', username: 'y' }, ['username', 'password', 'confirmPassword'])).toBe('username');
    expect(firstInvalidField({}, ['username'])).toBeNull();
  });
});
