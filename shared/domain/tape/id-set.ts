import { hash64, hashOut } from '../engine/hash.ts';

/**
 * Set of loan ids seen in a tape, for duplicate detection, kept as the engine's 64-bit id hashes
 * (the same hashes the previous-tape lookup and the cross-shard repeat check use) in one
 * open-addressing table of 8-byte slots. No id text is stored: 16 bytes a loan at most instead of
 * ~40 with an arena of UTF-16 copies. An insert into the table is one random memory access, the
 * largest single cost of a row on this machine, so while the ids arrive sorted the table is not
 * used at all (see `ordered`): 8 bytes a loan, written in sequence. Two distinct ids share a 64-bit hash with probability ~n²/2^65: about 3e-8
 * for a 1M-row tape, 3e-4 for a 100M-row one; such a pair would be quarantined as
 * DUPLICATE_LOAN_ID, with its line and raw text, never dropped silently.
 */
export class IdSet {
  private mask: number;
  /** Per slot: [hash hi, hash lo]; (0, 0) marks an empty slot (hash64 never returns it). */
  private table: Uint32Array;
  /** Ids held (seeded ones included). */
  public size = 0;
  /**
   * While every id has arrived in increasing order (most exports are sorted by loan id), a new id
   * greater than the last one cannot be a repeat: its hash is only appended here (sequential
   * memory) and the table is left empty. The first id out of order, or a seed (see `seed`), moves
   * these into the table, and from then on every id goes through the table.
   */
  private ordered: Uint32Array | null;
  private orderedCount = 0;
  private lastId = '';

  /** Sized for about `expectedIds` ids (it grows past that). */
  public constructor(expectedIds = 1 << 14) {
    let cap = 16;
    while (cap * 3 < expectedIds * 4) cap *= 2;
    this.mask = cap - 1;
    this.table = new Uint32Array(0);
    this.ordered = new Uint32Array(Math.max(64, Math.ceil(expectedIds)) * 2);
  }

  /**
   * Adds an id given with its 64-bit hash (hi, lo) from hash64; false when it was already there.
   * The id itself is only compared with the previous one (see `ordered`).
   */
  public addId(id: string, hi: number, lo: number): boolean {
    const ordered = this.ordered;
    if (ordered !== null) {
      if (this.orderedCount === 0 || id > this.lastId) {
        if (this.orderedCount * 2 === ordered.length) {
          const grown = new Uint32Array(ordered.length * 2);
          grown.set(ordered);
          this.ordered = grown;
        }
        this.ordered![this.orderedCount * 2] = hi;
        this.ordered![this.orderedCount * 2 + 1] = lo;
        this.orderedCount++;
        this.size++;
        this.lastId = id;
        return true;
      }
      this.leaveOrder();
    }
    return this.addHash(hi, lo);
  }

  /**
   * Holds the ids whose 64-bit hashes `pairs` gives as [hi, lo] pairs (hash64's halves: the ids of
   * a tape's earlier shards), so that addId refuses them as repeats. A seeded set leaves its
   * in-order path for good, as an id greater than the last one may still be a seeded one; a seed
   * of no pairs changes nothing.
   */
  public seed(pairs: Uint32Array): void {
    if (pairs.length % 2 !== 0) throw new RangeError(`id hash pairs have an odd length ${pairs.length}`);
    const n = pairs.length / 2;
    if (n === 0) return;
    if (this.ordered !== null) this.leaveOrder(n);
    for (let i = 0; i < n; i++) {
      const hi = pairs[i * 2]!;
      const lo = pairs[i * 2 + 1]!;
      // hash64 never gives (0, 0), the empty slot: it gives (0, 1) instead.
      this.addHash(hi, hi === 0 && lo === 0 ? 1 : lo);
    }
  }

  /** Moves the in-order hashes into the table (sized for `more` ids besides): ids no longer arrive in order. */
  private leaveOrder(more = 0): void {
    const ordered = this.ordered!;
    const n = this.orderedCount;
    this.ordered = null;
    this.orderedCount = 0;
    this.lastId = '';
    this.size = 0;
    let cap = this.mask + 1;
    while (cap * 3 < (n + more) * 4) cap *= 2;
    this.mask = cap - 1;
    this.table = new Uint32Array(cap * 2);
    for (let i = 0; i < n; i++) this.addHash(ordered[i * 2]!, ordered[i * 2 + 1]!);
  }

  /** Adds an id; false when it was already there. */
  public add(id: string): boolean {
    hash64(id);
    return this.addId(id, hashOut.hi, hashOut.lo);
  }

  /**
   * Adds an id known by its 64-bit hash only (another shard's, say): with no id text to compare,
   * the set leaves its in-order path first. False when it was already there.
   */
  public addIdHash(hi: number, lo: number): boolean {
    if (this.ordered !== null) this.leaveOrder();
    return this.addHash(hi, lo);
  }

  /** Adds the id whose 64-bit hash is (hi, lo); false when it was already there. */
  private addHash(hi: number, lo: number): boolean {
    const table = this.table;
    const mask = this.mask;
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & mask;
    for (;;) {
      const a = table[slot * 2]!;
      const b = table[slot * 2 + 1]!;
      if (a === 0 && b === 0) break;
      if (a === hi && b === lo) return false;
      slot = (slot + 1) & mask;
    }
    table[slot * 2] = hi;
    table[slot * 2 + 1] = lo;
    // Grow at 3/4 full: probes stay short and the table stays small.
    if (++this.size * 4 > mask * 3) this.grow();
    return true;
  }

  /** True when the id was added before. */
  public has(id: string): boolean {
    if (this.ordered !== null) this.leaveOrder();
    hash64(id);
    const { hi, lo } = hashOut;
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
    for (;;) {
      const a = this.table[slot * 2]!;
      const b = this.table[slot * 2 + 1]!;
      if (a === 0 && b === 0) return false;
      if (a === hi && b === lo) return true;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    const table = new Uint32Array(cap * 2);
    for (let j = 0; j < old.length; j += 2) {
      const hi = old[j]!;
      const lo = old[j + 1]!;
      if (hi === 0 && lo === 0) continue;
      let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & this.mask;
      while (table[slot * 2] !== 0 || table[slot * 2 + 1] !== 0) slot = (slot + 1) & this.mask;
      table[slot * 2] = hi;
      table[slot * 2 + 1] = lo;
    }
    this.table = table;
  }
}
