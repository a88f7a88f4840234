/**
 * Set of loan ids seen in a tape, for duplicate detection. Ids are copied as UTF-16 code units
 * into one growing typed-array arena and found through an open-addressing table of FNV-1a
 * hashes; equality is checked character by character, so the set is exact. Keeping no string
 * objects matters at a million ids: nothing for the garbage collector to copy or trace, and
 * about 40 bytes an id instead of 60.
 */
export class IdSet {
  private mask: number;
  private hashes: Int32Array;
  /** Arena offset of each slot's id. */
  private offsets: Int32Array;
  private lengths: Int32Array;
  private arena: Uint16Array;
  private used = 0;
  /** Ids held. */
  public size = 0;

  /** Sized for about `expectedIds` ids (it grows past that). */
  public constructor(expectedIds = 1 << 14) {
    let cap = 16;
    while (cap * 3 < expectedIds * 4) cap *= 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.offsets = new Int32Array(cap);
    this.lengths = new Int32Array(cap);
    this.arena = new Uint16Array(Math.max(1024, Math.ceil(expectedIds) * 12));
  }

  /** Adds an id; false when it was already there. */
  public add(id: string): boolean {
    return this.addAt(id, 0, id.length);
  }

  /** Adds text.slice(a, b) without making the slice; false when it was already there. */
  public addAt(text: string, a: number, b: number): boolean {
    let h = 0x811c9dc5 | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h |= 1; // 0 marks an empty slot
    const n = b - a;
    const hashes = this.hashes;
    const mask = this.mask;
    let slot = (h ^ (h >>> 16)) & mask;
    for (let x = hashes[slot]!; x !== 0; x = hashes[slot]!) {
      if (x === h && this.lengths[slot] === n && this.equals(slot, text, a, n)) return false;
      slot = (slot + 1) & mask;
    }
    if (this.used + n > this.arena.length) {
      const bigger = new Uint16Array(Math.max(this.arena.length * 2, this.used + n));
      bigger.set(this.arena);
      this.arena = bigger;
    }
    const arena = this.arena;
    const at = this.used;
    for (let i = 0; i < n; i++) arena[at + i] = text.charCodeAt(a + i);
    this.used += n;
    hashes[slot] = h;
    this.offsets[slot] = at;
    this.lengths[slot] = n;
    // Grow at 3/4 full: linear probing stays short, and the table stays small.
    if (++this.size * 4 > mask * 3) this.grow();
    return true;
  }

  /** True when the id was added before. */
  public has(id: string): boolean {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    h |= 1;
    let slot = (h ^ (h >>> 16)) & this.mask;
    for (let x = this.hashes[slot]!; x !== 0; x = this.hashes[slot]!) {
      if (x === h && this.lengths[slot] === id.length && this.equals(slot, id, 0, id.length)) return true;
      slot = (slot + 1) & this.mask;
    }
    return false;
  }

  private equals(slot: number, text: string, a: number, n: number): boolean {
    const arena = this.arena;
    const at = this.offsets[slot]!;
    for (let i = 0; i < n; i++) if (arena[at + i] !== text.charCodeAt(a + i)) return false;
    return true;
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldOffsets = this.offsets;
    const oldLengths = this.lengths;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.offsets = new Int32Array(cap);
    this.lengths = new Int32Array(cap);
    for (let j = 0; j < oldHashes.length; j++) {
      const h = oldHashes[j]!;
      if (h === 0) continue;
      let slot = (h ^ (h >>> 16)) & this.mask;
      while (this.hashes[slot] !== 0) slot = (slot + 1) & this.mask;
      this.hashes[slot] = h;
      this.offsets[slot] = oldOffsets[j]!;
      this.lengths[slot] = oldLengths[j]!;
    }
  }
}
