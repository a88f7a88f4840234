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

/** An open-addressing set of 64-bit hashes held as (hi, lo) pairs; (0, 0) marks an empty slot. */
class HashSet {
  private slots: Uint32Array;
  private mask: number;
  private size = 0;

  public constructor(expected: number) {
    let cap = 1024;
    while (cap * 0.7 < expected) cap *= 2;
    this.slots = new Uint32Array(cap * 2);
    this.mask = cap - 1;
  }

  /** Adds a hash; false when it was already there. */
  public add(hi: number, lo: number): boolean {
    if ((this.size + 1) * 10 > (this.mask + 1) * 7) this.grow();
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const h = this.slots[i * 2]!;
      const l = this.slots[i * 2 + 1]!;
      if (h === 0 && l === 0) {
        this.slots[i * 2] = hi;
        this.slots[i * 2 + 1] = lo;
        this.size++;
        return true;
      }
      if (h === hi && l === lo) return false;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = (this.mask + 1) * 2 - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2)
      if (old[i] !== 0 || old[i + 1] !== 0) this.add(old[i]!, old[i + 1]!);
  }
}

const HI = 2n ** 32n;

/**
 * For each shard, in tape order, the sorted 64-bit hashes (hi * 2^32 + lo) of its loan ids that
 * an earlier shard already held, valid or quarantined there; null for a shard with none. A
 * shard's own ids are distinct (its validator quarantined its repeats), so each shard is checked
 * against the shards before it only.
 */
export function earlierIdsByShard(shards: readonly ShardIds[]): (BigUint64Array | null)[] {
  const seen = new HashSet(shards.reduce((n, s) => n + s.count + s.quarantinedFirst.length, 0));
  return shards.map((s) => {
    const repeats: bigint[] = [];
    const e = s.entries;
    for (let i = 0; i < s.count; i++) {
      const hi = e[i * 3]!;
      const lo = e[i * 3 + 1]!;
      if (!seen.add(hi, lo)) repeats.push(BigInt(hi) * HI + BigInt(lo));
    }
    for (const key of s.quarantinedFirst) {
      const v = BigInt(`0x${key}`);
      const hi = Number(v / HI);
      const lo = Number(v % HI);
      if (!seen.add(hi, lo)) repeats.push(v);
    }
    return repeats.length === 0 ? null : BigUint64Array.from(repeats).sort();
  });
}
