import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactAdd, exactMerge, exactSumValue } from '../../../../shared/domain/engine/exact-sum.ts';

const sum = (xs: readonly number[]): number => {
  const p: number[] = [];
  for (const x of xs) exactAdd(p, x);
  return exactSumValue(p);
};

describe('Function: exactSumValue', () => {
  it('returns the correctly rounded sum where naive addition drifts', () => {
    expect(sum(Array.from({ length: 10 }, () => 0.1))).toBe(1);
    expect(Array.from({ length: 10 }, () => 0.1).reduce((s, x) => s + x, 0)).not.toBe(1);
    expect(sum([1e100, 1, -1e100])).toBe(1);
    expect(sum([])).toBe(0);
    expect(sum([2 ** 53, 1, 1])).toBe(2 ** 53 + 2);
  });

  it('does not depend on the order of the terms or on how they are split and merged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true })),
        fc.nat(),
        (xs, cut) => {
          const reversed = [...xs].reverse();
          const sorted = [...xs].sort((a, b) => a - b);
          const k = xs.length === 0 ? 0 : cut % xs.length;
          const a: number[] = [];
          const b: number[] = [];
          for (const x of xs.slice(0, k)) exactAdd(a, x);
          for (const x of xs.slice(k)) exactAdd(b, x);

          const expected = sum(xs);
          expect(sum(reversed)).toBe(expected);
          expect(sum(sorted)).toBe(expected);
          expect(exactSumValue(exactMerge(b, a))).toBe(expected);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
