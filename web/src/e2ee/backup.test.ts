import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiFailure, fakeApi, jsonResponse, requestsMade } from '../test-support.ts';
import { backupProblem, backupState, backupUpdatedAt, passphraseProblem, reminderSnoozed } from './backup.ts';
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

  it('is none when the server has no backup (404), so the reminder shows', async () => {
    fakeApi({ [BACKUP]: [apiFailure(404, 'no_backup', 'You have not stored a key backup')] });
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
    fakeApi({ [BACKUP]: [apiFailure(404, 'no_backup', 'none')] });
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
