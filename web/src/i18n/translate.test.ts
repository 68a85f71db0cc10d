import { afterAll, describe, expect, it } from 'vitest';
import { ApiError, describeError } from '../api/errors.ts';
import { dayLabel } from '../chat/grouping.ts';
import { formatTime } from './format.ts';
import { language, setLanguage, t } from './index.ts';

// The same calls in English and, after the catalogue is loaded on demand,
// in Simplified Chinese.

afterAll(async () => {
  await setLanguage('en');
});

describe('t', () => {
  it('interpolates and picks English plural forms', () => {
    expect(t('errors.tooManyIn', { count: 1 })).toBe('Too many attempts, try again in 1 second.');
    expect(t('errors.tooManyIn', { count: 5 })).toBe('Too many attempts, try again in 5 seconds.');
    expect(t('errors.status', { status: 502 })).toContain('HTTP 502');
  });

  it('switches to Chinese, with its single plural form, dates and server error codes', async () => {
    await setLanguage('zh-CN');
    expect(language.value).toBe('zh-CN');
    expect(t('errors.tooManyIn', { count: 1 })).toBe('尝试次数过多，请在 1 秒后重试。');
    expect(t('errors.tooManyIn', { count: 5 })).toBe('尝试次数过多，请在 5 秒后重试。');
    expect(dayLabel('2026-03-03', new Date(2026, 2, 3, 12))).toBe('今天');
    expect(dayLabel('2026-01-15', new Date(2026, 2, 3, 12))).toBe('2026年1月15日星期四');
    expect(formatTime(new Date(2026, 0, 15, 14, 5))).toBe('14:05');
    expect(describeError(new ApiError(401, 'invalid_credentials', 'Wrong username or password'))).toBe('用户名或密码错误');
    // An unknown code keeps the server's words rather than showing nothing.
    expect(describeError(new ApiError(409, 'some_new_code', 'Something new'))).toBe('Something new');
  });

  it("keeps the server's own English sentence in English", async () => {
    await setLanguage('en');
    expect(describeError(new ApiError(403, 'insufficient_role', 'This needs the admin role in this room'))).toBe('This needs the admin role in this room');
  });
});
