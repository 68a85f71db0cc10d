import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiFailure, fakeApi, jsonResponse, requestsMade } from '../test-support.ts';
import {
  backupProblem,
  backupState,
  backupUpdatedAt,
  confirmationProblem,
  confirmPositions,
  confirmRecoveryKey,
  loadEstimator,
  MIN_SCORE,
  newPassphraseProblem,
  normalizeWords,
  passphraseProblem,
  pendingKey,
  reminderSnoozed,
  storedKind,
  strengthProblem,
} from './backup.ts';
import { identityStatus } from './engine.ts';

const BACKUP = 'GET /api/users/me/key_backup';

afterEach(() => {
  identityStatus.value = { kind: 'off' };
  vi.unstubAllGlobals();
});

describe('backupState', () => {
  it('asks the server when the identity loaded from this browser is ready', async () => {
    const api = fakeApi({ [BACKUP]: [jsonResponse(200, { success: true, backup: 'blob', updated_at: '2026-12-01T10:00:00Z' })] });
    identityStatus.value = { kind: 'loading' };
    expect(backupState.value).toBe('unknown');
    identityStatus.value = { kind: 'ready', fingerprint: 'fp', fresh: false };
    await vi.waitFor(() => expect(backupState.value).toBe('stored'));
    expect(backupUpdatedAt.value).toBe('2026-12-01T10:00:00Z');
    expect(requestsMade(api)).toEqual([BACKUP]);
  });

  it('is none when the server has no backup, so the reminder shows', async () => {
    fakeApi({ [BACKUP]: [jsonResponse(200, { success: true, backup: null, updated_at: null })] });
    identityStatus.value = { kind: 'ready', fingerprint: 'fp', fresh: false };
    await vi.waitFor(() => expect(backupState.value).toBe('none'));
    expect(backupProblem.value).toBeNull();
  });

  it('is none at once for keys just made here: no stored backup can hold them', () => {
    const api = fakeApi({});
    identityStatus.value = { kind: 'ready', fingerprint: 'new', fresh: true };
    expect(backupState.value).toBe('none');
    expect(requestsMade(api)).toEqual([]);
  });

  it('is looked up when this browser needs a restore (restoring needs a backup)', async () => {
    fakeApi({ [BACKUP]: [jsonResponse(200, { success: true, backup: 'blob' })] });
    identityStatus.value = { kind: 'needs-restore' };
    await vi.waitFor(() => expect(backupState.value).toBe('stored'));
  });

  it('stays unknown, with the reason, when the server cannot say', async () => {
    fakeApi({ [BACKUP]: [apiFailure(500, 'internal', 'Internal error')] });
    identityStatus.value = { kind: 'ready', fingerprint: 'fp', fresh: false };
    await vi.waitFor(() => expect(backupProblem.value).toBe('Internal error'));
    expect(backupState.value).toBe('unknown');
  });

  it('forgets the state and the snoozed reminder on sign-out', async () => {
    fakeApi({ [BACKUP]: [jsonResponse(200, { success: true, backup: null, updated_at: null })] });
    identityStatus.value = { kind: 'ready', fingerprint: 'fp', fresh: false };
    await vi.waitFor(() => expect(backupState.value).toBe('none'));
    reminderSnoozed.value = true;
    identityStatus.value = { kind: 'off' };
    expect(backupState.value).toBe('unknown');
    expect(reminderSnoozed.value).toBe(false);
  });
});

describe('passphraseProblem', () => {
  it('wants at least 8 characters, typed the same twice', () => {
    expect(passphraseProblem('short', 'short')).toMatch(/at least 8 characters/);
    expect(passphraseProblem('long enough', 'long enougH')).toMatch(/do not match/);
    expect(passphraseProblem('long enough', 'long enough')).toBeNull();
  });
});

const WORDS = 'abandon ability able about above absent absorb abstract absurd abuse access accident';

describe('normalizeWords', () => {
  it('reads the words whatever the spacing, case, line breaks or copied numbering', () => {
    expect(normalizeWords(WORDS)).toBe(WORDS);
    expect(normalizeWords('  Abandon   ABILITY\table\n about above absent absorb abstract absurd abuse access accident \n')).toBe(WORDS);
    expect(normalizeWords('1 abandon 2 ability 3. able 4) about 5 above 6 absent 7 absorb 8 abstract 9 absurd 10 abuse 11 access 12 accident')).toBe(WORDS);
    expect(normalizeWords('abandon, ability,able; about')).toBe('abandon ability able about');
    // A typo stays one word, so the core can name its position.
    expect(normalizeWords('abandon abilty-x able')).toBe('abandon abilty-x able');
  });

  it('leaves nothing of blank input', () => {
    expect(normalizeWords(' \n\t ')).toBe('');
  });
});

