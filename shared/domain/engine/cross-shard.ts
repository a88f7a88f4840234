import { IdSet } from '../tape/id-set.ts';

/**
 * Loan ids repeated across the shards of one tape. Within a shard the row validator quarantines
 * a repeat (the first row wins, valid or not). A later shard never saw the earlier shards' ids,
 * so merge-audit takes every shard's ids in tape order and finds, for each shard, the ids an
 * earlier shard already held. Those shards are scored again, given these ids (ScanOptions
 * `earlierIds`), and then every row is as one pass over the tape would have it.
 */

/** One shard's distinct loan ids, each classed by its first row in the shard. */
export interface ShardIds {
  /** The valid loans' drift-index entries (uint32 triples: id hash hi, hash lo, meta), in row order. */
  entries: Uint32Array;
  count: number;
  /** The ids whose first row in the shard was quarantined, as 16 hex digits of their 64-bit hash. */
  quarantinedFirst: readonly string[];
}

const HI = 2n ** 32n;

/**
 * For each shard, in tape order, the sorted 64-bit hashes (hi * 2^32 + lo) of its loan ids that
 * an earlier shard already held, valid or quarantined there; null for a shard with none. A
 * shard's own ids are distinct (its validator quarantined its repeats), so each shard is checked
 * against the shards before it only.
 */
export function earlierIdsByShard(shards: readonly ShardIds[]): (BigUint64Array | null)[] {
  // Grown as it fills (not sized up front: the in-order buffer it would allocate goes unused).
  const seen = new IdSet();
  return shards.map((s) => {
    const repeats: bigint[] = [];
    const e = s.entries;
    for (let i = 0; i < s.count; i++) {
      const hi = e[i * 3]!;
      const lo = e[i * 3 + 1]!;
      if (!seen.addIdHash(hi, lo)) repeats.push(BigInt(hi) * HI + BigInt(lo));
    }
    for (const key of s.quarantinedFirst) {
      const v = BigInt(`0x${key}`);
      const hi = Number(v / HI);
      const lo = Number(v % HI);
      if (!seen.addIdHash(hi, lo)) repeats.push(v);
    }
    return repeats.length === 0 ? null : BigUint64Array.from(repeats).sort();
  });
}
