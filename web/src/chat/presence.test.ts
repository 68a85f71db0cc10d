import { describe, expect, it } from 'vitest';
import { withSnapshot } from './presence.ts';

describe('presence snapshot', () => {
  it('marks the listed users online and keeps me online', () => {
    expect(withSnapshot({}, [2, 3], 1)).toEqual({ 1: true, 2: true, 3: true });
  });

  it('turns users known online but no longer listed offline', () => {
    expect(withSnapshot({ 1: true, 2: true, 3: true, 4: false }, [3], 1)).toEqual({ 1: true, 2: false, 3: true });
  });
});
