import { describe, expect, it } from 'vitest';
import { earlierIdsByShard, type ShardIds } from '../../../../shared/domain/engine/cross-shard.ts';

/** A shard's ids given as (hi, lo) pairs: valid ones as drift-index entries, quarantined first rows as hex. */
function shard(valid: [number, number][], quarantined: [number, number][] = []): ShardIds {
  const entries = new Uint32Array(valid.length * 3);
  valid.forEach(([hi, lo], i) => {
    entries[i * 3] = hi;
    entries[i * 3 + 1] = lo;
    entries[i * 3 + 2] = 7;
  });
  return {
    entries,
    count: valid.length,
    quarantinedFirst: quarantined.map(
      ([hi, lo]) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0'),
    ),
  };
}

/** hi * 2^32 + lo, as the earlier-id files hold them. */
const h = (hi: number, lo: number): bigint => BigInt(hi) * 2n ** 32n + BigInt(lo);

describe('Function: earlierIdsByShard', () => {
  it('names, per shard, the ids an earlier shard held, valid or quarantined there, sorted', () => {
    // Prepare: shard 0 holds A and B valid and C quarantined; shard 1 repeats B (valid) and C
    // (valid: its first row was quarantined in shard 0) and adds D; shard 2 repeats A
    // (quarantined there) and D, and adds E.
    const [A, B, C, D, E] = [
      [1, 10],
      [2, 20],
      [0xffffffff, 30],
      [4, 0xfffffffe],
      [5, 50],
    ] as [number, number][];
    const shards = [shard([A!, B!], [C!]), shard([D!, C!, B!]), shard([E!, D!], [A!])];

    // Act
    const earlier = earlierIdsByShard(shards);

    // Assess
    expect(earlier[0]).toBeNull();
    expect([...earlier[1]!]).toEqual([h(2, 20), h(0xffffffff, 30)]);
    expect([...earlier[2]!]).toEqual([h(1, 10), h(4, 0xfffffffe)]);
  });

  it('finds nothing when every id is in one shard only, however many ids (the set grows)', () => {
    // Prepare: 5,000 distinct ids over three shards.
    const ids = Array.from({ length: 5000 }, (_, i): [number, number] => [i + 1, (i * 2654435761) >>> 0]);
    const shards = [
      shard(ids.slice(0, 2000)),
      shard(ids.slice(2000, 4000), ids.slice(4000, 4500)),
      shard(ids.slice(4500)),
    ];

    // Act
    const earlier = earlierIdsByShard(shards);

    // Assess: and one repeat of the first id in the last shard is found among them.
    expect(earlier).toEqual([null, null, null]);
    const again = earlierIdsByShard([...shards, shard([ids[0]!])]);
    expect([...again[3]!]).toEqual([h(ids[0]![0], ids[0]![1])]);
  });
});
