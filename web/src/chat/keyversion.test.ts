import { describe, expect, it } from 'vitest';
import { message } from '../test-support.ts';
import { currentKeyVersion, sealedUnderCurrentKey } from './keyversion.ts';

const sealed = (id: number, version: number) => message(id, { content: null, envelope: `e${id}`, key_version: version });

describe('currentKeyVersion', () => {
  it('is the channel’s version when no loaded message is newer', () => {
    expect(currentKeyVersion(2, [])).toBe(2);
    expect(currentKeyVersion(2, [sealed(1, 1), sealed(2, 2)])).toBe(2);
  });

  it('follows a newer version seen on a message (first key, or a rotation the rooms list does not know yet)', () => {
    expect(currentKeyVersion(0, [sealed(1, 1)])).toBe(1);
    expect(currentKeyVersion(1, [sealed(1, 1), sealed(2, 3), sealed(3, 2)])).toBe(3);
  });

  it('ignores messages without a key version', () => {
    expect(currentKeyVersion(1, [message(1)])).toBe(1);
  });
});

describe('sealedUnderCurrentKey', () => {
  it('allows an edit only under the current version', () => {
    expect(sealedUnderCurrentKey(sealed(1, 2), 2)).toBe(true);
    expect(sealedUnderCurrentKey(sealed(1, 1), 2)).toBe(false);
    expect(sealedUnderCurrentKey(message(1), 2)).toBe(false);
    expect(sealedUnderCurrentKey(sealed(1, 1), null)).toBe(false);
  });
});
