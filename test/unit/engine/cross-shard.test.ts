import { describe, expect, it } from 'vitest';
import { countCrossShardRepeats } from '../../../shared/use-cases/audit-engine.ts';

const sorted = (values: bigint[]): BigUint64Array => BigUint64Array.from(values).sort();
const valid = (...lists: bigint[][]) => lists.map((l) => ({ valid: sorted(l) }));

describe('Function: countCrossShardRepeats', () => {
  it('counts every copy after the first of ids found in several shards', () => {
    const big = 0xffff_ffff_0000_0001n; // high half above 2^31: compared unsigned
    const shards = valid([1n, 5n, 9n, big], [2n, 5n, big, 0x1_0000_0000n], [5n, 7n, 0x1_0000_0000n]);
    // 5 is in three shards (2 repeats), big in two (1), 2^32 in two (1): 4.
    expect(countCrossShardRepeats(shards)).toBe(4);
  });

  it('finds none when the shards are disjoint, and handles empty and single shards', () => {
    expect(countCrossShardRepeats(valid([1n, 3n], [2n, 4n], []))).toBe(0);
    expect(countCrossShardRepeats(valid([1n, 2n, 3n]))).toBe(0);
    expect(countCrossShardRepeats([])).toBe(0);
  });

  it('counts a valid loan whose id was first quarantined in an earlier shard, and only then', () => {
    const shards = [
      { valid: sorted([1n, 2n]), quarantined: sorted([7n, 8n]) },
      { valid: sorted([7n, 3n]), quarantined: sorted([9n]) },
      // 8 was quarantined first in shard 0; 9 in shard 1; 2 was valid in shard 0.
      { valid: sorted([8n, 9n, 2n, 4n]), quarantined: sorted([]) },
    ];
    expect(countCrossShardRepeats(shards)).toBe(4);
    // A quarantined row after the valid one is no repeat of it: one pass keeps the valid row too.
    expect(
      countCrossShardRepeats([
        { valid: sorted([5n]), quarantined: sorted([]) },
        { valid: sorted([]), quarantined: sorted([5n]) },
      ]),
    ).toBe(0);
    // An id both valid and first quarantined in earlier shards counts once per later copy.
    expect(
      countCrossShardRepeats([
        { valid: sorted([5n]) },
        { valid: sorted([]), quarantined: sorted([5n]) },
        { valid: sorted([5n]) },
      ]),
    ).toBe(1);
  });

  it('agrees with sorting everything together, on random shards', () => {
    let x = 12345;
    const rand = (): bigint => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return BigInt(x % 5000) * 0x1_0000_0001n;
    };
    const lists = Array.from({ length: 5 }, () => [...new Set(Array.from({ length: 900 }, rand))]);
    const all = sorted(lists.flat());
    let expected = 0;
    for (let i = 1; i < all.length; i++) if (all[i] === all[i - 1]) expected++;
    expect(expected).toBeGreaterThan(100);
    expect(countCrossShardRepeats(valid(...lists))).toBe(expected);
  });
});
