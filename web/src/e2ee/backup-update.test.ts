// The backup kept up to date and a recovery key's upload, with the engine
// (the WASM core and the server) replaced by fakes.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const engine = vi.hoisted(() => {
  const listeners = new Set<() => void>();
  return {
    listeners,
    uploadBackupUpdate: vi.fn(() => Promise.resolve(true)),
    store: vi.fn(() => Promise.resolve()),
    changed: () => {
      for (const listener of listeners) listener();
    },
  };
});

vi.mock('./engine.ts', async () => {
  const { signal } = await import('@preact/signals');
  class E2eeError extends Error {
    constructor(
      message: string,
      readonly code = 'e2ee',
    ) {
      super(message);
    }
  }
  return {
    E2eeError,
    identityStatus: signal<{ kind: string; fingerprint?: string; fresh?: boolean }>({ kind: 'off' }),
    onStateChanged: (listener: () => void) => {
      engine.listeners.add(listener);
      return () => engine.listeners.delete(listener);
    },
    uploadBackupUpdate: engine.uploadBackupUpdate,
    newRecoveryKey: () => ({ words: 'abandon ability able about above absent absorb abstract absurd abuse access accident', store: engine.store }),
    backupKind: () => 'recovery_key',
    backupOpens: () => true,
    restoreFromBackup: () => Promise.resolve(),
    saveBackup: () => Promise.resolve(),
  };
});

const { backupState, confirmRecoveryKey, pendingKey, startRecoveryKey, UPDATE_DELAY_MS, abandonRecoveryKey } = await import('./backup.ts');
const { identityStatus } = await import('./engine.ts');

beforeEach(() => {
  vi.useFakeTimers();
  engine.uploadBackupUpdate.mockClear();
  engine.store.mockReset();
  engine.store.mockImplementation(() => Promise.resolve());
  (identityStatus as { value: unknown }).value = { kind: 'ready', fingerprint: 'fp', fresh: true };
});

afterEach(() => {
  (identityStatus as { value: unknown }).value = { kind: 'off' };
  vi.useRealTimers();
});

describe('keeping the backup up to date', () => {
  it('uploads once, 2 s after the last state change, when a backup is stored', async () => {
    backupState.value = 'stored';
    engine.changed();
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS / 2);
    engine.changed();
    engine.changed();
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS - 1);
    expect(engine.uploadBackupUpdate).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.uploadBackupUpdate).toHaveBeenCalledTimes(1);
  });

  it('does nothing while no backup is stored', async () => {
    backupState.value = 'none';
    engine.changed();
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS * 3);
    expect(engine.uploadBackupUpdate).not.toHaveBeenCalled();
  });

  it('stops on sign-out', async () => {
    backupState.value = 'stored';
    engine.changed();
    (identityStatus as { value: unknown }).value = { kind: 'off' };
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS * 3);
    expect(engine.uploadBackupUpdate).not.toHaveBeenCalled();
  });
});

describe('a new recovery key', () => {
  it('as the first backup: uploaded only once two words are confirmed; Cancel forgets it', async () => {
    backupState.value = 'none';
    await startRecoveryKey();
    expect(pendingKey.value?.words).toHaveLength(12);
    expect(pendingKey.value?.positions).toHaveLength(2);
    expect(engine.store).not.toHaveBeenCalled();
    abandonRecoveryKey();
    expect(pendingKey.value).toBeNull();

    await startRecoveryKey();
    const pending = pendingKey.value;
    if (pending === null) throw new Error('no pending key');
    const typed = pending.positions.map((p) => pending.words[p] ?? '');
    expect(await confirmRecoveryKey(typed.map((w) => `${w}x`))).toMatch(/does not match/);
    expect(engine.store).not.toHaveBeenCalled();
    expect(await confirmRecoveryKey(typed)).toBeNull();
    expect(engine.store).toHaveBeenCalledTimes(1);
    expect(backupState.value).toBe('stored');
  });

  it('as a replacement: uploaded at once (the core seals updates under it), confirmed after, not cancellable', async () => {
    backupState.value = 'stored';
    await startRecoveryKey();
    expect(engine.store).toHaveBeenCalledTimes(1);
    expect(pendingKey.value?.stored).toBe(true);
    abandonRecoveryKey();
    expect(pendingKey.value).not.toBeNull();
    const pending = pendingKey.value;
    if (pending === null) throw new Error('no pending key');
    expect(await confirmRecoveryKey(pending.positions.map((p) => pending.words[p] ?? ''))).toBeNull();
    expect(engine.store).toHaveBeenCalledTimes(1);
    expect(pendingKey.value).toBeNull();
  });

  it('whose replacement upload failed pauses the updates until it is confirmed (and uploaded)', async () => {
    backupState.value = 'stored';
    engine.store.mockImplementationOnce(() => Promise.reject(new Error('offline')));
    await expect(startRecoveryKey()).rejects.toThrow('offline');
    expect(pendingKey.value?.stored).toBe(false);
    engine.changed();
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS * 2);
    expect(engine.uploadBackupUpdate).not.toHaveBeenCalled();
    const pending = pendingKey.value;
    if (pending === null) throw new Error('no pending key');
    expect(await confirmRecoveryKey(pending.positions.map((p) => pending.words[p] ?? ''))).toBeNull();
    expect(engine.store).toHaveBeenCalledTimes(2);
    engine.changed();
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS);
    expect(engine.uploadBackupUpdate).toHaveBeenCalledTimes(1);
  });
});
