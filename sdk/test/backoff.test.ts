import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap', () => {
    const top = (a: number) => backoffDelay(a, { random: () => 0.999999, baseMs: 1000, maxMs: 30000 });
    expect(top(0)).toBe(999);
    expect(top(1)).toBe(1999);
    expect(top(3)).toBe(7999);
    expect(top(5)).toBe(29999);
    expect(top(50)).toBe(29999);
  });
  it('is fully jittered: anywhere from 0', () => {
    expect(backoffDelay(4, { random: () => 0 })).toBe(0);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(i % 10);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(30000);
    }
  });
});
