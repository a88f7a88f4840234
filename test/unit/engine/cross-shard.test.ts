import { describe, expect, it } from 'vitest';
import { countCrossShardRepeats } from '../../../shared/use-cases/audit-engine.ts';

const sorted = (values: bigint[]): BigUint64Array => BigUint64Array.from(values).sort();

describe('Function: countCrossShardRepeats', () => {
  it('counts every copy after the first of ids found in several shards', () => {
    const big = 0xffff_ffff_0000_0001n; // high half above 2^31: compared unsigned
    const shards = [
      sorted([1n, 5n, 9n, big]),
      sorted([2n, 5n, big, 0x1_0000_0000n]),
      sorted([5n, 7n, 0x1_0000_0000n]),
    ];
    // 5 is in three shards (2 repeats), big in two (1), 2^32 in two (1): 4.
    expect(countCrossShardRepeats(shards)).toBe(4);
  });

  it('finds none when the shards are disjoint, and handles empty and single shards', () => {
    expect(countCrossShardRepeats([sorted([1n, 3n]), sorted([2n, 4n]), sorted([])])).toBe(0);
    expect(countCrossShardRepeats([sorted([1n, 2n, 3n])])).toBe(0);
    expect(countCrossShardRepeats([])).toBe(0);
  });

  it('agrees with sorting everything together, on random shards', () => {
    let x = 12345;
    const rand = (): bigint => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return BigInt(x % 5000) * 0x1_0000_0001n;
    };
    const shards = Array.from({ length: 5 }, () => sorted([...new Set(Array.from({ length: 900 }, rand))]));
    const all = sorted(shards.flatMap((s) => [...s]));
    let expected = 0;
    for (let i = 1; i < all.length; i++) if (all[i] === all[i - 1]) expected++;
    expect(expected).toBeGreaterThan(100);
    expect(countCrossShardRepeats(shards)).toBe(expected);
  });
});
