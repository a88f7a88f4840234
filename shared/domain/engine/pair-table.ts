import { fromBase64 } from './borrower-table.ts';

// Slot layout, 32 bytes: u32[0..1] first key (hi, lo), u32[2..3] second key, u32[4] and u32[5]
// counters, u32[6..7] unused. An empty slot has both keys zero.
const SLOT_U32 = 8;
/** Bytes per slot. */
export const PAIR_SLOT_BYTES = SLOT_U32 * 4;

/**
 * A set of (first, second) pairs of 64-bit hashes with two counters each: which borrowers belong
 * to which related-party group, and which borrowers a co-lending partner lends with (with their
 * co-lent loans not already in breach, by purpose). Open addressing, load at most 0.75. Merging
 * is a union that adds the counters: exact and commutative, so shards merge in any order.
 */
export class PairTable {
  public size = 0;
  private mask: number;
  private u32: Uint32Array;

  public constructor(expected = 64) {
    let cap = 64;
    while (cap * 0.75 < expected) cap *= 2;
    this.mask = cap - 1;
    this.u32 = new Uint32Array(cap * SLOT_U32);
  }

  /** Number of slots; iterate 0..capacity-1 and skip slots where `used(slot)` is false. */
  public get capacity(): number {
    return this.mask + 1;
  }

  public used(slot: number): boolean {
    const o = slot * SLOT_U32;
    const u = this.u32;
    return u[o] !== 0 || u[o + 1] !== 0 || u[o + 2] !== 0 || u[o + 3] !== 0;
  }

  public firstHi(slot: number): number {
    return this.u32[slot * SLOT_U32]!;
  }

  public firstLo(slot: number): number {
    return this.u32[slot * SLOT_U32 + 1]!;
  }

  public secondHi(slot: number): number {
    return this.u32[slot * SLOT_U32 + 2]!;
  }

  public secondLo(slot: number): number {
    return this.u32[slot * SLOT_U32 + 3]!;
  }

  public count0(slot: number): number {
    return this.u32[slot * SLOT_U32 + 4]!;
  }

  public count1(slot: number): number {
    return this.u32[slot * SLOT_U32 + 5]!;
  }

  /** Adds the pair (inserted when new) and its counters. */
  public add(aHi: number, aLo: number, bHi: number, bLo: number, c0: number, c1: number): void {
    const o = this.slotOf(aHi, aLo, bHi, bLo) * SLOT_U32;
    if (c0 !== 0) this.u32[o + 4] = this.u32[o + 4]! + c0;
    if (c1 !== 0) this.u32[o + 5] = this.u32[o + 5]! + c1;
  }

  /** Adds every pair of another table into this one. */
  public mergeTable(other: PairTable): void {
    const u = other.u32;
    for (let i = 0; i < other.capacity; i++) {
      if (!other.used(i)) continue;
      const o = i * SLOT_U32;
      this.add(u[o]!, u[o + 1]!, u[o + 2]!, u[o + 3]!, u[o + 4]!, u[o + 5]!);
    }
  }

  /** The used slots packed one after another, for a partial audit. */
  public pack(): Uint8Array {
    const out = new Uint32Array(this.size * SLOT_U32);
    let j = 0;
    for (let i = 0; i < this.capacity; i++) {
      if (!this.used(i)) continue;
      out.set(this.u32.subarray(i * SLOT_U32, (i + 1) * SLOT_U32), j * SLOT_U32);
      j++;
    }
    return new Uint8Array(out.buffer);
  }

  /** Adds packed slots (`pack`) into this table. */
  public mergePacked(bytes: ArrayBuffer, count: number): void {
    const u = new Uint32Array(bytes);
    for (let i = 0; i < count; i++) {
      const o = i * SLOT_U32;
      this.add(u[o]!, u[o + 1]!, u[o + 2]!, u[o + 3]!, u[o + 4]!, u[o + 5]!);
    }
  }

  private slotOf(aHi: number, aLo: number, bHi: number, bLo: number): number {
    const u = this.u32;
    let i = (aHi ^ Math.imul(aLo, 0x9e3779b1) ^ Math.imul(bHi ^ bLo, 0x85ebca6b)) & this.mask;
    for (;;) {
      const o = i * SLOT_U32;
      const a = u[o]!;
      const b = u[o + 1]!;
      const c = u[o + 2]!;
      const d = u[o + 3]!;
      if (a === aHi && b === aLo && c === bHi && d === bLo) return i;
      if (a === 0 && b === 0 && c === 0 && d === 0) {
        if ((this.size + 1) * 4 > this.capacity * 3) {
          this.grow();
          return this.slotOf(aHi, aLo, bHi, bLo);
        }
        u[o] = aHi;
        u[o + 1] = aLo;
        u[o + 2] = bHi;
        u[o + 3] = bLo;
        this.size++;
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.u32;
    const oldCap = this.capacity;
    this.mask = oldCap * 2 - 1;
    this.size = 0;
    this.u32 = new Uint32Array(oldCap * 2 * SLOT_U32);
    for (let i = 0; i < oldCap; i++) {
      const o = i * SLOT_U32;
      if (old[o] === 0 && old[o + 1] === 0 && old[o + 2] === 0 && old[o + 3] === 0) continue;
      const s = this.slotOf(old[o]!, old[o + 1]!, old[o + 2]!, old[o + 3]!) * SLOT_U32;
      this.u32[s + 4] = old[o + 4]!;
      this.u32[s + 5] = old[o + 5]!;
    }
  }
}

/** Compact, JSON-safe form of a pair table: its used slots packed, base64 little-endian. */
export interface SerializedPairs {
  count: number;
  slots: string;
}

/** Packs a pair table for a partial audit. */
export function serializePairs(t: PairTable): SerializedPairs {
  const bytes = t.pack();
  return {
    count: t.size,
    slots: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  };
}

/** A pair table from its packed form (`field` names it in an error). */
export function deserializePairs(s: SerializedPairs, field: string): PairTable {
  const t = new PairTable(s.count);
  if (s.count > 0) t.mergePacked(fromBase64(s.slots, s.count * PAIR_SLOT_BYTES, field), s.count);
  return t;
}