describe('confirmPositions', () => {
  it('picks distinct positions in order from the random source', () => {
    const draws = [7, 7, 2];
    const random = (n: number) => {
      expect(n).toBe(12);
      return draws.shift() ?? 0;
    };
    expect(confirmPositions(12, 2, random)).toEqual([2, 7]);
  });

  it('draws with the CSPRNG, always two positions inside the key', () => {
    for (let i = 0; i < 200; i++) {
      const picked = confirmPositions(12, 2);
      expect(picked).toHaveLength(2);
      const [a, b] = picked as [number, number];
      expect(a).toBeLessThan(b);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(12);
    }
  });
});

describe('confirmationProblem', () => {
  const words = WORDS.split(' ');
  it('accepts the words at the positions asked, in any case and spacing', () => {
    expect(confirmationProblem(words, [0, 11], ['abandon', 'accident'])).toBeNull();
    expect(confirmationProblem(words, [3, 5], ['  About', 'ABSENT '])).toBeNull();
  });

  it('names the position that is missing or wrong (counted from 1)', () => {
    expect(confirmationProblem(words, [3, 5], ['about', ''])).toBe('Type word 6 of your recovery key.');
    expect(confirmationProblem(words, [3, 5], ['absent', 'about'])).toMatch(/^Word 4 does not match/);
    expect(confirmationProblem(words, [3, 5], ['about', 'absorb'])).toMatch(/^Word 6 does not match/);
  });
});

describe('pendingKey', () => {
  it('is forgotten on sign-out, with the words', () => {
    pendingKey.value = { words: WORDS.split(' '), positions: [1, 2], store: () => Promise.resolve(), stored: false };
    identityStatus.value = { kind: 'ready', fingerprint: 'fp', fresh: true };
    identityStatus.value = { kind: 'off' };
    expect(pendingKey.value).toBeNull();
  });

  it('stores the backup only once the words match', async () => {
    const store = vi.fn(() => Promise.resolve());
    pendingKey.value = { words: WORDS.split(' '), positions: [0, 1], store, stored: false };
    expect(await confirmRecoveryKey(['abandon', 'able'])).toMatch(/^Word 2 does not match/);
    expect(store).not.toHaveBeenCalled();
    expect(pendingKey.value).not.toBeNull();
    expect(await confirmRecoveryKey(['Abandon', ' ability'])).toBeNull();
    expect(store).toHaveBeenCalledTimes(1);
    expect(pendingKey.value).toBeNull();
    expect(backupState.value).toBe('stored');
    expect(storedKind.value).toBe('recovery_key');
  });
});

describe('strengthProblem', () => {
  const strong = { score: 3, warning: null, suggestions: [] } as const;
  it('refuses scores below 3 with the estimator feedback', () => {
    for (const score of [0, 1, 2] as const) {
      const problem = strengthProblem('whatever', { score, warning: 'This is a top-10 common password.', suggestions: ['Add more words.'] }, null);
      expect(problem).toMatch(/too easy to guess\. This is a top-10 common password\. Add more words\./);
    }
    expect(strengthProblem('whatever', strong, null)).toBeNull();
    expect(strengthProblem('whatever', { ...strong, score: 4 }, null)).toBeNull();
  });

  it('refuses the login password typed in this page, and skips the check when it is unknown', () => {
    expect(strengthProblem('the login password', strong, 'the login password')).toMatch(/login password/);
    expect(strengthProblem('the login password', strong, 'another one')).toBeNull();
    expect(strengthProblem('the login password', strong, null)).toBeNull();
  });
});

describe('the zxcvbn estimator', () => {
  it('scores common passwords low and several unrelated words high', async () => {
    const estimate = await loadEstimator();
    expect(estimate('password1').score).toBeLessThan(MIN_SCORE);
    expect(estimate('qwertyuiop').score).toBeLessThan(MIN_SCORE);
    expect(estimate('correct horse battery staple').score).toBeGreaterThanOrEqual(MIN_SCORE);
    const weak = estimate('password1');
    expect(strengthProblem('password1', weak, null)).toMatch(/too easy to guess/);
  });

  it('newPassphraseProblem puts the checks together', async () => {
    expect(await newPassphraseProblem('short', 'short')).toMatch(/at least 8/);
    expect(await newPassphraseProblem('password1', 'password1')).toMatch(/too easy to guess/);
    expect(await newPassphraseProblem('correct horse battery staple', 'correct horse battery staple')).toBeNull();
  });
});
