import { describe, expect, it } from 'vitest';
import { secondFactor } from './twofactor.ts';

describe('secondFactor', () => {
  it('sends six digits as a TOTP code and anything else as a recovery code', () => {
    expect(secondFactor(' 123456 ')).toEqual({ totp_code: '123456' });
    expect(secondFactor('abcde-fghjk')).toEqual({ recovery_code: 'abcde-fghjk' });
    expect(secondFactor('12345')).toEqual({ recovery_code: '12345' });
  });
});
