/**
 * Set of loan ids seen in a tape, for duplicate detection: an open-addressing table of FNV-1a
 * hashes beside the ids themselves (compared on a hash match, so it is exact). About twice as
 * fast as a Set<string> growing to a million ids, which matters in the per-row loop.
 */
export class IdSet {
  private mask: number;
  private hashes: Int32Array;
  private keys: (string | undefined)[];
  /** Ids held. */
  public size = 0;

  public constructor(capacity = 1 << 16) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.keys = new Array<string | undefined>(cap).fill(undefined);
  }

  private static hash(s: string): number {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h | 1; // 0 marks an empty slot
  }

  /** Adds an id; false when it was already there. */
  public add(id: string): boolean {
    const h = IdSet.hash(id);
    const hashes = this.hashes;
    const mask = this.mask;
    let i = h & mask;
    for (let x = hashes[i]!; x !== 0; x = hashes[i]!) {
      if (x === h && this.keys[i] === id) return false;
      i = (i + 1) & mask;
    }
    hashes[i] = h;
    this.keys[i] = id;
    if (++this.size * 2 > mask) this.grow();
    return true;
  }

  /** True when the id was added before. */
  public has(id: string): boolean {
    const h = IdSet.hash(id);
    let i = h & this.mask;
    for (let x = this.hashes[i]!; x !== 0; x = this.hashes[i]!) {
      if (x === h && this.keys[i] === id) return true;
      i = (i + 1) & this.mask;
    }
    return false;
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldKeys = this.keys;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.keys = new Array<string | undefined>(cap).fill(undefined);
    for (let j = 0; j < oldHashes.length; j++) {
      const h = oldHashes[j]!;
      if (h === 0) continue;
      let i = h & this.mask;
      while (this.hashes[i] !== 0) i = (i + 1) & this.mask;
      this.hashes[i] = h;
      this.keys[i] = oldKeys[j];
    }
  }
}
